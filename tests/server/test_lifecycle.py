"""Graceful shutdown with requests in flight, and the registry entry's life."""

from __future__ import annotations

import concurrent.futures
import signal
import textwrap
import time

import httpx

from bentotui import runs
from tests.helpers.server import serve
from tests.server.conftest import write_service

FREEZE_COUNTS = textwrap.dedent("""
    import gc

    import bentotui as bentoml


    class Heap(bentoml.Runnable):
        @bentoml.Runnable.method(batchable=False)
        def frozen(self, text):
            return gc.get_freeze_count()


    runner = bentoml.Runner(Heap, name="heap")
    svc = bentoml.Service(name="heap", runners=[runner])


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def frozen(text):
        return {"api": gc.get_freeze_count(), "worker": await runner.frozen.async_run(text)}
""")


def test_sigterm_lets_requests_in_flight_finish(tmp_path):
    with serve("service:svc", cwd=write_service(tmp_path / "svc")) as srv:
        entry = srv.run.path
        assert entry.exists() and runs.get_run(srv.run.id).state == runs.SERVING
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = [
                pool.submit(
                    httpx.post,
                    srv.url + "/sleep",
                    content=b"1.0",
                    headers={"content-type": "application/json"},
                    timeout=15,
                )
                for _ in range(3)
            ]
            time.sleep(0.4)  # all three are in flight
            srv.proc.send_signal(signal.SIGTERM)
            results = [f.result() for f in futures]
        assert [r.status_code for r in results] == [200, 200, 200]
        assert srv.proc.wait(timeout=15) == 0
        assert not entry.exists()
        assert "stopped" in srv.log_text()


def test_sigint_also_exits_cleanly(tmp_path):
    with serve("service:svc", cwd=write_service(tmp_path / "svc")) as srv:
        srv.proc.send_signal(signal.SIGINT)
        assert srv.proc.wait(timeout=15) == 0
        assert runs.list_runs() == []


def test_start_run_detached_and_stop(tmp_path):
    """What the TUI does: start in the background, wait for ready, read logs, stop by id."""
    write_service(tmp_path / "svc")
    info = runs.start_run("service:svc", working_dir=tmp_path / "svc")
    try:
        assert info.port > 0 and info.target == "service:svc"
        runs.wait_ready(info, timeout=30)
        r = httpx.post(
            info.url + "/add", content=b'{"a": 1, "b": 2}', headers={"content-type": "application/json"}
        )
        assert r.json() == {"sum": 3}
        assert [r.id for r in runs.list_runs()] == [info.id]
    finally:
        runs.stop_run(info.id, timeout=15)
    assert runs.list_runs() == []
    time.sleep(0.3)
    log = open(info.log_path).read()
    assert "POST /add 200" in log


def test_the_start_up_heap_is_out_of_the_collectors_sight_in_both_processes(tmp_path):
    """What start-up imported lives as long as the process, so it is frozen (``gc.freeze``): a full
    collection under load walked all of it and stalled every request in flight for 30-40 ms."""
    (tmp_path / "service.py").write_text(FREEZE_COUNTS)
    with serve("service:svc", cwd=tmp_path) as srv:
        r = httpx.post(srv.url + "/frozen", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 200, r.text
    counts = r.json()
    # the HTTP stack, the service and their libraries: tens of thousands of objects, not a few
    assert counts["api"] > 10_000 and counts["worker"] > 10_000, counts
