"""View-model functions of the TUI, tested without Textual."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.store.bentos import Bento, BentoInfo
from bentotui.store.models import Model, ModelInfo
from bentotui.store.tags import Tag
from bentotui.tui import fmt, log_view
from bentotui.tui.request_view import ApiInfo, apis_from_openapi, curl_command, pretty_body, response_view
from bentotui.tui.server_view import FAILING, READY, STARTING, STOPPED, ServerBook, epoch
from bentotui.tui.stats import Scrape
from bentotui.tui.store_view import (
    StoreRow,
    bento_row,
    detail_text,
    matches,
    model_row,
    next_sort,
    used_by,
    visible_rows,
)
from tests.tui.snapshot_data import run_info as run

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def model(name, version, *, size=100, created=T0, labels=None, framework="sklearn"):
    info = ModelInfo(
        name=name,
        version=version,
        module=f"bentotui.{framework}",
        framework=framework,
        framework_version="1.9.1",
        python_version="3.11.9",
        bentotui_version="0.1.0",
        creation_time=created,
        labels=labels or {},
        metadata={"acc": 0.97},
        signatures={"predict": {"batchable": True, "batch_dim": 0}},
        files=[{"path": "saved_model.pkl", "size": size, "sha256": "0" * 64}],
        size_bytes=size,
    )
    return Model(Tag(name, version), Path("/store/models", name, version), info)


def bento_manifest(name, version, models, **fields):
    """A ``bento.yaml`` as the store holds it (models as ``{tag, module, creation_time}``)."""
    return {
        "name": name,
        "version": version,
        "creation_time": T0.isoformat(),
        "service": "service:svc",
        "labels": {},
        "models": [{"tag": tag, "module": "bentotui.sklearn", "creation_time": T0.isoformat()} for tag in models],
        "files": [{"path": "bentofile.yaml", "size": 10, "sha256": "0" * 64}],
        "size_bytes": 10,
        **fields,
    }


def bento(manifest):
    info = BentoInfo.from_manifest(manifest, "bento.yaml")
    return Bento(Tag(info.name, info.version), Path("/store/bentos", info.name, info.version), info)


@pytest.fixture
def rows() -> list[StoreRow]:
    return [
        model_row(model("iris", "v1", size=2048, created=T0, labels={"stage": "prod"})),
        model_row(model("iris", "v2", size=1024, created=T0 + timedelta(days=1))),
        model_row(model("bert", "a1", size=4096, created=T0 - timedelta(days=1), framework="transformers")),
        bento_row(bento(bento_manifest("iris_svc", "b1", ["iris:v1"]))),
    ]


def test_model_row_flattens_info(rows):
    iris = rows[0]
    assert (iris.kind, iris.tag, iris.framework, iris.size_bytes) == (
        "model",
        "iris:v1",
        "sklearn 1.9.1",
        2048,
    )
    assert iris.cells() == (
        "model",
        "iris",
        "v1",
        "sklearn 1.9.1",
        "untrusted",  # no store behind these models, so no provenance record
        "2.0 KiB",
        "2026-11-01 12:00",
        "stage=prod",
    )
    assert iris.key == "model/iris:v1" and rows[3].key == "bento/iris_svc:b1"


def test_filter_words_labels_and_inversion(rows):
    assert [r.tag for r in rows if matches(r, "iris")] == ["iris:v1", "iris:v2", "iris_svc:b1"]
    assert [r.tag for r in rows if matches(r, "stage=prod")] == ["iris:v1"]
    assert [r.tag for r in rows if matches(r, "IRIS v2")] == ["iris:v2"]
    assert [r.tag for r in rows if matches(r, "!iris")] == ["bert:a1"]
    assert all(matches(r, "   ") for r in rows)


def test_sort_by_each_column(rows):
    assert [r.tag for r in visible_rows(rows)][:3] == ["iris:v2", "iris:v1", "iris_svc:b1"]
    assert [r.tag for r in visible_rows(rows, sort="size", reverse=True)][0] == "bert:a1"
    assert [r.tag for r in visible_rows(rows, sort="name", reverse=False)] == [
        "bert:a1",
        "iris:v1",
        "iris:v2",
        "iris_svc:b1",
    ]
    assert [r.tag for r in visible_rows(rows, "sklearn", sort="version", reverse=False)] == [
        "iris:v1",
        "iris:v2",
    ]
    with pytest.raises(ValueError):
        visible_rows(rows, sort="colour")
    assert next_sort("created") == "labels" and next_sort("labels") == "kind"


def test_detail_shows_signatures_files_and_bentos_using_it(rows):
    text = detail_text(rows[0], used_by(rows), now=T0 + timedelta(hours=2))
    assert "model iris:v1" in text
    assert 'predict  {"batch_dim": 0, "batchable": true}' in text
    assert "saved_model.pkl  2.0 KiB" in text
    assert "used by bentos\n  iris_svc:b1" in text
    assert "(2h00m ago)" in text
    assert "used by no bento" in detail_text(rows[2], used_by(rows))
    assert "models\n  iris:v1" in detail_text(rows[3])


def test_trust_mark_of_saved_and_imported_models(tmp_path: Path):
    """The mark comes from the store's record: local for a save, untrusted for an import until trusted."""
    from bentotui.store.models import ModelStore

    store = ModelStore()
    with store.create("iris", module="bentotui.sklearn") as draft:
        (draft.path / "model.joblib").write_bytes(b"pickle")
    saved = model_row(draft.model)
    assert saved.trust == "local" and "trust      local: saved here on " in detail_text(saved)
    assert saved.cells()[4] == "local"

    archive = store.export(draft.model.tag, tmp_path)
    store.delete(draft.model.tag)
    imported = model_row(store.import_(archive))
    assert imported.trust == "untrusted"
    text = detail_text(imported)
    assert f"trust      untrusted: imported from {archive.name} on " in text
    assert f"pickled files will not load: bentotui models trust {imported.tag}" in text
    assert [r.tag for r in (saved, imported) if matches(r, "untrusted")] == [imported.tag]
    assert [r.trust for r in visible_rows([imported, saved], sort="trust", reverse=False)] == ["local", "untrusted"]

    trusted = model_row(store.trust(imported.tag))
    assert trusted.trust == "trusted" and "pickled files will not load" not in detail_text(trusted)
    assert bento_row(bento(bento_manifest("svc", "b1", []))).trust == ""


