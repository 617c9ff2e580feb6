"""Bounds on untrusted store input: archive bombs, hostile manifests, and what ``latest`` means.

Every bomb here is small on disk: a member's tar header *claims* gigabytes, and the test proves
the claim is refused before a byte of that member is read (so before anything is written).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bentotui import models, paths
from bentotui.exceptions import BentotuiError, ImportRejected, InvalidArgument, StoreCorrupted
from bentotui.store import archive as archive_module
from bentotui.store import item_store, safe_yaml
from bentotui.store.bentos import BentoStore
from bentotui.store.item_store import Item
from bentotui.store.models import Model, ModelStore

GIB2 = 2 << 30


# ------------------------------------------------------------------ helpers


def _contents(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def _manifest(contents: dict[str, bytes], manifest: str = "model.yaml") -> dict[str, Any]:
    return yaml.safe_load(contents[manifest])


def _block(name: str, data: bytes) -> bytes:
    """One plain tar member: its header and its data padded to 512 bytes."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(format=tarfile.GNU_FORMAT) + data + bytes(-len(data) % 512)


def _claiming_header(name: str, size: int) -> bytes:
    """The header of a member that claims ``size`` bytes (its data is never written)."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _sparse_header(name: str, real_size: int, stored: int = 512) -> bytes:
    """A GNU sparse member header: ``stored`` bytes in the archive that expand to ``real_size``.

    tarfile cannot write one, so the sparse map and the real size are set in the header by hand.
    """
    info = tarfile.TarInfo(name)
    info.type = tarfile.GNUTYPE_SPARSE
    info.size = stored
    buf = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    buf[386:398] = tarfile.itn(0, 12, tarfile.GNU_FORMAT)  # one chunk at offset 0 ...
    buf[398:410] = tarfile.itn(stored, 12, tarfile.GNU_FORMAT)  # ... of ``stored`` bytes
    buf[483:495] = tarfile.itn(real_size, 12, tarfile.GNU_FORMAT)
    buf[148:156] = b" " * 8
    buf[148:155] = b"%06o\0" % sum(buf[:512])
    return bytes(buf)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the tar members whose data an import opened (nothing unopened can be written)."""
    names: list[str] = []
    real = tarfile.TarFile.extractfile

    def spy(self: tarfile.TarFile, member: tarfile.TarInfo | str) -> Any:
        names.append(member.name if isinstance(member, tarfile.TarInfo) else member)
        return real(self, member)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", spy)
    return names


@pytest.fixture
def exported(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """The members of an exported ``iris`` model, with BENTOTUI_HOME switched to an empty one."""
    save("iris")
    contents = _contents(models.export_model("iris", tmp_path))
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    yield contents
    _assert_nothing_left(paths.models_dir())


def _assert_nothing_left(root: Path) -> None:
    if root.exists():
        left = [p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".trash-"))]
        assert left == []


def _store_is_empty() -> None:
    root = paths.models_dir()
    assert not root.exists() or [p.name for p in root.iterdir() if not p.name.startswith(".")] == []


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _with_manifest(contents: dict[str, bytes], data: dict[str, Any]) -> dict[str, bytes]:
    return {**contents, "model.yaml": yaml.safe_dump(data, sort_keys=False).encode()}


# ------------------------------------------------------------------ F1: archive bombs


def test_a_member_claiming_more_than_its_manifest_entry_is_refused_unread(
    exported: dict[str, bytes], tmp_path: Path, opened: list[str]
) -> None:
    bomb = _write(
        tmp_path / "bomb.bentomodel",
        _block("model.yaml", exported["model.yaml"]) + _claiming_header("model.bin", GIB2) + bytes(64 << 10),
    )
    with pytest.raises(ImportRejected, match=f"'model.bin' is {GIB2} bytes, but model.yaml says 7"):
        models.import_model(bomb)
    assert opened == ["model.yaml"]
    _store_is_empty()


