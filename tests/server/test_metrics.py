"""Server metrics under BentoML's names, user metrics summed over processes (real server, real workers)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import textwrap
import time
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bentotui.exceptions import BuildError
from bentotui.server.metrics import (
    DURATION_BUCKETS,
    MULTIPROC_ENV,
    NOT_AVAILABLE,
    ServerMetrics,
    batch_size_buckets,
    multiprocess_dir,
)
from bentotui.store.tags import Tag
from tests.helpers.server import serve


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict, sample_name: str, **labels: str) -> float:
    family = families[sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")]
    matches = [
        s.value
        for s in family.samples
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert matches, f"no {sample_name} sample with {labels}"
    return sum(matches)


def test_bentoml_names_labels_and_prefilled_routes():
    metrics = ServerMetrics("iris-svc", routes=["/predict"])
    metrics.observe_request("/predict", 200, 0.004)
    metrics.observe_request("/predict", 400, 0.2)
    families = _families(metrics.render().decode())

    total = families["bentoml_service_request"]
    assert {s.labels["http_response_code"]: s.value for s in total.samples if s.name.endswith("_total")} == {
        "200": 1.0, "400": 1.0, "500": 0.0,  # 500 is there before any failure, as in BentoML, for rate()
    }
    sample = next(s for s in total.samples if s.name.endswith("_total"))
    assert {k: v for k, v in sample.labels.items() if k != "http_response_code"} == {
        "endpoint": "/predict", "service_name": "iris-svc", "service_version": NOT_AVAILABLE, "runner_name": "iris-svc",
    }
    bounds = sorted({float(s.labels["le"]) for s in families["bentoml_service_request_duration_seconds"].samples
                     if s.name.endswith("_bucket")})
    assert tuple(bounds) == DURATION_BUCKETS == (
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, math.inf,
    )
    assert _value(families, "bentoml_service_request_duration_seconds_count", http_response_code="200") == 1


def test_a_bento_names_service_name_and_version():
    metrics = ServerMetrics("iris-svc", bento=Tag("iris-bento", "20240101abc"))
    metrics.observe_request("/predict", 200, 0.01)
    families = _families(metrics.render().decode())
    labels = next(s.labels for s in families["bentoml_service_request"].samples)
    assert (labels["service_name"], labels["service_version"], labels["runner_name"]) == (
        "iris-bento", "20240101abc", "iris-svc",
    )


def test_a_1x_service_gets_bentoml_1x_api_server_names():
    """A 1.x ``Service`` is served by BentoML (1.4 too) with the 1.x API server's instruments."""
    metrics = ServerMetrics("iris-svc", routes=["/predict"], max_batch_size=8, style="1.x")
    metrics.observe_request("/predict", 200, 0.004)
    metrics.in_progress("/predict").inc()
    metrics.batch("iris", "predict", 3, 0.001, 0.002)
    families = _families(metrics.render().decode())
    assert not [name for name in families if name.startswith("bentoml_service")]
    sample = next(s for s in families["bentoml_api_server_request"].samples if s.name.endswith("_total"))
    assert sample.labels == {  # no runner_name: 1.x's API server has none
        "endpoint": "/predict", "service_name": "iris-svc", "service_version": NOT_AVAILABLE,
        "http_response_code": "200",
    }
    assert _value(families, "bentoml_api_server_request_duration_seconds_count", http_response_code="200") == 1
    gauge = families["bentoml_api_server_request_in_progress"].samples
    assert [(s.labels["endpoint"], s.value) for s in gauge] == [("/predict", 1.0)]
    assert _value(families, "bentoml_runner_adaptive_batch_size_sum", method_name="predict", runner_name="iris") == 3