def test_formatters():
    assert fmt.size(512) == "512 B" and fmt.size(1536) == "1.5 KiB" and fmt.size(None) == "-"
    assert [fmt.duration(s) for s in (5, 185, 8040, 97200)] == ["5s", "3m05s", "2h14m", "1d3h"]
    assert fmt.ms(1.234) == "1.2ms" and fmt.ms(250.4) == "250ms" and fmt.percent(0.125) == "12.5%"


def test_server_states_starting_ready_failing_stopped():
    book = ServerBook()
    book.update_runs([run("a")], now=0)
    assert book.entries["a"].state == STARTING
    book.record_probe("a", ready=False, scrape=None)
    assert book.entries["a"].state == STARTING  # never ready yet: still starting
    book.record_probe("a", ready=True, scrape=None)
    assert book.entries["a"].state == READY
    book.record_probe("a", ready=False, scrape=None)
    assert book.entries["a"].state == READY  # one missed probe is noise
    book.record_probe("a", ready=False, scrape=None)
    assert book.entries["a"].state == FAILING
    book.update_runs([], now=50)  # the registry swept it: the process is gone
    entry = book.entries["a"]
    assert entry.state == STOPPED and not entry.alive
    book.record_probe("a", ready=True, scrape=None)  # a late probe does not revive it
    assert entry.state == STOPPED
    book.forget("a")
    assert book.entries == {}


def test_server_cells_and_pid_reuse():
    book = ServerBook()
    book.update_runs([run("a")], now=0)
    book.record_probe("a", True, Scrape(t=0.0, count=0, buckets={0.01: 0.0, float("inf"): 0.0}))
    book.record_probe("a", True, Scrape(t=2.0, count=10, errors=1, buckets={0.01: 10.0, float("inf"): 10.0}))
    start = epoch("2026-11-01T12:00:00+00:00")
    cells = book.entries["a"].cells(now=start + 75)
    texts = tuple(c.text for c in cells.values())
    assert texts == ("service:svc", "3000", "100", "ready", "1m15s", "5.0", "5.0ms", "9.9ms", "10.0%")
    book.update_runs([run("a", pid=200)], now=1)  # same id, new process: a fresh entry
    assert book.entries["a"].state == STARTING and book.entries["a"].stats.latest is None
    book.update_runs([run("a", pid=200, state="stopped")], now=2)
    assert book.entries["a"].state == STOPPED