def test_a_sparse_member_is_refused_unread(
    exported: dict[str, bytes], tmp_path: Path, opened: list[str]
) -> None:
    sparse = _write(
        tmp_path / "sparse.bentomodel",
        _block("model.yaml", exported["model.yaml"]) + _sparse_header("model.bin", GIB2) + bytes(512 + 1024),
    )
    with pytest.raises(ImportRejected, match="'model.bin' is a sparse file"):
        models.import_model(sparse)
    assert opened == ["model.yaml"]
    _store_is_empty()


def test_a_file_before_the_manifest_is_refused_unread(
    exported: dict[str, bytes], tmp_path: Path, opened: list[str]
) -> None:
    early = _write(
        tmp_path / "early.bentomodel",
        _claiming_header("model.bin", GIB2) + bytes(64 << 10),
    )
    with pytest.raises(ImportRejected, match=r"no model.yaml before 'model.bin' \(the manifest comes first\)"):
        models.import_model(early)
    assert opened == []


def test_an_oversized_manifest_member_is_refused_unread(
    exported: dict[str, bytes], tmp_path: Path, opened: list[str]
) -> None:
    huge = safe_yaml.MAX_MANIFEST_BYTES + 1
    archive = _write(tmp_path / "big.bentomodel", _claiming_header("model.yaml", huge) + bytes(4096))
    limit = safe_yaml.MAX_MANIFEST_BYTES
    with pytest.raises(ImportRejected, match=f"model.yaml is {huge} bytes, over the {limit}"):
        models.import_model(archive)
    assert opened == []


