"""``bentoml.monitor``: records and schema as files, in-process and through real servers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import textwrap
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import pytest

from bentotui.exceptions import BuildError
from bentotui.monitoring import DefaultMonitor, MonitorBase, monitor
from bentotui.monitoring import context as monitoring_context
from tests.helpers.server import serve


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("data/data.*.jsonl*")) for line in path.read_text().splitlines()]


def test_log_and_log_batch_write_rows_and_schema(tmp_path):
    options = {"log_path": tmp_path}
    token = monitoring_context.request_id.set("req-7")
    try:
        with monitor("iris", monitor_options=options) as mon:
            mon.log_batch(np.array([5.1, 6.7]), name="sepal_len", role="feature", data_type="numerical")
            mon.log_batch(["setosa", "virginica"], name="pred", role="prediction", data_type="categorical")
    finally:
        monitoring_context.request_id.reset(token)
    with monitor("iris", monitor_options=options) as mon:
        mon.log(4.9, name="sepal_len", role="feature", data_type="numerical")
        mon.log(np.int64(0), name="pred", role="prediction", data_type="categorical")

    rows = _rows(tmp_path / "iris")
    assert [(r["sepal_len"], r["pred"], r["request_id"]) for r in rows] == [
        (5.1, "setosa", "req-7"), (6.7, "virginica", "req-7"), (4.9, 0, None),
    ]
    assert list(rows[0]) == ["timestamp", "request_id", "sepal_len", "pred"]
    assert datetime.fromisoformat(rows[0]["timestamp"]).tzinfo is not None
    schema = json.loads((tmp_path / "iris" / "schema.json").read_text())
    assert schema == {
        "name": "iris",
        "columns": [
            {"name": "timestamp", "role": "time", "type": "datetime"},
            {"name": "request_id", "role": "request_id", "type": "string"},
            {"name": "sepal_len", "role": "feature", "type": "numerical"},
            {"name": "pred", "role": "prediction", "type": "categorical"},
        ],
    }
    assert [p.name for p in (tmp_path / "iris" / "data").iterdir()] == [f"data.{os.getpid()}.jsonl"]


def test_reserved_names_and_unknown_roles(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, "bentotui.monitoring"), monitor("r", monitor_options={"log_path": tmp_path}) as mon:
        mon.log("x", name="request_id", role="feature", data_type="categorical")
        mon.log(1, name="score", role="explanation", data_type="float")
    assert _rows(tmp_path / "r")[0]["request_id_"] == "x"
    assert "reserved" in caplog.text and "'explanation' is not one of" in caplog.text and "'float'" in caplog.text


def test_schema_rewritten_when_columns_change(tmp_path):
    options = {"log_path": tmp_path}
    with monitor("evolving", monitor_options=options) as mon:
        mon.log(1, name="a", role="feature", data_type="numerical")
    with monitor("evolving", monitor_options=options) as mon:
        mon.log(1, name="a", role="feature", data_type="numerical")
        mon.log(2, name="b", role="prediction", data_type="numerical")
    columns = json.loads((tmp_path / "evolving" / "schema.json").read_text())["columns"]
    assert [c["name"] for c in columns] == ["timestamp", "request_id", "a", "b"]


def test_mistakes_are_named(tmp_path):
    options = {"log_path": tmp_path}
    with pytest.raises(ValueError, match="same number of values, got a=2, b=1"), monitor("m", monitor_options=options) as mon:
        mon.log_batch([1, 2], name="a", role="feature", data_type="numerical")
        mon.log(1, name="b", role="prediction", data_type="numerical")
    mon = DefaultMonitor("m", log_path=tmp_path)
    with pytest.raises(RuntimeError, match=r"log\(\) outside `with bentoml.monitor\('m'\)`"):
        mon.log(1, name="a", role="feature", data_type="numerical")
    with pytest.raises(TypeError, match="needs an iterable for column 'a', got int"), monitor("m", monitor_options=options) as m:
        m.log_batch(3, name="a", role="feature", data_type="numerical")
    with pytest.raises(BuildError, match="monitor name '../up' is not valid"), monitor("../up"):
        pass
    with pytest.raises(BuildError, match="monitor_class 'otlp' is not supported"), monitor("m", monitor_class="otlp"):
        pass
    with pytest.raises(BuildError, match="bad monitor_options for DefaultMonitor"), monitor("m", monitor_options={"log_config_file": "x"}):
        pass
    with pytest.raises(BuildError, match="max_bytes must be a positive integer"):
        DefaultMonitor("m", log_path=tmp_path, max_bytes=0)
    assert not (tmp_path / "m" / "data").exists()  # nothing half-written by the failed records


def test_a_failing_block_writes_nothing(tmp_path):
    with pytest.raises(KeyError), monitor("failing", monitor_options={"log_path": tmp_path}) as mon:
        mon.log(1, name="a", role="feature", data_type="numerical")
        raise KeyError("model blew up")
    with monitor("failing", monitor_options={"log_path": tmp_path}) as mon:  # the record was closed
        mon.log(2, name="a", role="feature", data_type="numerical")
    assert [r["a"] for r in _rows(tmp_path / "failing")] == [2]


def test_rotation_by_size(tmp_path):
    options = {"log_path": tmp_path, "max_bytes": 400, "backup_count": 2}
    for i in range(40):
        with monitor("rotating", monitor_options=options) as mon:
            mon.log(i, name="i", role="feature", data_type="numerical")
    files = sorted(p.name for p in (tmp_path / "rotating" / "data").iterdir())
    base = f"data.{os.getpid()}.jsonl"
    assert files == [base, base + ".1", base + ".2"]
    assert all(p.stat().st_size <= 400 for p in (tmp_path / "rotating" / "data").iterdir())
    kept = sorted(r["i"] for r in _rows(tmp_path / "rotating"))
    assert kept[-1] == 39 and kept == list(range(kept[0], 40)) and kept[0] > 0  # the oldest rows went first


def test_custom_monitor_class_gets_bentoml_hooks():
    seen: list[tuple[str, object]] = []

    class Collector(MonitorBase):
        def export_schema(self, columns_schema):
            seen.append(("schema", list(columns_schema)))

        def export_data(self, datas):
            seen.append(("data", {k: list(v) for k, v in datas.items()}))

    for _ in range(2):
        with monitor("custom", monitor_class=Collector) as mon:
            mon.log_batch([1, 2], name="x", role="feature", data_type="numerical")
    assert seen == [("schema", ["x"]), ("data", {"x": [1, 2]}), ("data", {"x": [1, 2]})]


LEGACY_SERVICE = textwrap.dedent("""
    import bentotui as bentoml
    from bentotui.monitoring import monitor

    svc = bentoml.Service(name="monitored")

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def predict(body):
        rows = body["rows"]
        preds = [int(sum(row) > 10) for row in rows]
        with monitor("monitored") as mon:
            mon.log_batch([row[0] for row in rows], name="f0", role="feature", data_type="numerical")
            mon.log_batch(preds, name="pred", role="prediction", data_type="categorical")
        return preds
