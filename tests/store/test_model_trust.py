"""Model trust: the provenance records the store keeps outside every model folder, and hostile
archives built here (by an "attacker" home) whose pickles, or skops gadget, create a marker file
when they run.  Nothing of theirs runs on import, list, get, load or serve unless the user trusts it.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import bentotui
from bentotui import paths
from bentotui.exceptions import ImportRejected
from bentotui.store.models import TRUST_DIR, Model, ModelStore, UntrustedModel


class Touch:
    """Unpickling this calls ``open(path, "w")``: the file exists afterwards iff the pickle ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "code-ran"


@pytest.fixture
def attacker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bentotui_home: Path) -> Callable[..., Path]:
    """``attacker(save, replace, options)``: ``save()`` runs in another home, its model is exported
    and the archive rebuilt with ``replace``'s files and ``options`` merged into its model.yaml
    (sizes and sha256 made to match, so the archive is sound); the victim's home is back after."""

    def build(
        save: Callable[[], Model], replace: dict[str, bytes] | None = None, options: dict[str, Any] | None = None
    ) -> Path:
        monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "attacker-home"))
        try:
            model = save()
            good = bentotui.models.export_model(model.tag, tmp_path / "good.bentomodel", force=True)
        finally:
            monkeypatch.setenv("BENTOTUI_HOME", str(bentotui_home))
        return rebuild(good, tmp_path / "evil.bentomodel", replace or {}, options or {})

    return build


def rebuild(archive: Path, dest: Path, replace: dict[str, bytes], options: dict[str, Any]) -> Path:
    with tarfile.open(archive) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = yaml.safe_load(contents.pop("model.yaml"))
    contents.update(replace)
    manifest["options"] = {**manifest["options"], **options}
    manifest["files"] = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in sorted(contents.items())
    ]
    manifest["size_bytes"] = sum(len(data) for data in contents.values())
    with tarfile.open(dest, "w") as tar:
        for name, data in (("model.yaml", yaml.safe_dump(manifest, sort_keys=False).encode()), *contents.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def record_file(model: Model) -> Path:
    return paths.models_dir() / TRUST_DIR / model.tag.name / f"{model.tag.version}.json"


# ---------------------------------------------------------------------- provenance records


def test_a_saved_model_is_local_and_trusted_and_its_record_never_travels(save, tmp_path: Path) -> None:
    model = save("iris")
    provenance = model.provenance
    assert (provenance.origin, provenance.state, provenance.trusted) == ("local", "local", True)
    assert provenance.recorded_at is not None and "saved here on " in provenance.describe()
    record = json.loads(record_file(model).read_text())
    assert record["manifest_sha256"] == hashlib.sha256((model.path / "model.yaml").read_bytes()).hexdigest()
    model.require_trust("model.bin")  # no error
    archive = bentotui.models.export_model(model.tag, tmp_path)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["extra/notes.txt", "model.bin", "model.yaml"]


def test_an_import_is_untrusted_until_the_user_trusts_it(
    save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bentotui_home: Path
) -> None:
    archive = bentotui.models.export_model(save("iris").tag, tmp_path)
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "victim"))
    store = ModelStore()
    model = store.import_(archive)
    provenance = model.provenance
    assert (provenance.origin, provenance.state, provenance.source) == ("imported", "untrusted", archive.name)
    with pytest.raises(UntrustedModel) as refused:
        model.require_trust("model.bin")
    message = refused.value.message
    assert "\n" not in message
    assert f"model {model.tag} is not trusted (imported from {archive.name} on " in message
    assert f"unpickles model.bin, which can run any code; if you trust its author, run `bentotui models trust {model.tag}`" in message

    store.trust(f"{model.tag.name}:latest")
    after = model.provenance
    assert (after.origin, after.state, after.source, after.recorded_at) == (
        "imported", "trusted", archive.name, provenance.recorded_at
    )
    assert after.trusted_at is not None
    model.require_trust("model.bin")
    assert store.trust(model.tag).provenance.trusted_at == after.trusted_at  # trusting again changes nothing

    again = store.import_(archive, force=True, trust=True)  # `models import --trust`
    assert again.provenance.state == "trusted" and again.provenance.origin == "imported"