@pytest.mark.parametrize("where", ["model.yaml", "model.bin"])
def test_a_gzip_bomb_in_a_pax_header_is_refused_before_it_is_read(
    exported: dict[str, bytes], tmp_path: Path, where: str
) -> None:
    """tarfile reads a pax header whole into memory; the stream bound stops it first (3 MB
    expanded from a few kB of gzip, over what the manifest or the manifest-to-come accounts for)."""
    bomb = tmp_path / "pax.bentomodel"
    with tarfile.open(bomb, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in exported.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name == where:
                info.pax_headers = {"comment": "x" * (3 << 20)}
            tar.addfile(info, io.BytesIO(data))
    assert bomb.stat().st_size < 64 << 10
    with pytest.raises(ImportRejected, match="holds more than its model.yaml accounts for"):
        models.import_model(bomb)
    _store_is_empty()


def test_the_absolute_cap_and_the_free_space_are_checked_before_any_file(
    exported: dict[str, bytes], tmp_path: Path, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _manifest(exported)
    manifest["files"] = [{"path": "model.bin", "size": GIB2, "sha256": "0" * 64}]
    manifest["size_bytes"] = GIB2
    text = yaml.safe_dump(manifest, sort_keys=False).encode()
    bomb = _write(
        tmp_path / "big.bentomodel", _block("model.yaml", text) + _claiming_header("model.bin", GIB2)
    )
    monkeypatch.setenv(archive_module.MAX_IMPORT_ENV, str(1 << 20))
    with pytest.raises(ImportRejected, match=f"declares {GIB2} bytes of files, over the import limit of {1 << 20}"):
        models.import_model(bomb)
    monkeypatch.setenv(archive_module.MAX_IMPORT_ENV, "lots")
    with pytest.raises(InvalidArgument, match="BENTOTUI_IMPORT_MAX_BYTES must be a number of bytes, got 'lots'"):
        models.import_model(bomb)
    monkeypatch.delenv(archive_module.MAX_IMPORT_ENV)
    assert archive_module.max_import_bytes() == archive_module.DEFAULT_MAX_IMPORT_BYTES
    monkeypatch.setattr(archive_module.shutil, "disk_usage", lambda path: type("U", (), {"free": GIB2 - 1})())
    with pytest.raises(BentotuiError, match=f"needs {GIB2} bytes, and the store's disk has {GIB2 - 1} free"):
        models.import_model(bomb)
    assert opened == ["model.yaml", "model.yaml", "model.yaml"]
    _store_is_empty()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size_bytes": 1}, "says size_bytes 1, but its files add up to 21"),
        ({"files": [{"path": "model.bin", "size": -1, "sha256": "0" * 64}]}, "'files' must be a list"),
    ],
)
def test_a_manifest_that_understates_its_files_is_refused(
    exported: dict[str, bytes], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    contents = _with_manifest(exported, {**_manifest(exported), **change})
    archive = _write(tmp_path / "x.bentomodel", b"".join(_block(n, d) for n, d in contents.items()))
    with pytest.raises(ImportRejected, match=message):
        models.import_model(archive)
    _store_is_empty()


@pytest.mark.parametrize("compression", ["gz", "bz2", "xz"])
def test_compressed_archives_are_read(exported: dict[str, bytes], tmp_path: Path, compression: str) -> None:
    archive = tmp_path / f"iris.bentomodel.{compression}"
    with tarfile.open(archive, f"w:{compression}") as tar:
        for name, data in exported.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert models.import_model(archive).tag.name == "iris"


def test_a_cut_gzip_stream_is_one_refusal(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    save("iris", payload=bytes(range(256)) * 400)  # incompressible, so the cut lands in its data
    packed = gzip.compress(models.export_model("iris", tmp_path).read_bytes())
    cut = _write(tmp_path / "cut.bentomodel", packed[: len(packed) // 2])
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    with pytest.raises(ImportRejected, match="cut.bentomodel is truncated or corrupt"):
        models.import_model(cut)
    _store_is_empty()
    _assert_nothing_left(paths.models_dir())


def test_a_folder_file_that_grows_during_the_copy_is_refused(
    save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = save("iris")
    real = archive_module._open_regular

    def grown(path: Path) -> Any:
        return io.BytesIO(path.read_bytes() + b" and more") if path.name == "model.bin" else real(path)

    monkeypatch.setattr(archive_module, "_open_regular", grown)
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "other"))
    with pytest.raises(ImportRejected, match="'model.bin' changed size while it was read"):
        ModelStore().items.import_folder(model.path)
    _store_is_empty()
    _assert_nothing_left(paths.models_dir())


def test_a_bento_archive_bomb_is_refused_unread(tmp_path: Path, opened: list[str]) -> None:
    bento = _bento()
    contents = _contents(BentoStore().export(bento.tag, tmp_path))
    BentoStore().delete(bento.tag)
    opened.clear()
    bomb = _write(
        tmp_path / "bomb.bento",
        _block("bento.yaml", contents["bento.yaml"]) + _claiming_header("service.py", GIB2) + bytes(4096),
    )
    with pytest.raises(ImportRejected, match=f"'service.py' is {GIB2} bytes, but bento.yaml says 10"):
        BentoStore().import_(bomb)
    assert opened == ["bento.yaml"]
    assert BentoStore().list() == []
    _assert_nothing_left(paths.bentos_dir())


# ------------------------------------------------------------------ F2-F4: hostile manifests

_ALIAS_BOMB = 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


def _deep(levels: int) -> str:
    """A ``deep:`` mapping nested ``levels`` levels below it, in block style (as in F4)."""
    keys = "".join(" " * (i + 1) + f"k{i}:\n" for i in range(levels))
    return "deep:\n" + keys + " " * (levels + 1) + "end: 1\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_ALIAS_BOMB, "uses YAML aliases"),
        ("x: &x 1\nmetadata: {a: *x}\n", "uses YAML aliases"),
        ("metadata: {<<: *x}\n", "is not valid YAML"),  # an alias of nothing
        (_deep(40), f"is nested deeper than {safe_yaml.MAX_DEPTH} levels"),
    ],
)
def test_hostile_manifests_are_refused_on_import(
    exported: dict[str, bytes], tmp_path: Path, extra: str, message: str
) -> None:
    lines = exported["model.yaml"].decode().splitlines()
    text = "\n".join(line for line in lines if not line.startswith("metadata:"))  # "metadata: {}"
    contents = {**exported, "model.yaml": (text + "\n" + extra).encode()}
    archive = _write(tmp_path / "evil.bentomodel", b"".join(_block(n, d) for n, d in contents.items()))
    with pytest.raises(ImportRejected, match=f"evil.bentomodel: model.yaml {message}"):
        models.import_model(archive)
    _store_is_empty()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_ALIAS_BOMB, "uses YAML aliases"),
        (_deep(40), "is nested deeper than"),
        ("blob: '" + "x" * safe_yaml.MAX_MANIFEST_BYTES + "'\n", "is larger than 1048576 bytes"),
    ],
)
def test_a_hostile_manifest_in_the_store_is_listed_as_broken(
    save, store: ModelStore, extra: str, message: str
) -> None:
    good = save("good")
    bad = save("iris")
    manifest = bad.path / "model.yaml"
    manifest.write_text(manifest.read_text() + extra)
    with pytest.raises(StoreCorrupted, match=f"{manifest} {message}") as caught:
        store.get(bad.tag)
    found, problems = store.scan()
    assert found == [good]
    assert [p.message for p in problems] == [caught.value.message]
    assert store.get("good") == good
    store.delete(bad.tag)
    assert store.scan() == ([good], [])


