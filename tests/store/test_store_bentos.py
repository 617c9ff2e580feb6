"""``bentotui.bentos``: the generic store API over ``bento.yaml`` items."""

from __future__ import annotations

from pathlib import Path

import pytest

from bentotui import bentos, paths
from bentotui.exceptions import Conflict, NotFound


def _build(name: str, service: str = "service:svc") -> bentos.Item:
    with bentos.bento_store().create(name) as draft:
        (draft.path / "src").mkdir()
        (draft.path / "src" / "service.py").write_text("svc = None\n")
        draft.info = {"service": service}
    assert draft.item is not None
    return draft.item


def test_bento_get_list_delete_export_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _build("iris_classifier"), _build("iris_classifier", "other:svc")
    assert first.path.parent == paths.bentos_dir() / "iris_classifier"
    assert (first.path / "bento.yaml").is_file()
    assert bentos.get("iris_classifier").tag == second.tag
    assert bentos.get("iris_classifier").manifest["service"] == "other:svc"
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
    assert bentos.import_bento(archive).manifest["service"] == "service:svc"
