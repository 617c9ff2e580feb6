"""Export/import of ``.bentomodel`` archives, and the hostile archives import must refuse."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bentotui import models, paths
from bentotui.exceptions import Conflict, ImportRejected, NotFound, StoreCorrupted
from bentotui.store.models import ModelStore


def _other_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "other-home"
    monkeypatch.setenv("BENTOTUI_HOME", str(home))
    return home


def test_round_trip_into_another_home(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = save("iris", labels={"stage": "prod"}, custom_objects={"k": [1, 2]})
    archive = models.export_model(model.tag, tmp_path)
    assert archive == tmp_path / f"iris-{model.tag.version}.bentomodel"
    _other_home(monkeypatch, tmp_path)
    assert models.list() == []
    imported = models.import_model(archive)
    assert imported.tag == model.tag
    assert imported.info == model.info
    assert imported.path == paths.models_dir() / "iris" / model.tag.version
    assert imported.provenance.state == "untrusted"  # an imported pickle loads once trusted
    ModelStore().trust(model.tag)
    assert ModelStore().verify(model.tag).custom_objects == {"k": [1, 2]}
    assert (imported.path / "extra" / "notes.txt").read_text() == "notes for iris"


def test_export_names_and_overwrite(save, tmp_path: Path) -> None:
    model = save("iris")
    assert models.export_model("iris", tmp_path / "named") == tmp_path / "named.bentomodel"
    assert models.export_model("iris", tmp_path / "x.tar") == tmp_path / "x.tar"
    with pytest.raises(Conflict, match="already exists"):
        models.export_model("iris", tmp_path / "x.tar")
    assert models.export_model(model.tag, tmp_path / "x.tar", force=True) == tmp_path / "x.tar"
    with pytest.raises(NotFound, match="does not exist"):
        models.export_model("iris", tmp_path / "no" / "such" / "dir.bentomodel")
    with pytest.raises(NotFound):
        models.export_model("nope", tmp_path)


def test_export_refuses_a_damaged_model_and_leaves_no_file(save, tmp_path: Path) -> None:
    model = save("iris")
    (model.path / "model.bin").write_bytes(b"WEIGHTS")  # same size, other bytes
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StoreCorrupted, match="checksum mismatch for 'model.bin'"):
        models.export_model("iris", out)
    (model.path / "extra" / "notes.txt").unlink()
    with pytest.raises(StoreCorrupted, match="is missing"):
        models.export_model("iris", out)
    assert list(out.iterdir()) == []


def test_existing_tag_needs_force(save, tmp_path: Path) -> None:
    model = save("iris")
    archive = models.export_model("iris", tmp_path)
    with pytest.raises(Conflict, match=f"model 'iris:{model.tag.version}' already exists \\(use --force"):
        models.import_model(archive)
    (model.path / "model.bin").write_bytes(b"local change")
    replaced = models.import_model(archive, force=True)
    assert (replaced.path / "model.bin").read_bytes() == b"weights"
    assert [m.tag for m in models.list()] == [model.tag]
    assert not [p for p in paths.models_dir().iterdir() if p.name.startswith((".tmp-", ".trash-"))]


# ------------------------------------------------------------------ hostile archives


def _member(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _rebuild(archive: Path, dest: Path, change: Callable[[tarfile.TarFile, dict[str, bytes]], None]) -> Path:
    """Copy ``archive``'s members into ``dest`` after ``change`` edited or added some.

    The manifest (if ``change`` left one) comes first, as in an export, then the members
    ``change`` added, then the other files.
    """
    with tarfile.open(archive) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    added = io.BytesIO()
    with tarfile.open(fileobj=added, mode="w") as extra:
        change(extra, contents)
    added.seek(0)
    with tarfile.open(dest, "w") as tar, tarfile.open(fileobj=added) as extra:
        if "model.yaml" in contents:
            _member(tar, "model.yaml", contents.pop("model.yaml"))
        for member in extra:
            tar.addfile(member, extra.extractfile(member) if member.isfile() else None)
        for name, data in contents.items():
            _member(tar, name, data)
    return dest


def _tamper_file(tar, contents):
    contents["model.bin"] = b"weighTs"


def _drop_listed_file(tar, contents):
    del contents["extra/notes.txt"]


def _add_unlisted(tar, contents):
    contents["surprise.py"] = b"import os"


def _drop_manifest(tar, contents):
    del contents["model.yaml"]


def _bad_manifest_yaml(tar, contents):
    contents["model.yaml"] = b"name: [oops"


def _bad_manifest_name(tar, contents):
    data = yaml.safe_load(contents["model.yaml"])
    data["name"] = "../../evil"
    contents["model.yaml"] = yaml.safe_dump(data).encode()


def _bad_manifest_field(tar, contents):
    data = yaml.safe_load(contents["model.yaml"])
    data["creation_time"] = "last tuesday"
    contents["model.yaml"] = yaml.safe_dump(data).encode()


def _traversal(tar, contents):
    _member(tar, "../escaped.txt", b"owned")


def _nested_traversal(tar, contents):
    _member(tar, "extra/../../escaped.txt", b"owned")


def _absolute(tar, contents):
    _member(tar, "/tmp/h1-absolute-escape.txt", b"owned")


def _symlink(tar, contents):
    _member(tar, "link", type=tarfile.SYMTYPE, linkname="/etc/passwd")


def _hardlink(tar, contents):
    _member(tar, "hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")


def _device(tar, contents):
    _member(tar, "dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)


def _fifo(tar, contents):
    _member(tar, "pipe", type=tarfile.FIFOTYPE)


def _duplicate(tar, contents):
    _member(tar, "model.bin", contents["model.bin"])  # a sound first copy: the second is the fault


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_tamper_file, "checksum mismatch for 'model.bin'"),
        (_drop_listed_file, "'extra/notes.txt' is listed in model.yaml but missing"),
        (_add_unlisted, "'surprise.py' is not listed in model.yaml"),
        (_drop_manifest, "not a bentotui model archive: no model.yaml"),
        (_bad_manifest_yaml, "model.yaml is not valid YAML"),
        (_bad_manifest_name, "invalid name '../../evil'"),
        (_bad_manifest_field, "field 'creation_time'"),
        (_traversal, "'../escaped.txt' points outside the archive"),
        (_nested_traversal, "points outside the archive"),
        (_absolute, "is an absolute path"),
        (_symlink, "'link' is a symlink"),
        (_hardlink, "'hard' is a hard link"),
        (_device, "'dev' is a device or special file"),
        (_fifo, "'pipe' is a device or special file"),
        (_duplicate, "'model.bin' appears twice"),
    ],
)
def test_hostile_or_corrupt_archives_are_rejected(
    save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, message: str
) -> None:
    save("iris")
    good = models.export_model("iris", tmp_path)
    evil = _rebuild(good, tmp_path / "evil.bentomodel", change)
    _other_home(monkeypatch, tmp_path / "sub")
    with pytest.raises(ImportRejected, match=message.replace("(", r"\(")):
        models.import_model(evil)
    root = paths.models_dir()
    assert [p.name for p in root.iterdir() if not p.name.startswith(".store")] == []  # nothing half-imported
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "sub" / "escaped.txt").exists()
    assert not Path("/tmp/h1-absolute-escape.txt").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a bentotui model archive"),
        (b"PK\x03\x04 this is a zip file, or pretends to be" * 20, "is not a bentotui model archive"),
        (bytes(range(256)) * 40, "is not a bentotui model archive"),
    ],
)
def test_junk_files_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    junk = tmp_path / "junk.bentomodel"
    junk.write_bytes(content)
    with pytest.raises(ImportRejected, match=message):
        models.import_model(junk)
    assert models.list() == []


def test_truncated_archive_is_rejected(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save("iris", payload=b"w" * 50_000)
    archive = models.export_model("iris", tmp_path)
    cut = tmp_path / "cut.bentomodel"
    cut.write_bytes(archive.read_bytes()[:30_000])
    _other_home(monkeypatch, tmp_path)
    with pytest.raises(ImportRejected, match="truncated or corrupt|is not a bentotui"):
        models.import_model(cut)
    assert models.list() == []


def test_gzip_archives_are_read_too(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = save("iris")
    plain = models.export_model("iris", tmp_path)
    gz = tmp_path / "iris.bentomodel.gz"
    with tarfile.open(plain) as src, tarfile.open(gz, "w:gz") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
    _other_home(monkeypatch, tmp_path)
    assert models.import_model(gz).tag == model.tag


def test_import_of_missing_path_or_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        models.import_model(tmp_path / "nope.bentomodel")
    with pytest.raises(ImportRejected, match="is not an archive file"):
        models.import_model(tmp_path)


def test_progress_is_reported(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save("iris", payload=b"x" * 3_000_000)
    seen: list[tuple[int, int]] = []
    archive = models.export_model("iris", tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] > 3_000_000
    seen.clear()
    _other_home(monkeypatch, tmp_path)
    models.import_model(archive, progress=lambda done, total: seen.append((done, total)))
    assert seen and all(done <= total for done, total in seen) and seen[-1][1] == archive.stat().st_size