def test_a_deep_bento_manifest_is_one_error_not_a_recursion_error() -> None:
    bento = _bento()
    manifest = bento.path / "bento.yaml"
    manifest.write_text(manifest.read_text() + _deep(950))
    with pytest.raises(StoreCorrupted, match="bento.yaml is nested deeper than"):
        BentoStore().get(bento.tag)
    found, problems = BentoStore().scan()
    assert found == [] and "nested deeper than" in problems[0].message


@pytest.mark.parametrize("base", [getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader])
def test_both_loaders_hold_the_bounds(monkeypatch: pytest.MonkeyPatch, base: type) -> None:
    """With libyaml or without it (the pure-Python composer recurses): refusals, never a crash."""
    monkeypatch.setattr(safe_yaml, "_Loader", safe_yaml._bounded_loader(base))
    assert safe_yaml.load(b"a: &x [1]\nb: [2]\n") == {"a": [1], "b": [2]}  # a lone anchor is inert
    with pytest.raises(safe_yaml.ManifestRefused, match="uses YAML aliases"):
        safe_yaml.load(_ALIAS_BOMB.encode())
    with pytest.raises(safe_yaml.ManifestRefused, match="nested deeper than"):
        safe_yaml.load(_deep(40).encode())
    with pytest.raises((safe_yaml.ManifestRefused, yaml.YAMLError), match="nested deeper than|nesting depth"):
        safe_yaml.load(b"[" * 5000 + b"]" * 5000)


def test_saving_writes_no_anchors_and_refuses_what_it_could_not_read(save, store: ModelStore) -> None:
    shared = {"lr": 0.1, "layers": [1, 2]}
    model = save("iris", metadata={"train": shared, "eval": shared})
    assert "&" not in (model.path / "model.yaml").read_text()
    assert store.get(model.tag).info.metadata == {"train": shared, "eval": shared}
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(safe_yaml.MAX_DEPTH):
        node["k"] = node = {}
    with pytest.raises(InvalidArgument, match="cannot save model 'iris': its model.yaml is nested deeper than"):
        save("iris", metadata=deep)
    assert store.list() == [model]
    _assert_nothing_left(paths.models_dir())


def test_the_listing_cache_keeps_only_the_listed_fields() -> None:
    bento = _bento()
    manifest = bento.path / "bento.yaml"
    manifest.write_text(manifest.read_text() + "blob: [" + ",".join(["0"] * 1000) + "]\n")
    assert [b.tag for b in BentoStore().list()] == [bento.tag]
    cache = json.loads((paths.bentos_dir() / item_store.LIST_CACHE).read_text())
    assert cache["format"] == item_store.LIST_CACHE_FORMAT
    [(stamp, cached)] = cache["items"].values()
    assert "blob" not in cached and cached["service"] == "service:svc"
    assert BentoStore().list()[0].info == BentoStore().get(bento.tag).info  # from the cache, the same


