"""BentoML examples/monitoring/task_classification (identical at v1.1.11 and v1.2.20): bentoml.monitor."""

from __future__ import annotations

import json
import time

import pytest

from tests.compat.examples._support import client, project


def test_monitoring_task_classification(tmp_path):
    proj = project("v1_1/monitoring", tmp_path)
    proj.python("train.py")
    log_path = tmp_path / "monitoring"
    with proj.serve("service.py:svc", env={"MONITORING_LOG_PATH": str(log_path)}) as srv, client(srv) as http:
        # as the example's own tests/conftest.py does: client.classify(np.array([4.9, 3.0, 1.4, 0.2])) x 10
        for _ in range(10):
            r = http.post("/classify", json=[4.9, 3.0, 1.4, 0.2])
            assert r.status_code == 200, r.text
            assert r.text == "setosa"
        assert http.post("/classify", json=[6.3, 3.3, 6.0, 2.5]).text == "virginica"

        data_dir = log_path / "iris_classifier_prediction" / "data"
        records: list[dict] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(records) < 11:
            records = [
                json.loads(line)
                for f in (data_dir.glob("*") if data_dir.exists() else [])
                for line in f.read_text().splitlines()
                if line.strip()
            ]
            time.sleep(0.2)
    assert len(records) == 11, records
    first = records[0]
    assert {
        "timestamp",
        "request_id",
        "sepal length",
        "sepal width",
        "petal length",
        "petal width",
        "pred",
    } <= set(first)
    assert first["sepal length"] == pytest.approx(4.9) and first["petal width"] == pytest.approx(0.2)
    assert sorted(r["pred"] for r in records) == ["setosa"] * 10 + ["virginica"]
    assert len({r["request_id"] for r in records}) == 11
