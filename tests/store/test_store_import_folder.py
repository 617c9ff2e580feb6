"""``ItemStore.import_folder``: an unpacked item (a model a bento carries) is checked as an archive is."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bentotui import paths
from bentotui.exceptions import Conflict, ImportRejected, NotFound
from bentotui.store.models import Model, ModelStore


def _carried(model: Model, tmp_path: Path) -> Path:
    """A copy of ``model``'s folder laid out as a bento carries it: ``models/<name>/<version>/``."""
    folder = tmp_path / "bento" / "models" / model.tag.name / model.tag.version
    shutil.copytree(model.path, folder)
    return folder


def _other_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "other-home"))


def _store_is_empty() -> None:
    """Nothing half-imported: no version, and no temporary or trash left behind."""
    root = paths.models_dir()
    assert [p.name for p in root.iterdir() if not p.name.startswith(".store")] == []


def test_good_folder_imports_and_verifies(save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = save("iris", labels={"stage": "prod"}, custom_objects={"k": [1, 2]})
    folder = _carried(model, tmp_path)
    before = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file())
    _other_home(monkeypatch, tmp_path)
    item = ModelStore().items.import_folder(folder)
    assert item.tag == model.tag
    assert item.path == paths.models_dir() / "iris" / model.tag.version
    verified = ModelStore().verify(model.tag)
    assert verified.info == model.info and verified.custom_objects == {"k": [1, 2]}
    assert (item.path / "extra" / "notes.txt").read_text() == "notes for iris"
    after = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file())
    assert after == before  # copied, not moved


def _tamper(folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"weighTs")  # same size, other bytes


def _drop_listed(folder: Path) -> None:
    (folder / "extra" / "notes.txt").unlink()


def _add_unlisted(folder: Path) -> None:
    (folder / "surprise.py").write_text("import os")


def _drop_manifest(folder: Path) -> None:
    (folder / "model.yaml").unlink()


def _bad_manifest_name(folder: Path) -> None:
    data = yaml.safe_load((folder / "model.yaml").read_text())
    data["name"] = "../../evil"
    (folder / "model.yaml").write_text(yaml.safe_dump(data))


def _symlinked_file(folder: Path) -> None:
    """A listed file replaced by a link to a file with the very same bytes: still refused."""
    outside = folder.parents[3] / "outside.bin"
    outside.write_bytes((folder / "model.bin").read_bytes())
    (folder / "model.bin").unlink()
    (folder / "model.bin").symlink_to(outside)


def _extra_symlink(folder: Path) -> None:
    (folder / "link").symlink_to("/etc/passwd")


def _symlinked_folder(folder: Path) -> None:
    shutil.rmtree(folder / "extra")
    (folder.parents[3] / "elsewhere").mkdir()
    (folder.parents[3] / "elsewhere" / "notes.txt").write_text("notes for iris")
    (folder / "extra").symlink_to(folder.parents[3] / "elsewhere")


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_tamper, "checksum mismatch for 'model.bin'"),
        (_drop_listed, "'extra/notes.txt' is listed in model.yaml but missing"),
        (_add_unlisted, "'surprise.py' is not listed in model.yaml"),
        (_drop_manifest, "is not a bentotui model folder: no model.yaml"),
        (_bad_manifest_name, "invalid name '../../evil'"),
        (_symlinked_file, "'model.bin' is a symlink"),
        (_extra_symlink, "'link' is a symlink"),
        (_symlinked_folder, "'extra' is a symlink"),
        (_fifo, "'pipe' is a device or special file"),
    ],
)
def test_unsound_folders_are_rejected_and_leave_nothing(
    save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None], message: str
) -> None:
    folder = _carried(save("iris"), tmp_path)
    change(folder)
    _other_home(monkeypatch, tmp_path)
    with pytest.raises(ImportRejected, match=message):
        ModelStore().items.import_folder(folder)
    _store_is_empty()
    assert ModelStore().list() == []


def test_existing_tag_needs_force(save, tmp_path: Path) -> None:
    model = save("iris")
    folder = _carried(model, tmp_path)
    store = ModelStore().items
    with pytest.raises(Conflict, match=f"model 'iris:{model.tag.version}' already exists \\(use --force"):
        store.import_folder(folder)
    (model.path / "model.bin").write_bytes(b"local change")
    replaced = store.import_folder(folder, force=True)
    assert (replaced.path / "model.bin").read_bytes() == b"weights"
    assert [m.tag for m in ModelStore().list()] == [model.tag]
    assert not [p for p in paths.models_dir().iterdir() if p.name.startswith((".tmp-", ".trash-"))]


def test_missing_folder_or_a_file(save, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        ModelStore().items.import_folder(tmp_path / "nope")
    file = tmp_path / "model.yaml"
    file.write_text("name: iris")
    with pytest.raises(ImportRejected, match="is not a folder"):
        ModelStore().items.import_folder(file)
