"""The model store: atomic saves, sweeping, get/list/filter/delete, corrupt entries, dispatch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
import yaml

from bentotui import paths
from bentotui.exceptions import InvalidArgument, NotFound, StoreCorrupted
from bentotui.frameworks import registry
from bentotui.runner.runnable import Runnable
from bentotui.store import item_store
from bentotui.store.models import ModelStore
from bentotui.store.tags import Tag


def _visible(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_save_writes_manifest_with_every_file(save, store: ModelStore) -> None:
    model = save(
        "iris", labels={"stage": "dev"}, signatures={"predict": {"batchable": True}}, metadata={"acc": 0.97}
    )
    info = model.info
    assert model.path == paths.models_dir() / "iris" / model.tag.version
    assert (info.name, info.version, info.module, info.framework) == (
        "iris",
        model.tag.version,
        "bentotui.picklable_model",
        "picklable_model",
    )
    assert info.creation_time.tzinfo is not None
    assert info.signatures == {"predict": {"batchable": True, "batch_dim": 0}}
    assert info.metadata == {"acc": 0.97} and info.labels == {"stage": "dev"}
    assert [f["path"] for f in info.files] == ["extra/notes.txt", "model.bin"]
    assert info.size_bytes == sum(f["size"] for f in info.files) == len(b"weights") + len("notes for iris")
    raw = yaml.safe_load((model.path / "model.yaml").read_text())
    for key in ("python_version", "bentotui_version", "framework_version", "options", "files", "size_bytes"):
        assert key in raw
    assert store.verify(model.tag) == model


def test_crash_inside_save_leaves_nothing(store: ModelStore) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with store.create("iris", module="bentotui.picklable_model", framework_version="1") as draft:
            (draft.path / "model.bin").write_bytes(b"half")
            raise RuntimeError("boom")
    assert _visible(paths.models_dir()) == []
    assert store.list() == []


def test_bad_fields_are_refused_before_anything_is_written(store: ModelStore) -> None:
    cases = [
        ({"labels": {"k": 1}}, "labels map strings to strings"),
        ({"metadata": {"obj": object()}}, "metadata must be plain data"),
        ({"signatures": {"predict": {"batchable": "yes"}}}, "batchable must be true or false"),
        ({"signatures": {"predict": {"batch_dim": "0"}}}, "batch_dim must be an integer"),
        ({"signatures": {"not a name": {}}}, "invalid signature method name"),
        ({"custom_objects": {"gen": (i for i in range(3))}}, "custom_objects cannot be pickled"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidArgument, match=message):
            with store.create("iris", module="bentotui.picklable_model", framework_version="1", **kwargs):
                pass
    with pytest.raises(InvalidArgument, match="invalid name"):
        store.create("Iris", module="bentotui.picklable_model", framework_version="1").__enter__()
    assert _visible(paths.models_dir()) == []


def test_draft_may_not_hold_links_or_the_manifest(store: ModelStore, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("secret")
    with pytest.raises(InvalidArgument, match="not a regular file"):
        with store.create("iris", module="bentotui.picklable_model", framework_version="1") as draft:
            (draft.path / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidArgument, match="written by the store"):
        with store.create("iris", module="bentotui.picklable_model", framework_version="1") as draft:
            (draft.path / "model.yaml").write_text("name: evil")
    assert _visible(paths.models_dir()) == []


def test_tuple_batch_dim_and_late_draft_changes(store: ModelStore) -> None:
    with store.create(
        "iris",
        module="bentotui.sklearn",
        framework_version="1.9",
        signatures={"predict": {"batch_dim": (0, 1)}},
    ) as draft:
        draft.options["format"] = "joblib"
        draft.metadata["note"] = "set while saving"
    info = draft.model.info
    assert info.signatures["predict"]["batch_dim"] == [0, 1]
    assert info.options == {"format": "joblib"} and info.metadata == {"note": "set while saving"}
    assert info.framework == "sklearn"


def test_killed_writer_leftover_is_swept_but_live_writer_is_kept(store: ModelStore) -> None:
    script = textwrap.dedent(
        """
        import time
        from bentotui.store.models import ModelStore
        with ModelStore().create("slow", module="bentotui.picklable_model", framework_version="1") as d:
            (d.path / "model.bin").write_bytes(b"x")
            print("ready", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        root = paths.models_dir()
        temps = [p for p in root.iterdir() if p.name.startswith(".tmp-") and p.is_dir()]
        assert len(temps) == 1
        assert store.items.sweep() == []  # its writer is alive (it holds the folder's lock)
        assert temps[0].is_dir()
        assert store.list() == []  # never visible while being written
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert store.items.sweep() == [temps[0].name]
    assert [p.name for p in root.iterdir()] == []  # the folder and its lock file


def test_sweep_runs_on_next_use_and_clears_trash(save, store: ModelStore) -> None:
    root = paths.models_dir()
    (root / ".tmp-999999-dead").mkdir()
    (root / ".tmp-999999-dead" / "model.bin").write_bytes(b"partial")
    (root / ".trash-0123").mkdir()
    orphan, fresh = root / ".tmp-999998-gone.lock", root / ".tmp-999997-starting.lock"
    orphan.touch()
    fresh.touch()  # a writer may have just taken its lock and not yet made its folder
    old = time.time() - item_store.ORPHAN_FILE_AGE_S - 10
    os.utime(orphan, (old, old))
    save("iris")
    # .trust holds the provenance records (outside every model folder)
    assert sorted(p.name for p in root.iterdir()) == [".store.lock", fresh.name, ".trust", "iris"]


def test_get_latest_by_version_and_not_found(save, store: ModelStore) -> None:
    first, second = save("iris"), save("iris")
    assert store.get("iris") == second
    assert store.get("iris:latest") == second
    assert store.get(Tag("iris", first.tag.version)) == first
    with pytest.raises(NotFound, match="model 'nope' not found"):
        store.get("nope")
    with pytest.raises(NotFound, match=r"model 'iris:0000000000000000' not found"):
        store.get("iris:0000000000000000")
    with pytest.raises(InvalidArgument):
        store.get("IRIS")


def test_list_filters_by_name_tag_and_labels(save, store: ModelStore) -> None:
    a = save("iris", labels={"stage": "prod", "team": "ml"})
    b = save("iris", labels={"stage": "dev"})
    c = save("bert", labels={"stage": "dev"})
    assert store.list() == [c, b, a]  # newest first
    assert store.list("iris") == [b, a]
    assert store.list(str(a.tag)) == [a]
    assert store.list("iris:latest") == [b]
    assert store.list("iris:0000000000000000") == []
    assert store.list("nope") == []
    assert store.list(labels={"stage": "dev"}) == [c, b]
    assert store.list(labels={"stage": "prod", "team": "ml"}) == [a]
    assert store.list("iris", labels={"stage": "dev"}) == [b]
    assert store.list(labels={"stage": "qa"}) == []


def test_delete(save, store: ModelStore) -> None:
    old, new = save("iris"), save("iris")
    assert store.delete("iris") == new.tag
    assert store.get("iris") == old
    store.delete(old.tag)
    assert not (paths.models_dir() / "iris").exists()
    with pytest.raises(NotFound):
        store.delete("iris")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "model.yaml is missing"),
        ("name: [unclosed", "is not valid YAML"),
        ("- just\n- a list\n", "is not a YAML mapping"),
        ("name: iris\n", "lacks version, creation_time, files, size_bytes"),
        ("creation_time: yesterday", "field 'creation_time' must be an ISO 8601 time"),
        ("labels: [a, b]", "field 'labels' must be a mapping"),
        ("files: 3", "'files' must be a list"),
        ("name: other", "names other:"),
    ],
)
def test_corrupt_model_yaml(save, store: ModelStore, content: str | None, message: str) -> None:
    good = save("good")
    bad = save("iris")
    manifest = bad.path / "model.yaml"
    if content is None:
        manifest.unlink()
    elif content.startswith(("name: [", "- ", "name: iris\n")):
        manifest.write_text(content)
    else:  # change one field of an otherwise valid manifest
        data = yaml.safe_load(manifest.read_text())
        data.update(yaml.safe_load(content))
        manifest.write_text(yaml.safe_dump(data))
    with pytest.raises(StoreCorrupted, match=message) as caught:
        store.get(bad.tag)
    assert str(bad.path) in caught.value.message
    models, problems = store.scan()
    assert models == [good]
    assert [p.message for p in problems] == [caught.value.message]
    assert store.list() == [good]  # skipped, not fatal
    store.delete(bad.tag)  # a corrupt entry can still be removed
    assert store.scan() == ([good], [])


