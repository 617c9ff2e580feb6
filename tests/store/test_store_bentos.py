"""The bento store: ``BentoInfo`` read from ``bento.yaml``, ``BentoStore`` and the ``bentotui.bentos`` API."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bentotui import bentos, paths
from bentotui.exceptions import Conflict, ImportRejected, NotFound, StoreCorrupted
from bentotui.store.bentos import (
    DEFAULT_PORT,
    BentoApiInfo,
    BentoEnvInfo,
    BentoInfo,
    BentoModelInfo,
    BentoPythonInfo,
    BentoRunnerInfo,
    BentoStore,
)
from bentotui.store.item_store import Item
from bentotui.store.tags import Tag

CREATED = "2026-11-01T12:00:00.123456+00:00"


def _build(name: str, service: str = "service:svc", **info: Any) -> Item:
    with BentoStore().items.create(name) as draft:
        (draft.path / "src").mkdir()
        (draft.path / "src" / "service.py").write_text("svc = None\n")
        draft.info = {"service": service, **info}
    assert draft.item is not None
    return draft.item


def _manifest() -> dict[str, Any]:
    """A ``bento.yaml`` in the shape ``bentotui build`` writes."""
    return {
        "name": "iris_classifier",
        "version": "20261101-120000-a1b2c3",
        "creation_time": CREATED,
        "service": "service:svc",
        "description": "Iris species",
        "bentotui_version": "0.1.0",
        "python_version": "3.11.9",
        "labels": {"stage": "prod"},
        "default_port": 5000,
        "apis": [{"name": "classify", "route": "/classify", "input": "NumpyNdarray", "output": "JSON"}],
        "runners": [
            {"name": "iris", "runnable": "SklearnRunnable", "methods": ["predict"], "models": ["iris:v1"]}
        ],
        "models": [{"tag": "iris:v1", "module": "bentotui.sklearn", "creation_time": CREATED}],
        "python": {"packages": ["scikit-learn"], "requirements_txt": None, "lock_packages": True},
        "envs": [{"name": "HF_TOKEN", "value": "x"}, {"name": "API_KEY", "value": None}],
        "docker": {"base_image": None, "distro": "debian", "expose_port": None},
        "files": [{"path": "src/service.py", "size": 12, "sha256": "0" * 64}],
        "size_bytes": 12,
    }


def test_from_manifest_reads_every_field_build_writes() -> None:
    info = BentoInfo.from_manifest(_manifest(), "bento.yaml")
    created = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert (info.name, info.version, info.creation_time) == ("iris_classifier", "20261101-120000-a1b2c3", created)
    assert (info.service, info.description, info.labels) == ("service:svc", "Iris species", {"stage": "prod"})
    assert (info.bentotui_version, info.python_version, info.default_port) == ("0.1.0", "3.11.9", 5000)
    assert info.apis == [BentoApiInfo("classify", "/classify", "NumpyNdarray", "JSON")]
    assert info.runners == [BentoRunnerInfo("iris", "SklearnRunnable", ["predict"], ["iris:v1"])]
    assert info.models == [BentoModelInfo(Tag("iris", "v1"), "bentotui.sklearn", created)]
    assert info.python == BentoPythonInfo(["scikit-learn"], None, True)
    assert info.envs == [BentoEnvInfo("HF_TOKEN", "x"), BentoEnvInfo("API_KEY", None)]
    assert info.docker == {"base_image": None, "distro": "debian", "expose_port": None}
    assert (info.files, info.size_bytes) == (_manifest()["files"], 12)
    # bentos get -o yaml shows the manifest as it is on disk: same keys, same order, same text
    assert info.to_dict() == _manifest()
    assert list(info.to_dict()) == list(_manifest())


def test_from_manifest_defaults_for_a_minimal_bento() -> None:
    manifest = {k: _manifest()[k] for k in ("name", "version", "creation_time", "service", "files", "size_bytes")}
    info = BentoInfo.from_manifest(manifest, "bento.yaml")
    assert DEFAULT_PORT == 3000 and info.default_port == DEFAULT_PORT
    assert (info.apis, info.runners, info.models, info.labels, info.docker) == ([], [], [], {}, {})
    assert info.python == BentoPythonInfo([], None, False) and info.description is None
    assert BentoInfo.from_manifest({**manifest, "labels": None, "default_port": None}, "x").default_port == 3000


def _with(path: str, value: Any) -> dict[str, Any]:
    """The good manifest with the field at ``path`` (``a.0.b``) replaced, or removed for ``...``."""
    manifest = _manifest()
    *parents, last = path.split(".")
    target: Any = manifest
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return manifest


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("name", ..., "field 'name' must be a string, got None"),
        ("version", 7, "field 'version' must be a string, got 7"),
        ("creation_time", "yesterday", "field 'creation_time' must be an ISO 8601 time"),
        ("creation_time", "2026-11-01T12:00:00", "field 'creation_time' must be an ISO 8601 time with a UTC offset"),
        ("service", ..., "field 'service' must be a string"),
        ("service", ["service:svc"], "field 'service' must be a string"),
        ("service", "", "field 'service' must be a service reference"),
        ("description", 3, "field 'description' must be a string or null"),
        ("bentotui_version", 1.0, "field 'bentotui_version' must be a string"),
        ("labels", ["a"], "field 'labels' must be a mapping"),
        ("labels", {"stage": 1}, "field 'labels' must be a mapping of strings to strings"),
        ("default_port", "3000", "field 'default_port' must be an integer, got '3000'"),
        ("default_port", True, "field 'default_port' must be an integer"),
        ("default_port", 70000, "field 'default_port' must be a port number"),
        ("apis", {"classify": {}}, "field 'apis' must be a list of mappings"),
        ("apis", ["classify"], "field 'apis' must be a list of mappings"),
        ("apis.0.route", ..., "field 'apis[0].route' must be a string, got None"),
        ("runners.0.methods", [1], "field 'runners[0].methods' must be a list of strings"),
        ("runners.0.runnable", None, "field 'runners[0].runnable' must be a string"),
        ("models.0.tag", "iris", "field 'models[0].tag' must be a tag 'name:version', got 'iris'"),
        ("models.0.tag", "Iris:v1", "field 'models[0].tag' must be a tag"),
        ("models.0.tag", 5, "field 'models[0].tag' must be a tag"),
        ("models.0.module", ..., "field 'models[0].module' must be a string"),
        ("models.0.creation_time", "soon", "field 'models[0].creation_time' must be an ISO 8601 time"),
        ("python", ["torch"], "field 'python' must be a mapping"),
        ("python.packages", "torch", "field 'python.packages' must be a list of strings"),
        ("python.requirements_txt", 1, "field 'python.requirements_txt' must be a string or null"),
        ("python.lock_packages", "yes", "field 'python.lock_packages' must be true or false"),
        ("docker", "debian", "field 'docker' must be a mapping"),
        ("files", ..., "field 'files' must be a list of {path, size, sha256}"),
        ("files.0.size", "12", "field 'files' must be a list of {path, size, sha256}"),
        ("size_bytes", ..., "field 'size_bytes' must be an integer, got None"),
    ],
)
def test_from_manifest_refuses_bad_fields(path: str, value: Any, message: str) -> None:
    with pytest.raises(StoreCorrupted, match="^" + re.escape(f"bento.yaml: {message}")):
        BentoInfo.from_manifest(_with(path, value), "bento.yaml")


def test_store_get_list_scan_and_verify() -> None:
    store = BentoStore()
    first = _build("iris_classifier", labels={"stage": "prod"})
    second = _build("iris_classifier", "other:svc", default_port=5000)
    other = _build("churn")
    latest = store.get("iris_classifier")
    assert (latest.tag, latest.path) == (second.tag, second.path)
    assert latest.info.service == "other:svc" and latest.info.default_port == 5000
    assert store.get(first.tag).info.labels == {"stage": "prod"}
    assert store.get(first.tag).info.default_port == DEFAULT_PORT
    assert [b.tag for b in store.list()] == [other.tag, second.tag, first.tag]
    assert [b.tag for b in store.list("iris_classifier")] == [second.tag, first.tag]
    assert store.verify(first.tag) == store.get(first.tag)
    (first.path / "src" / "service.py").write_text("tampered\n")
    with pytest.raises(StoreCorrupted, match="checksum mismatch for 'src/service.py'"):
        store.verify(first.tag)
    assert store.delete("churn") == other.tag
    with pytest.raises(NotFound, match="bento 'churn' not found"):
        store.get("churn")


def test_a_bento_with_a_bad_manifest_is_skipped_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    good = _build("iris_classifier")
    bad = _build("broken", default_port="3000")
    store = BentoStore()
    with pytest.raises(StoreCorrupted, match=r"broken/.*bento.yaml: field 'default_port' must be an integer"):
        store.get(bad.tag)
    found, problems = store.scan()
    assert [b.tag for b in found] == [good.tag]
    assert [p.message for p in problems] == [
        f"{bad.path / 'bento.yaml'}: field 'default_port' must be an integer, got '3000'"
    ]
    with caplog.at_level(logging.WARNING, logger="bentotui.store.bentos"):
        assert store.list() == [store.get(good.tag)]
    assert "skipped a corrupt bento" in caplog.text and "default_port" in caplog.text
    assert store.delete(bad.tag) == bad.tag  # a corrupt bento can still be removed


def test_import_refuses_an_archive_whose_manifest_does_not_read(tmp_path: Path) -> None:
    store = BentoStore()
    bad = _build("broken", apis="classify")
    archive = store.export(bad.tag, tmp_path)
    store.delete(bad.tag)
    with pytest.raises(ImportRejected, match="bento.yaml: field 'apis' must be a list of mappings"):
        store.import_(archive)
    assert store.scan() == ([], [])


def test_read_folder_opens_a_bento_outside_the_store(tmp_path: Path) -> None:
    built = _build("iris_classifier", default_port=5000)
    copy = tmp_path / "unpacked"
    shutil.copytree(built.path, copy)
    bento = BentoStore().read_folder(copy)
    assert (bento.tag, bento.path, bento.info.default_port) == (built.tag, copy.resolve(), 5000)
    (copy / "bento.yaml").write_text("not: [valid")
    with pytest.raises(StoreCorrupted, match="is not valid YAML"):
        BentoStore().read_folder(copy)


def test_public_api_get_list_delete_export_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _build("iris_classifier"), _build("iris_classifier", "other:svc")
    assert first.path.parent == paths.bentos_dir() / "iris_classifier"
    assert (first.path / "bento.yaml").is_file()
    assert bentos.get("iris_classifier").tag == second.tag
    assert bentos.get("iris_classifier").info.service == "other:svc"
    assert [b.tag for b in bentos.list()] == [second.tag, first.tag]
    archive = bentos.export_bento(first.tag, tmp_path)
    assert archive.suffix == ".bento"
    with pytest.raises(Conflict):
        bentos.import_bento(archive)
    assert bentos.delete(first.tag) == first.tag
    assert bentos.import_bento(archive).tag == first.tag
    monkeypatch.setenv("BENTOTUI_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(NotFound, match="bento 'iris_classifier' not found"):
        bentos.get("iris_classifier")
    assert bentos.import_bento(archive).info.service == "service:svc"