def test_scrapes_and_probes_are_not_traffic():
    metrics = ServerMetrics("svc")
    metrics.observe_request("/metrics", 200, 0.001)
    metrics.observe_request("/healthz", 200, 0.001)
    families = _families(metrics.render().decode())
    endpoints = {s.labels["endpoint"] for s in families["bentoml_service_request"].samples}
    assert endpoints == {"/healthz"}  # a health probe counts as a request, the scrape itself does not
    assert not families["bentoml_service_last_request_timestamp_seconds"].samples[0].value
    metrics.observe_request("/predict", 200, 0.001)
    stamp = _families(metrics.render().decode())["bentoml_service_last_request_timestamp_seconds"].samples[0]
    assert stamp.value > 1.6e9 and stamp.labels == {
        "service_name": "svc", "service_version": NOT_AVAILABLE, "runner_name": "svc",
    }


def test_in_progress_per_endpoint():
    metrics = ServerMetrics("svc")
    metrics.in_progress("/a").inc()
    metrics.in_progress("/a").inc()
    metrics.in_progress("/b").inc()
    metrics.in_progress("/b").dec()
    families = _families(metrics.render().decode())
    gauge = {s.labels["endpoint"]: s.value for s in families["bentoml_service_request_in_progress"].samples}
    assert gauge == {"/a": 2.0, "/b": 0.0}


def test_adaptive_batch_size_histogram():
    assert batch_size_buckets(100) == (1, 2, 4, 8, 16, 32, 64, 100, math.inf)  # exponential_buckets(1, 2, 100)
    assert batch_size_buckets(8) == (1, 2, 4, 8, math.inf)
    assert batch_size_buckets(1) == (1, math.inf)
    metrics = ServerMetrics("svc", max_batch_size=8)
    metrics.batch("iris", "predict", 5, 0.001, 0.002)
    families = _families(metrics.render().decode())
    sizes = families["bentoml_service_adaptive_batch_size"]
    assert _value(families, "bentoml_service_adaptive_batch_size_sum", method_name="predict", runner_name="iris") == 5
    assert {s.labels["le"] for s in sizes.samples if s.name.endswith("_bucket")} == {"1.0", "2.0", "4.0", "8.0", "+Inf"}
    assert _value(families, "bentotui_runner_queue_wait_seconds_count", runner="iris", method="predict") == 1


def test_multiprocess_dir_is_fresh_exported_and_removed():
    assert MULTIPROC_ENV not in os.environ
    with multiprocess_dir() as folder:
        assert os.environ[MULTIPROC_ENV] == str(folder) and folder.is_dir()
        metrics = ServerMetrics("svc")
        assert metrics.multiprocess
        metrics.observe_request("/a", 200, 0.01)
        metrics.in_progress("/a").inc()
        live = list(folder.glob(f"gauge_livesum_{os.getpid()}.db"))
        assert live  # the in-progress gauge is a live gauge: it must vanish with its process
        assert _value(_families(metrics.render().decode()), "bentoml_service_request_total", endpoint="/a") == 1
        metrics.worker_exited(os.getpid())
        assert not live[0].exists()
    assert MULTIPROC_ENV not in os.environ and not folder.exists()
    assert not ServerMetrics("svc").multiprocess


def test_a_sigkilled_servers_metrics_folder_is_swept_at_the_next_start():
    import subprocess
    import sys
    import tempfile

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.mkdtemp(prefix=f"bentotui-metrics-{gone.stdout.strip()}-"))
    (stale / "counter_1.db").write_bytes(b"\0")
    with multiprocess_dir() as folder:
        assert folder.name.startswith(f"bentotui-metrics-{os.getpid()}-")
        assert not stale.exists()


def test_user_metrics_module_hands_out_prometheus_classes():
    import prometheus_client

    from bentotui import metrics

    assert metrics.Counter is prometheus_client.Counter and metrics.Histogram is prometheus_client.Histogram
    assert {"Counter", "Gauge", "Histogram", "Summary"} <= set(dir(metrics))
    with pytest.raises(BuildError, match="Info is not supported"):
        metrics.Info  # noqa: B018
    with pytest.raises(BuildError, match="Enum is not supported"):
        metrics.Enum  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'Countr'"):
        metrics.Countr  # noqa: B018