def test_an_archive_cannot_vouch_for_itself(save, attacker, tmp_path: Path) -> None:
    """A model.yaml that claims trust, and a member aimed at the store's records, change nothing."""
    archive = attacker(lambda: save("iris"), options={"trusted": True, "trust": "local", "trusted_types": ["x"]})
    model = ModelStore().import_(archive)
    assert model.provenance.state == "untrusted" and model.info.options["trusted"] is True

    aimed = rebuild(archive, tmp_path / "aimed.bentomodel", {f"../../{TRUST_DIR}/iris/v.json": b"{}"}, {})
    with pytest.raises(ImportRejected, match="points outside the archive"):
        ModelStore().import_(aimed, force=True)
    assert model.provenance.state == "untrusted"


def test_a_forced_import_over_a_trusted_tag_is_untrusted(save, attacker, tmp_path: Path) -> None:
    mine = save("iris")
    archive = attacker(lambda: save("iris"), replace={"model.bin": b"someone else's weights"})
    # give the attacker's model the victim's exact tag
    with tarfile.open(archive) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = yaml.safe_load(contents["model.yaml"])
    manifest["version"] = mine.tag.version
    same_tag = tmp_path / "same-tag.bentomodel"
    with tarfile.open(same_tag, "w") as tar:
        for name, data in {**contents, "model.yaml": yaml.safe_dump(manifest, sort_keys=False).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    replaced = ModelStore().import_(same_tag, force=True)
    assert replaced.tag == mine.tag and replaced.provenance.state == "untrusted"


def test_a_record_for_another_manifest_or_a_broken_record_means_untrusted(save) -> None:
    model = save("iris")
    manifest = model.path / "model.yaml"
    manifest.write_text(manifest.read_text().replace("labels: {}", "labels:\n  edited: 'yes'"))
    unknown = model.provenance
    assert (unknown.origin, unknown.state) == ("unknown", "untrusted")
    assert "no record of where it came from" in unknown.describe()
    ModelStore().trust(model.tag)
    assert model.provenance.state == "trusted"
    for broken in ("{not json", "[]", json.dumps({"manifest_sha256": None})):
        record_file(model).write_text(broken)
        assert model.provenance.state == "untrusted", broken
    record_file(model).unlink()
    assert model.provenance.origin == "unknown"


def test_a_bento_s_model_folder_imports_as_trusted_with_its_source(
    save, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serving a bento runs its code, so the models it brings in are as trusted as the bento."""
    model = save("iris")
    folder = tmp_path / "bento" / "models" / model.tag.name / model.tag.version
    shutil.copytree(model.path, folder)
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "serving-home"))
    store = ModelStore()
    store.items.import_folder(folder)
    provenance = store.get(model.tag).provenance
    assert (provenance.origin, provenance.state, provenance.source) == ("bento", "trusted", str(folder))
    assert f"imported from the bento folder {folder} on " in provenance.describe()


def test_delete_keeps_the_record_for_that_exact_model(save, tmp_path: Path) -> None:
    model = save("iris")
    folder = tmp_path / "copy"
    shutil.copytree(model.path, folder)
    ModelStore().delete(model.tag)
    assert record_file(model).is_file()
    shutil.copytree(folder, model.path)  # the very same bytes come back (as a bento's copy would)
    assert ModelStore().get(model.tag).provenance.state == "local"


# ---------------------------------------------------------------------- hostile archives


def _sklearn(name: str, iris_lr: Any, **kwargs: Any) -> Callable[[], Model]:
    return lambda: bentotui.sklearn.save_model(name, iris_lr, **kwargs)


def test_a_hostile_cloudpickle_model_runs_nothing_until_trusted(attacker, marker: Path) -> None:
    """(A) picklable_model: its model.pkl is the attacker's pickle."""
    archive = attacker(lambda: bentotui.picklable_model.save_model("fn", len), {"model.pkl": pickle.dumps(Touch(marker))})
    model = bentotui.models.import_model(archive)
    assert [m.tag for m in bentotui.models.list()] == [model.tag]
    assert bentotui.models.get(model.tag).info.module == "bentotui.picklable_model"
    with pytest.raises(UntrustedModel, match="unpickles model.pkl"):
        bentotui.picklable_model.load_model(model.tag)
    with pytest.raises(UntrustedModel, match="unpickles model.pkl"):
        model.to_runner()  # what `serve` builds first: refused before a worker starts
    with pytest.raises(UntrustedModel):
        model.load_model()
    assert not marker.exists()
    ModelStore().trust(model.tag)
    bentotui.picklable_model.load_model(model.tag)  # the user's call now: and the code runs
    assert marker.exists()


def test_a_hostile_joblib_model_runs_nothing_until_trusted(attacker, marker: Path, iris_lr) -> None:
    """(B) the default sklearn format: model.joblib is the attacker's pickle."""
    archive = attacker(_sklearn("iris", iris_lr), {"model.joblib": pickle.dumps(Touch(marker))})
    model = bentotui.models.import_model(archive)
    with pytest.raises(UntrustedModel, match="unpickles model.joblib"):
        bentotui.sklearn.load_model(model.tag)
    with pytest.raises(UntrustedModel, match="unpickles model.joblib"):
        bentotui.sklearn.get_runnable(model)
    assert not marker.exists()
    ModelStore().trust(model.tag)
    bentotui.sklearn.load_model(model.tag)
    assert marker.exists()


def test_hostile_custom_objects_run_nothing_until_trusted(attacker, marker: Path, iris_lr) -> None:
    """(D) custom_objects.pkl is the attacker's pickle; the model itself is skops (no pickle)."""
    save = _sklearn("iris", iris_lr, serialization="skops", custom_objects={"scaler": 1})
    model = bentotui.models.import_model(attacker(save, {"custom_objects.pkl": pickle.dumps(Touch(marker))}))
    bentotui.sklearn.load_model(model.tag)  # skops with no flagged type loads untrusted: it runs no code
    with pytest.raises(UntrustedModel, match="unpickles custom_objects.pkl"):
        _ = model.custom_objects
    assert not marker.exists()
    ModelStore().trust(model.tag)
    _ = bentotui.models.get(model.tag).custom_objects
    assert marker.exists()


def _runstring_gadget(code: str) -> bytes:
    """A skops file whose load calls ``numpy.testing._private.utils.runstring(code, {})``: exec."""
    import skops
    import skops.io

    inner = json.loads(zipfile.ZipFile(io.BytesIO(skops.io.dumps((code, {})))).read("schema.json"))
    del inner["protocol"], inner["_skops_version"]
    state = {
        "__class__": "runstring",
        "__module__": "numpy.testing._private.utils",
        "__loader__": "ConstructorFromReduceNode",
        "content": inner,
        "__id__": 1,
        "protocol": 2,
        "_skops_version": skops.__version__,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schema.json", json.dumps(state))
    return buf.getvalue()


def test_a_skops_gadget_that_its_model_yaml_trusts_is_refused(attacker, marker: Path, iris_lr) -> None:
    """(C, F10) the archive's model.yaml names the exec gadget as trusted: ignored, refused."""
    gadget = _runstring_gadget(f"open({str(marker)!r}, 'w').write('code ran')")
    archive = attacker(
        _sklearn("evil-skops", iris_lr, serialization="skops"),
        {"model.skops": gadget},
        {"trusted_types": ["numpy.testing._private.utils.runstring"]},
    )
    model = bentotui.models.import_model(archive)
    with pytest.raises(UntrustedModel) as refused:
        bentotui.sklearn.load_model(model.tag)
    message = refused.value.message
    assert "\n" not in message
    assert "needs types that are not trusted: numpy.testing._private.utils.runstring;" in message
    assert f"run `bentotui models trust {model.tag}` (imported from evil.bentomodel on " in message
    with pytest.raises(UntrustedModel, match="runstring"):
        bentotui.sklearn.get_runnable(model)(model_tag=str(model.tag))  # what a runner worker does
    assert not marker.exists()


def test_a_hostile_torch_model_runs_nothing_until_trusted(attacker, marker: Path) -> None:
    torch = pytest.importorskip("torch")
    save = lambda: bentotui.pytorch.save_model("net", torch.nn.Linear(2, 1))  # noqa: E731
    model = bentotui.models.import_model(attacker(save, {"model.pt": pickle.dumps(Touch(marker))}))
    with pytest.raises(UntrustedModel, match="unpickles model.pt"):
        bentotui.pytorch.load_model(model.tag)
    with pytest.raises(UntrustedModel, match="unpickles model.pt"):
        bentotui.pytorch.get_runnable(model)
    assert not marker.exists()