OPENAPI = {
    "paths": {
        "/healthz": {"get": {"responses": {}}},
        "/classify": {
            "post": {
                "operationId": "classify",
                "requestBody": {"content": {"text/plain": {"example": "hello"}}},
            }
        },
        "/predict": {
            "post": {
                "operationId": "predict",
                "requestBody": {
                    "content": {"application/json": {"schema": {"example": [[5.1, 3.5, 1.4, 0.2]]}}}
                },
            }
        },
        "/plain": {"post": {"requestBody": {"content": {"application/json": {}}}}},
    }
}


def test_apis_from_openapi_with_examples():
    apis = apis_from_openapi(OPENAPI)
    assert [(a.name, a.route, a.content_type) for a in apis] == [
        ("classify", "/classify", "text/plain"),
        ("plain", "/plain", "application/json"),
        ("predict", "/predict", "application/json"),
    ]
    assert apis[0].example == "hello"
    assert json.loads(apis[2].example) == [[5.1, 3.5, 1.4, 0.2]]
    assert apis[1].example == "{}"


def test_curl_round_trips_through_a_shell():
    api = ApiInfo("classify", "/classify", "post", "text/plain", "")
    line = curl_command("http://127.0.0.1:3000/", api, "text/plain", 'it\'s "quoted"\nand $HOME')
    assert shlex.split(line) == [
        "curl",
        "-X",
        "POST",
        "http://127.0.0.1:3000/classify",
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        'it\'s "quoted"\nand $HOME',
    ]


def test_response_view_pretty_prints():
    view = response_view(200, "OK", 0.0123, {"content-type": "application/json"}, b'{"a":[1,2]}')
    assert (
        view.ok
        and view.latency_ms == pytest.approx(12.3)
        and view.body == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    )
    assert view.headers_text() == "content-type: application/json"
    assert pretty_body("image/png", b"\x89PNG...") == "<7 bytes of image/png>"
    assert pretty_body("application/json", b"not json") == "not json"
    assert not response_view(400, "Bad Request", 0.1, [], b"").ok


LOG = [
    "INFO started server on 127.0.0.1:3000",
    'INFO 127.0.0.1 "POST /predict" 200 3ms',
    "WARNING slow batch",
    "ERROR runner crashed",
    "Traceback (most recent call last):",
    "plain line",
]


def test_log_levels_and_filters():
    assert [log_view.level_of(line) for line in LOG] == ["INFO", "INFO", "WARNING", "ERROR", "ERROR", None]
    assert log_view.filter_lines(LOG, "predict") == [LOG[1]]
    # "plain line" continues the ERROR record's traceback (bug 12): it travels with it
    assert log_view.filter_lines(LOG, min_level="WARNING") == LOG[2:]
    assert log_view.filter_lines(LOG, "crash", "ERROR") == [LOG[3]]
    assert log_view.filter_lines(LOG) == LOG
    assert [log_view.next_level(x) for x in (None, "INFO", "WARNING", "ERROR")] == [
        "INFO",
        "WARNING",
        "ERROR",
        None,
    ]


def test_log_match_navigation_wraps():
    found = log_view.find(LOG, "info")
    assert found == [0, 1]
    assert log_view.step(found, 0, True) == 1
    assert log_view.step(found, 1, True) == 0
    assert log_view.step(found, 0, False) == 1
    assert log_view.step([], 0, True) is None


def test_start_form_validation():
    from bentotui.tui.screens.dialogs import StartRequest, parse_start

    assert parse_start("model", " iris:latest ", "") == StartRequest(None, "iris:latest", 0)
    assert parse_start("service", "service:svc", "3000") == StartRequest("service:svc", None, 3000)
    with pytest.raises(InvalidArgument, match="port"):
        parse_start("service", "service:svc", "70000")
    with pytest.raises(InvalidArgument, match="what to serve"):
        parse_start("bento", "  ", "0")


def test_bento_row_from_a_store_manifest():
    manifest = bento_manifest(
        "svc",
        "v9",
        ["iris:v1"],
        creation_time="2026-11-01T12:00:00+00:00",
        files=[{"path": "service.py", "size": 120, "sha256": "0" * 64}],
        size_bytes=120,
        apis=[{"name": "classify", "route": "/classify", "input": "JSON", "output": "JSON"}],
    )
    row = bento_row(bento(manifest))
    assert (row.kind, row.tag, row.created, row.detail["models"]) == ("bento", "svc:v9", T0, ["iris:v1"])
    assert "service.py  120 B" in detail_text(row)
    assert "apis\n  classify" in detail_text(row)