def test_a_stray_folder_with_a_bad_name_is_reported(save, store: ModelStore) -> None:
    good = save("iris")
    (paths.models_dir() / "iris" / "Not-A-Version").mkdir()
    models, problems = store.scan()
    assert models == [good]
    assert "invalid version 'Not-A-Version'" in problems[0].message


def test_verify_detects_tampering(save, store: ModelStore) -> None:
    model = save("iris")
    (model.path / "model.bin").write_bytes(b"tampered")
    with pytest.raises(StoreCorrupted, match="checksum mismatch for 'model.bin'"):
        store.verify(model.tag)
    (model.path / "stray.txt").write_text("x")
    with pytest.raises(StoreCorrupted, match="'stray.txt' is missing or not in model.yaml"):
        store.verify(model.tag)


def test_custom_objects_and_path_of(save, store: ModelStore) -> None:
    model = save("iris", custom_objects={"scale": lambda x: x * 2, "classes": ["a", "b"]})
    loaded = store.get(model.tag)
    assert loaded.custom_objects["scale"](21) == 42
    assert loaded.custom_objects["classes"] == ["a", "b"]
    assert save("bert").custom_objects == {}
    assert loaded.path_of("model.bin").read_bytes() == b"weights"
    with pytest.raises(InvalidArgument, match="outside the folder"):
        loaded.path_of("../../x")