""")


@pytest.fixture(scope="module")
def legacy_server(tmp_path_factory):
    """A 1.x service whose API function (in the server process) logs two rows per request."""
    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("svc")
    (folder / "service.py").write_text(LEGACY_SERVICE)
    with serve("service:svc", cwd=folder, env={"BENTOTUI_HOME": str(home)}) as srv:
        ids = []
        for i in range(3):
            r = httpx.post(srv.url + "/predict", json={"rows": [[i, 1], [i, 20]]}, headers={"x-request-id": f"req-{i}"})
            assert r.status_code == 200 and r.json() == [0, 1]
            ids.append(r.headers["x-request-id"])
        yield srv, home / "monitoring" / "monitored", ids


def test_served_records_and_schema(legacy_server):
    srv, folder, _ = legacy_server
    rows = _rows(folder)
    assert [(r["f0"], r["pred"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [p.name for p in (folder / "data").iterdir()] == [f"data.{srv.pid}.jsonl"]  # the API server wrote them
    columns = json.loads((folder / "schema.json").read_text())["columns"]
    assert [c["name"] for c in columns] == ["timestamp", "request_id", "f0", "pred"]


def test_served_records_carry_the_request_id(legacy_server):
    _, folder, ids = legacy_server
    assert [r["request_id"] for r in _rows(folder)] == [rid for rid in ids for _ in range(2)]


CLASS_SERVICE = textwrap.dedent("""
    import time

    import bentotui as bentoml
    from bentotui.monitoring import monitor


    @bentoml.service(name="monitored-class", workers=2)
    class Monitored:
        @bentoml.api
        def predict(self, x: float) -> float:
            with monitor("monitored-class") as mon:
                mon.log(x, name="x", role="feature", data_type="numerical")
                mon.log(x * 2, name="y", role="prediction", data_type="numerical")
            time.sleep(0.05)  # keep this worker busy so the next call goes to the other
            return x * 2
""")


def test_worker_processes_write_files_of_their_own(tmp_path, bentotui_home):
    (tmp_path / "service.py").write_text(CLASS_SERVICE)

    async def fire(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return await asyncio.gather(*(client.post("/predict", json={"x": float(i)}) for i in range(10)))

    with serve("service:Monitored", cwd=tmp_path) as srv:
        assert all(r.status_code == 200 for r in asyncio.run(fire(srv.url)))
    folder = bentotui_home / "monitoring" / "monitored-class"
    assert len(list((folder / "data").iterdir())) == 2  # one file per worker process
    rows = _rows(folder)
    assert sorted((r["x"], r["y"]) for r in rows) == [(float(i), 2.0 * i) for i in range(10)]
    assert json.loads((folder / "schema.json").read_text())["columns"][2:] == [
        {"name": "x", "role": "feature", "type": "numerical"},
        {"name": "y", "role": "prediction", "type": "numerical"},
    ]
