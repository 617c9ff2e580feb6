"""Servers with runner worker processes: batching correctness, worker death, --model services."""

from __future__ import annotations

import asyncio
import signal
import textwrap
import threading
import time

import httpx
import numpy as np
import psutil
import pytest

from tests.helpers.server import serve

IRIS_SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    runner = bentoml.models.get("iris:latest").to_runner(max_batch_size=64, max_latency_ms=60_000)
    svc = bentoml.Service(name="iris", runners=[runner])

    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64"), output=bentoml.io.NumpyNdarray())
    async def proba(arr):
        return await runner.predict_proba.async_run(arr)

    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64"), output=bentoml.io.NumpyNdarray())
    def predict(arr):
        return runner.predict.run(arr)
""")


@pytest.fixture
def iris_saved(iris_lr):
    import bentotui

    signatures = {"predict": {"batchable": True}, "predict_proba": {"batchable": True}}
    return bentotui.sklearn.save_model("iris", iris_lr, signatures=signatures)


@pytest.fixture
def iris_service(tmp_path, iris_saved):
    (tmp_path / "service.py").write_text(IRIS_SERVICE)
    return tmp_path


def _worker_pids(server_pid: int) -> list[int]:
    children = psutil.Process(server_pid).children(recursive=True)
    return [p.pid for p in children if "_worker" in " ".join(p.cmdline())]


def _batch_stats(url: str) -> tuple[float, float]:
    """(sum of rows, number of batches) the proba runner method reported."""
    from bentotui.client import parse_metrics

    # a 1.x Service: BentoML 1.x's runner namespace
    family = parse_metrics(httpx.get(url + "/metrics").text)["bentoml_runner_adaptive_batch_size"]
    rows = batches = 0.0
    for sample in family.samples:
        if sample.labels.get("method_name") != "predict_proba":
            continue
        if sample.name.endswith("_sum"):
            rows += sample.value
        elif sample.name.endswith("_count"):
            batches += sample.value
    return rows, batches


def test_concurrent_distinct_rows_get_their_own_answers(iris_service, iris_lr):
    """200 concurrent requests with distinct rows: each answer is the model's own for that row."""
    rng = np.random.default_rng(0)
    rows = rng.uniform([4, 2, 1, 0.1], [8, 4.5, 7, 2.5], size=(200, 4))
    expected = iris_lr.predict_proba(rows)

    async def fire(url):
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            calls = [client.post("/proba", json=[row.tolist()]) for row in rows]
            return await asyncio.gather(*calls)

    with serve("service:svc", cwd=iris_service) as srv:
        responses = asyncio.run(fire(srv.url))
        assert [r.status_code for r in responses] == [200] * 200, {r.text for r in responses if r.status_code != 200}
        for i, response in enumerate(responses):
            np.testing.assert_allclose(response.json(), expected[i : i + 1], rtol=1e-6)
        rows_seen, batches = _batch_stats(srv.url)
        assert rows_seen == 200
        assert batches < 200  # some calls were merged
        # a sync handler calling runner.run in a thread works too
        r = httpx.post(srv.url + "/predict", json=rows[:3].tolist())
        assert r.json() == iris_lr.predict(rows[:3]).tolist()


def test_sklearn_wrong_width_is_400(iris_service):
    with serve("service:svc", cwd=iris_service) as srv:
        r = httpx.post(srv.url + "/proba", json=[[1.0, 2.0]])
        assert r.status_code == 400
        assert "4 features" in r.json()["error"]


def test_killing_a_worker_under_load(iris_service):
    """No request hangs, /readyz reports the dead worker, and the server recovers."""
    with serve("service:svc", cwd=iris_service, args=("--timeout", "20")) as srv:
        workers = _worker_pids(srv.pid)
        assert workers
        statuses: list[int] = []
        stop = threading.Event()

        def load():
            with httpx.Client(base_url=srv.url, timeout=30) as client:
                while not stop.is_set() and len(statuses) < 5000:
                    statuses.append(client.post("/proba", json=[[5.1, 3.5, 1.4, 0.2]]).status_code)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        psutil.Process(workers[0]).send_signal(signal.SIGKILL)
        ready_codes = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            code = httpx.get(srv.url + "/readyz", timeout=5).status_code
            ready_codes.append(code)
            if code == 200 and 503 in ready_codes:
                break
            time.sleep(0.005)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=40)
            assert not t.is_alive(), "a request hung"
        assert 503 in ready_codes and ready_codes[-1] == 200
        assert set(statuses) <= {200, 503}
        assert statuses[-1] == 200
        new_workers = _worker_pids(srv.pid)
        assert new_workers and workers[0] not in new_workers
        assert httpx.post(srv.url + "/proba", json=[[5.1, 3.5, 1.4, 0.2]]).status_code == 200


def test_model_tag_automatic_service(iris_saved, iris_lr, tmp_path):
    with serve(model="iris:latest", cwd=tmp_path) as srv:
        spec = httpx.get(srv.url + "/docs.json").json()
        assert {"/predict", "/predict_proba"} <= set(spec["paths"])
        rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
        r = httpx.post(srv.url + "/predict", json=rows)
        assert r.status_code == 200 and r.json() == iris_lr.predict(np.array(rows)).tolist()
        from bentotui.client import SyncClient

        with SyncClient(srv.url) as client:
            proba = client.predict_proba(np.array(rows))
        np.testing.assert_allclose(proba, iris_lr.predict_proba(np.array(rows)), rtol=1e-6)


def test_batch_metrics_exported_with_two_workers(iris_service):
    with serve("service:svc", cwd=iris_service, args=("--runner-workers", "2")) as srv:
        assert len(_worker_pids(srv.pid)) == 2
        httpx.post(srv.url + "/proba", json=[[5.1, 3.5, 1.4, 0.2]])
        text = httpx.get(srv.url + "/metrics").text
        assert 'bentoml_runner_adaptive_batch_size_count{method_name="predict_proba",runner_name="iris"' in text
        assert "bentotui_runner_queue_wait_seconds_bucket" in text