USER_METRICS_SERVICE = textwrap.dedent("""
    import os
    import time

    import numpy as np

    import bentotui as bentoml
    import bentotui.metrics as metrics

    hits = metrics.Counter("user_hits", "Calls of hit, counted in whichever worker ran them", ["kind"])
    loaded = metrics.Gauge("user_loaded_workers", "Workers holding the model", multiprocess_mode="livesum")


    @bentoml.service(name="counting", workers=2)
    class Counting:
        def __init__(self):
            loaded.inc()

        @bentoml.api
        def hit(self, kind: str) -> dict:
            hits.labels(kind=kind).inc()
            time.sleep(0.05)  # keep the first worker busy so the next call goes to the other
            return {"pid": os.getpid()}

        @bentoml.api(batchable=True, max_batch_size=16)
        def double(self, input: np.ndarray) -> np.ndarray:
            return input * 2
""")


def _worker_pids(server_pid: int) -> set[int]:
    """The server's live worker processes (a killed one lingers as a zombie until reaped)."""
    pids = set()
    for child in psutil.Process(server_pid).children(recursive=True):  # forked by the fork server
        with contextlib.suppress(psutil.Error):
            if child.status() != psutil.STATUS_ZOMBIE and "_worker" in " ".join(child.cmdline()):
                pids.add(child.pid)
    return pids


def _replaced(srv, killed: int) -> bool:
    """Two live workers again, the new one past start-up (the pool logs it once its handshake came)."""
    pids = _worker_pids(srv.pid)
    if killed in pids or len(pids) < 2:
        time.sleep(0.1)
        return False
    log = srv.log_text()
    return all(f"up (pid {pid})" in log for pid in pids)


def test_user_counter_summed_over_two_workers(tmp_path):
    (tmp_path / "service.py").write_text(USER_METRICS_SERVICE)
    n = 12

    async def fire(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return await asyncio.gather(*(client.post("/hit", json={"kind": "a"}) for _ in range(n)))

    with serve("service:Counting", cwd=tmp_path) as srv:
        responses = asyncio.run(fire(srv.url))
        assert all(r.status_code == 200 for r in responses)
        assert len({r.json()["pid"] for r in responses}) == 2  # both worker processes counted some
        assert httpx.post(srv.url + "/double", json={"input": [[1, 2], [3, 4]]}).status_code == 200
        families = _families(httpx.get(srv.url + "/metrics").text)
        workers = [psutil.Process(pid) for pid in _worker_pids(srv.pid)]
        folders = {p.environ()[MULTIPROC_ENV] for p in workers}  # inherited from the server
        assert len(workers) == 2 and len(folders) == 1
        folder = Path(folders.pop())
        assert folder.is_dir()
        assert _value(families, "user_hits_total", kind="a") == n
        assert _value(
            families, "bentoml_service_request_total", endpoint="/hit", http_response_code="200",
            service_name="counting", service_version=NOT_AVAILABLE,
        ) == n
        assert _value(families, "bentoml_service_request_total", endpoint="/hit", http_response_code="500") == 0
        assert _value(families, "bentoml_service_adaptive_batch_size_count", method_name="double") == 1
        assert {s.labels["le"] for s in families["bentoml_service_adaptive_batch_size"].samples
                if s.name.endswith("_bucket")} == {"1.0", "2.0", "4.0", "8.0", "16.0", "+Inf"}
        assert _value(families, "user_loaded_workers") == 2

        # a worker killed outright is restarted; its live gauge must not linger in the sum
        killed = workers[0].pid
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not _replaced(srv, killed):
            assert time.monotonic() < deadline, "the killed worker was not replaced"
        assert _value(_families(httpx.get(srv.url + "/metrics").text), "user_loaded_workers") == 2
        assert _value(_families(httpx.get(srv.url + "/metrics").text), "user_hits_total", kind="a") == n  # counts stay
        assert srv.stop() == 0
    assert not folder.exists()  # the run's metric files go with it