def test_a_cache_of_another_format_is_ignored(save, store: ModelStore) -> None:
    model = save("iris")
    stamp = item_store._stamp(model.path / "model.yaml")
    fake = {**store.items.get(model.tag).manifest, "labels": {"from": "the old cache"}}
    cache, key = paths.models_dir() / item_store.LIST_CACHE, f"iris/{model.tag.version}"
    cache.write_text(json.dumps({key: [stamp, fake]}))  # the layout before LIST_CACHE_FORMAT
    assert store.list()[0].info.labels == {}
    cache.write_text(json.dumps({"format": item_store.LIST_CACHE_FORMAT, "items": {key: [stamp, {"x": 1}]}}))
    assert store.list() == [model]  # a damaged entry is read from the manifest instead


# ------------------------------------------------------------------ F11: latest is the newest


def _bento(version: str | None = None) -> Item:
    with BentoStore().items.create("svc", version) as draft:
        (draft.path / "service.py").write_text("svc = None")
        draft.info = {"service": "service:svc"}
    assert draft.item is not None
    return draft.item


def _set_time(folder: Path, manifest: str, when: str) -> None:
    path = folder / manifest
    data = yaml.safe_load(path.read_text())
    data["creation_time"] = when
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_latest_is_the_newest_model_not_the_largest_version(
    save, store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "attacker"
    monkeypatch.setenv("BENTOTUI_HOME", str(home))
    save("iris")
    contents = _contents(models.export_model("iris", tmp_path))
    forged = {**_manifest(contents), "version": "zzzz-imported", "creation_time": "2001-01-01T00:00:00+00:00"}
    archive = _write(tmp_path / "forged.bentomodel", b"".join(
        _block(n, d) for n, d in _with_manifest(contents, forged).items()
    ))
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    local = save("iris")
    imported = models.import_model(archive)
    assert imported.tag.version == "zzzz-imported"
    assert store.get("iris") == local and store.get("iris:latest") == local
    newer = save("iris")
    assert store.get("iris") == newer
    listed = [m.tag.version for m in store.list("iris")]
    assert listed == [newer.tag.version, local.tag.version, "zzzz-imported"]
    assert store.list("iris:latest") == [newer]


def test_latest_compares_instants_and_breaks_ties_by_version() -> None:
    early, late = _bento("b-early"), _bento("a-late")
    # 09:00 at +09:00 is 00:00 UTC: earlier than 01:00 UTC, though its text sorts after it
    _set_time(early.path, "bento.yaml", "2030-01-01T09:00:00+09:00")
    _set_time(late.path, "bento.yaml", "2030-01-01T01:00:00+00:00")
    assert BentoStore().get("svc").tag == late.tag
    assert [b.tag for b in BentoStore().list()] == [late.tag, early.tag]
    _set_time(early.path, "bento.yaml", "2030-01-01T01:00:00+00:00")
    assert BentoStore().get("svc").tag == early.tag  # same instant: the larger version


def test_latest_bento_after_importing_an_old_one_with_a_last_sorting_version(tmp_path: Path) -> None:
    old = _bento("zzzz")
    _set_time(old.path, "bento.yaml", "2001-01-01T00:00:00+00:00")
    archive = BentoStore().export(old.tag, tmp_path)
    BentoStore().delete(old.tag)
    local = _bento()
    assert BentoStore().import_(archive).tag == old.tag
    assert BentoStore().get("svc").tag == local.tag
    newer = _bento()
    assert BentoStore().get("svc:latest").tag == newer.tag


def test_latest_skips_an_unreadable_version_and_names_it_when_none_reads(save, store: ModelStore) -> None:
    old = save("iris")
    new: Model = save("iris")
    (new.path / "model.yaml").write_text("name: [broken")
    assert store.get("iris") == old
    (old.path / "model.yaml").write_text("name: [broken")
    with pytest.raises(StoreCorrupted, match="is not valid YAML"):
        store.get("iris")
    assert store.delete(new.tag) == new.tag  # an exact tag still resolves unread
