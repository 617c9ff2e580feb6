"""Faults seen through a real ``bentotui serve``: empty batches and the death of the only worker.

The service's runnable lives in its ``service.py`` (the worker imports it from the working
folder).  Its ``slow`` method holds its batch until a *gate* file exists, so a test knows exactly
which call is in flight on the worker when it kills it and which calls are still queued; a *slow
start* file makes the replacement take a second to start, so requests can be sent while the
runner has no live worker at all.  Nothing here asserts on time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from bentotui.client import parse_metrics
from tests.helpers.server import RunningServer, serve

pytestmark = pytest.mark.slow

SERVICE = textwrap.dedent("""
    import os
    import time
    from pathlib import Path

    import bentotui as bentoml

    GATE = Path({gate!r})
    SLOW_START = Path({slow_start!r})

    class Faulty(bentoml.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True  # one worker, as for a scikit-learn model

        def __init__(self):
            if SLOW_START.exists():
                time.sleep(1.0)

        @bentoml.Runnable.method(batchable=True, batch_dim=0)
        def double(self, x):
            return x * 2 if not isinstance(x, list) else [v * 2 for v in x]

        @bentoml.Runnable.method(batchable=True, batch_dim=0)
        def slow(self, x):
            while not GATE.exists():
                time.sleep(0.01)
            return [v * 2 for v in x]

        @bentoml.Runnable.method
        def pid(self):
            return os.getpid()

    runner = bentoml.Runner(Faulty, name="faulty", max_latency_ms=30_000)
    svc = bentoml.Service(name="faults", runners=[runner])

    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64"), output=bentoml.io.NumpyNdarray())
    async def array(arr):
        return await runner.double.async_run(arr)

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def items(values):
        return await runner.double.async_run(values)

    @svc.api(input=bentoml.io.PandasDataFrame(), output=bentoml.io.PandasDataFrame())
    async def frame(df):
        return await runner.double.async_run(df)

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def slow(values):
        return await runner.slow.async_run(values)

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def pid(_):
        return await runner.pid.async_run()
""")


def _write_service(folder: Path) -> tuple[Path, Path]:
    gate, slow_start = folder / "gate", folder / "slow-start"
    (folder / "service.py").write_text(SERVICE.format(gate=str(gate), slow_start=str(slow_start)))
    return gate, slow_start


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    work = tmp_path_factory.mktemp("faults")
    gate, _ = _write_service(work)
    gate.touch()
    env = {"BENTOTUI_HOME": str(tmp_path_factory.mktemp("home"))}
    with serve("service:svc", cwd=work, env=env, timeout=120) as srv:
        yield srv


def _worker_pids(server_pid: int) -> list[int]:
    children = psutil.Process(server_pid).children(recursive=True)
    return [p.pid for p in children if "_worker" in " ".join(p.cmdline())]


def _in_progress(url: str, endpoint: str) -> float:
    family = parse_metrics(httpx.get(url + "/metrics").text)["bentoml_api_server_request_in_progress"]  # a 1.x Service
    return sum(s.value for s in family.samples if s.labels.get("endpoint") == endpoint)


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("route", "good", "doubled"),
    [
        ("/array", [[1.0, 2.0]], [[2.0, 4.0]]),
        ("/items", [1, 2], [2, 4]),
        ("/frame", [{"a": 1}], [{"a": 2}]),
    ],
    ids=["NumpyNdarray", "JSON-list", "DataFrame"],
)
def test_an_empty_batch_is_a_400_every_time_and_the_api_keeps_working(served, route, good, doubled):
    for _ in range(3):  # the first one used to reach the model and the later ones divide by zero
        r = httpx.post(served.url + route, json=[])
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "empty batch: double needs at least one row"
    r = httpx.post(served.url + route, json=good)
    assert r.status_code == 200 and r.json() == doubled
    assert "ZeroDivisionError" not in served.log_text()


def test_killing_the_only_worker_fails_only_its_call_in_flight(tmp_path):
    """The call on the dead worker gets 503; the calls queued behind it and those that arrive
    while no worker is up (batchable or not) wait for the replacement and succeed."""
    gate, slow_start = _write_service(tmp_path)
    with serve("service:svc", cwd=tmp_path, args=("--timeout", "60")) as srv:
        [victim] = _worker_pids(srv.pid)

        async def scenario() -> tuple[list[httpx.Response], list[httpx.Response], httpx.Response]:
            async with httpx.AsyncClient(base_url=srv.url, timeout=60) as client:
                in_flight = asyncio.ensure_future(client.post("/slow", json=[0]))
                await asyncio.to_thread(_wait_for, lambda: _in_progress(srv.url, "/slow") == 1, "the first call")
                queued = [asyncio.ensure_future(client.post("/slow", json=[i])) for i in range(1, 5)]
                await asyncio.to_thread(_wait_for, lambda: _in_progress(srv.url, "/slow") == 5, "the queue")
                slow_start.touch()
                os.kill(victim, signal.SIGKILL)
                first = await in_flight  # fails as soon as the connection to the worker is lost
                ready = await client.get("/readyz")
                # the replacement is still starting (slow start)
                assert ready.status_code == 503 and ready.headers["retry-after"] == "1"
                during = [asyncio.ensure_future(client.post("/slow", json=[i])) for i in range(5, 8)]
                pid = asyncio.ensure_future(client.post("/pid", content="x"))
                gate.touch()
                return [first, *await asyncio.gather(*queued)], list(await asyncio.gather(*during)), await pid

        before, during, pid = asyncio.run(scenario())
        assert before[0].status_code == 503 and before[0].headers["retry-after"] == "1"
        assert before[0].json()["error"] == "runner worker went away during the call"
        assert [(r.status_code, r.json()) for r in before[1:]] == [(200, [2 * i]) for i in range(1, 5)]
        assert [(r.status_code, r.json()) for r in during] == [(200, [2 * i]) for i in range(5, 8)]
        [replacement] = _worker_pids(srv.pid)
        assert replacement != victim
        assert pid.status_code == 200 and pid.json() == replacement