class _Doubler(Runnable):
    def __init__(self, model_tag: str) -> None:
        self.model = ModelStore().get(model_tag)

    @Runnable.method(batchable=True)
    def predict(self, x: int) -> str:
        return f"{self.model.tag.name}:{x * 2}"


@pytest.fixture
def fake_framework(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A framework module registered under ``bentotui.fake`` (the real ones live elsewhere)."""
    module = types.ModuleType("h1_fake_framework")
    module.load_model = lambda model, *a, **kw: ("loaded", str(model.tag), a, kw)
    module.get_runnable = lambda model: _Doubler
    monkeypatch.setitem(sys.modules, "h1_fake_framework", module)
    monkeypatch.setitem(registry._BY_MODULE, "bentotui.fake", registry.FrameworkInfo("bentotui.fake", "h1_fake_framework"))
    return module


def test_load_model_and_to_runner_dispatch_to_the_framework(save, fake_framework) -> None:
    model = save("iris", module="bentotui.fake")
    assert model.load_model(1, device="cpu") == ("loaded", str(model.tag), (1,), {"device": "cpu"})
    runner = model.to_runner(max_batch_size=8)
    assert (runner.name, runner.max_batch_size, runner.models) == ("iris", 8, [model])
    assert runner.runnable_init_params == {"model_tag": str(model.tag)}
    runner.init_local()
    assert runner.predict.run(21) == "iris:42"
    assert model.to_runner(name="other").name == "other"


def test_unknown_framework_module(save) -> None:
    model = save("iris", module="someone.elses")
    with pytest.raises(NotFound, match="no framework module for 'someone.elses'"):
        model.load_model()


def test_listing_cache_follows_every_change(save, store: ModelStore) -> None:
    a, b = save("iris"), save("bert")
    assert store.list() == [b, a]
    cache = paths.models_dir() / item_store.LIST_CACHE
    assert cache.is_file()
    assert store.list() == [b, a]  # served from the cache
    manifest = a.path / "model.yaml"
    data = yaml.safe_load(manifest.read_text())
    data["labels"] = {"changed": "yes"}
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    assert store.list(labels={"changed": "yes"}) == [a]
    manifest.write_text("name: [broken")
    models, problems = store.scan()
    assert models == [b] and "is not valid YAML" in problems[0].message
    store.delete(b.tag)
    assert store.scan()[0] == []
    cache.write_text("{not json")
    c = save("gpt")
    assert store.list() == [c]


def test_explicit_version_is_kept_and_must_be_free() -> None:
    """``create(name, version=...)`` (``bentotui build --version``) stores exactly that version once."""
    from bentotui import paths
    from bentotui.exceptions import Conflict, InvalidArgument
    from bentotui.store.item_store import ItemStore

    store = ItemStore(paths.bentos_dir(), "bento.yaml", kind="bento", archive_suffix=".bento")
    with store.create("svc", version="v1") as draft:
        (draft.path / "a.txt").write_text("a")
    assert str(draft.item.tag) == "svc:v1"
    with pytest.raises(Conflict, match="'svc:v1' already exists"):
        with store.create("svc", version="v1"):
            pass
    with pytest.raises(InvalidArgument, match="reserved"):
        with store.create("svc", version="latest"):
            pass


def test_bentoml_create_yields_a_model_to_write_into() -> None:
    """``with bentoml.models.create(name) as model`` (no module, BentoML's defaults)."""
    from bentotui import models

    with models.create("lookup", labels={"team": "nlp"}, metadata={"rows": 2}) as model:
        model.path_of("table.json").write_text('{"a": 1}')
        with pytest.raises(AttributeError, match="'tag' of model 'lookup' is known once its with block"):
            model.tag  # noqa: B018
    assert model.tag.name == "lookup" and model.path == model.model.path
    assert model.path_of("table.json").read_text() == '{"a": 1}'
    stored = models.get("lookup")
    assert stored == model.model and stored.info.labels == {"team": "nlp"} and stored.info.metadata == {"rows": 2}
    assert (stored.info.module, stored.info.framework, stored.info.signatures) == ("", "", {})
    assert yaml.safe_load((stored.path / "model.yaml").read_text())["api_version"] == "v1"
    for use in (stored.load_model, stored.to_runner, stored.to_runnable):
        with pytest.raises(InvalidArgument, match="no framework module.*read its files from model.path"):
            use()


def test_create_takes_a_version_and_a_context() -> None:
    from bentotui import models

    with models.create("iris:v1", context=models.ModelContext("torch", {"torch": "2.3.1"}), api_version="v2") as m:
        (m.path / "w.bin").write_bytes(b"w")
    assert str(m.tag) == "iris:v1"
    assert (m.info.framework, m.info.framework_version) == ("torch", "2.3.1")
    assert yaml.safe_load((m.path / "model.yaml").read_text())["api_version"] == "v2"
    with pytest.raises(InvalidArgument, match="api_version must be a string"):
        with models.create("iris", api_version=2):  # type: ignore[arg-type]
            pass


def test_external_modules_pickle_custom_objects_by_value(tmp_path: Path) -> None:
    import cloudpickle

    from bentotui import models
    from tests.frameworks.user_modules import run_elsewhere, user_module

    with user_module(tmp_path, "my_prep", "def clean(text):\n    return text.strip().lower()\n") as prep:
        with models.create("prep", custom_objects={"clean": prep.clean}, external_modules=[prep]) as m:
            (m.path / "w.bin").write_bytes(b"w")
        assert "my_prep" not in cloudpickle.list_registry_pickle_by_value()  # registered for the block only
        with pytest.raises(InvalidArgument, match="external_modules must be imported modules"):
            with models.create("bad", external_modules=["my_prep"]):  # type: ignore[list-item]
                pass
        ghost = types.ModuleType("not_imported_anywhere")
        with pytest.raises(InvalidArgument, match="external module 'not_imported_anywhere'"):
            with models.create("bad", external_modules=[ghost]):
                pass
    assert [m.tag.name for m in models.list()] == ["prep"]
    loaded = run_elsewhere(
        f"""
        import bentotui
        print(bentotui.models.get("{m.tag}").custom_objects["clean"]("  Hello "))
        """,
        tmp_path,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "hello"


def test_to_runnable_is_the_framework_class_built_once(save, fake_framework) -> None:
    model = save("iris", module="bentotui.fake")
    assert model.to_runnable() is _Doubler and model.to_runnable() is model.to_runnable()
