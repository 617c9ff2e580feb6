"""RunnerPool with real worker processes (``python -m bentotui _worker``) on real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from bentotui import _process
from bentotui.exceptions import BadInput, BuildError, ServiceUnavailable
from bentotui.runner import Runner
from bentotui.runner.errors import RunnerError
from bentotui.runner.pool import SOCKET_DIR_PREFIX, RunnerPool
from tests.runner.pools import ROOT, assert_gone, worker_pids
from tests.runner.runnables import Broken, BrokenWhileMarked, Doubler


class Recorder:
    """The observer: remembers every batch."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, str, int, float, float]] = []

    def batch(self, runner, method, size, queue_wait_s, exec_s) -> None:
        self.batches.append((runner, method, size, queue_wait_s, exec_s))

    def sizes(self, method: str = "predict") -> list[int]:
        return [size for _, m, size, _, _ in self.batches if m == method]


async def test_concurrent_distinct_inputs_are_batched_and_each_gets_its_own_answer(started):
    recorder = Recorder()
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.005}, max_batch_size=16)
    await started([runner], observer=recorder)
    inputs = [np.full((i % 4 + 1, 3), float(i)) for i in range(400)]
    results = await asyncio.wait_for(asyncio.gather(*(runner.async_run(x) for x in inputs)), 30)
    for i, (x, result) in enumerate(zip(inputs, results, strict=True)):
        assert result.shape == x.shape and (result == 2.0 * i).all(), i
    sizes = recorder.sizes()
    assert sum(sizes) == sum(len(x) for x in inputs)
    assert max(sizes) > 1  # concurrency really produced batches
    assert max(sizes) <= 16  # ...never above max_batch_size
    assert all(wait >= 0 and exec_s > 0 for *_, wait, exec_s in recorder.batches)


async def test_lists_items_and_keyword_arguments_through_workers(started):
    runner = Runner(Doubler)
    await started([runner])
    lists, texts, scaled = await asyncio.gather(
        asyncio.gather(*(runner.async_run([i, i + 1]) for i in range(50))),
        asyncio.gather(*(runner.async_run(f"t{i}") for i in range(50))),
        asyncio.gather(*(runner.predict.async_run([i], scale=3) for i in range(50))),
    )
    assert lists == [[2 * i, 2 * i + 2] for i in range(50)]
    assert texts == [f"t{i}t{i}" for i in range(50)]  # one item in, one item out
    assert scaled == [[3 * i] for i in range(50)]


async def test_worker_errors_keep_their_meaning(started):
    runner = Runner(Doubler)
    await started([runner])
    with pytest.raises(BadInput, match="expected 4 features, got 2") as info:
        await runner.fail.async_run("bad")
    assert info.value.detail == {"expected": 4}
    with pytest.raises(RunnerError) as failed:
        await runner.fail.async_run("other")
    assert str(failed.value) == "ValueError: boom second line"  # one line (pytest's match also reads notes)
    # a wrong-width request fails alone; concurrent good ones are not dragged down with it
    good = [runner.width4.async_run(np.ones((1, 4))) for _ in range(20)]
    bad = runner.width4.async_run(np.ones((1, 2)))
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(float(r[0]) == 4.0 for r in results[:-1])
    assert isinstance(results[-1], BadInput) and "got 2" in str(results[-1])


async def test_non_batchable_calls_spread_over_workers_with_thread_limits(started):
    recorder = Recorder()
    runner = Runner(Doubler)
    pool = await started([runner], workers=2, observer=recorder)
    assert len(worker_pids(pool)) == 2
    pids = await asyncio.gather(*(runner.pid.async_run() for _ in range(40)))
    assert set(pids) == set(worker_pids(pool))
    assert await runner.threads.async_run() == str(max(1, (os.cpu_count() or 1) // 2))
    assert recorder.sizes("pid") == [1] * 40


async def test_run_from_a_thread_and_not_from_the_event_loop(started):
    runner = Runner(Doubler)
    await started([runner])
    assert await asyncio.to_thread(runner.run, [5]) == [10]
    with pytest.raises(RunnerError, match="block the server's event loop"):
        runner.run([5])


async def test_calls_that_cannot_meet_the_latency_target_are_refused_quickly(started):
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.2}, max_batch_size=1, max_latency_ms=500)
    await started([runner])
    for i in range(5):  # teaches the cost model: ~0.2 s a row (the first, cold batch is left out)
        await runner.async_run([i])

    async def timed(i):
        begin = time.monotonic()
        try:
            await runner.async_run([i])
            return "ok", time.monotonic() - begin
        except ServiceUnavailable:
            return "refused", time.monotonic() - begin

    outcomes = await asyncio.wait_for(asyncio.gather(*(timed(i) for i in range(20))), 30)
    refused = [t for kind, t in outcomes if kind == "refused"]
    accepted = [t for kind, t in outcomes if kind == "ok"]
    assert 1 <= len(accepted) <= 4 and len(refused) >= 16
    assert max(refused) < 0.6  # refused up front (or at the latency bound), never queued forever


async def test_killing_a_worker_under_load_nothing_hangs_and_it_recovers(started):
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.02})
    pool = await started([runner])
    [victim] = worker_pids(pool)
    outcomes: dict[str, int] = {"ok": 0, "unavailable": 0}
    saw_not_ready = False

    async def client(n: int) -> None:
        for i in range(n):
            try:
                result = await asyncio.wait_for(runner.async_run([i]), 10)
                assert result == [2 * i]
                outcomes["ok"] += 1
            except ServiceUnavailable:
                outcomes["unavailable"] += 1
                await asyncio.sleep(0.01)

    load = asyncio.gather(*(client(60) for _ in range(8)))
    await asyncio.sleep(0.1)
    # Kill while a batch runs (20 ms each): its calls must fail, not hang or be retried.
    for _ in range(400):
        if pool.stats()["doubler"]["workers"][0]["inflight"]:
            break
        await asyncio.sleep(0.001)
    os.kill(victim, signal.SIGKILL)
    for _ in range(200):
        if not pool.ready:
            saw_not_ready = True
            break
        await asyncio.sleep(0.005)
    await asyncio.wait_for(load, 60)  # every call ended, none hung
    assert saw_not_ready
    assert outcomes["unavailable"] >= 1 and outcomes["ok"] >= 1
    for _ in range(200):
        if pool.ready:
            break
        await asyncio.sleep(0.05)
    assert pool.ready
    assert worker_pids(pool) != [victim]
    assert pool.stats()["doubler"]["workers"][0]["restarts"] == 1
    assert await runner.async_run([21]) == [42]
    assert_gone([victim])


async def test_calls_during_a_restart_wait_for_the_new_worker_and_only_the_call_in_flight_fails(started):
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.5}, max_latency_ms=60_000)
    pool = await started([runner])
    [victim] = worker_pids(pool)
    in_flight = asyncio.ensure_future(runner.async_run([1]))
    await asyncio.sleep(0.1)  # it is on the worker, sleeping; the next ones queue behind it
    queued = [asyncio.ensure_future(runner.async_run([i])) for i in range(2, 5)]
    await asyncio.sleep(0)
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(ServiceUnavailable, match="went away during the call"):
        await asyncio.wait_for(in_flight, 30)
    assert not pool.ready
    single = asyncio.ensure_future(runner.pid.async_run())  # not batchable: waits in the pool
    later = asyncio.ensure_future(runner.async_run([5]))  # batchable: waits in the dispatcher
    assert await asyncio.wait_for(asyncio.gather(*queued, later), 30) == [[4], [6], [8], [10]]
    [replacement] = worker_pids(pool)
    assert replacement != victim and await single == replacement


async def test_a_worker_that_fails_to_restart_fails_its_waiting_calls_at_once(started, tmp_path):
    marker = tmp_path / "broken"
    runner = Runner(BrokenWhileMarked, runnable_init_params={"marker": str(marker)}, max_latency_ms=600_000)
    pool = await started([runner])
    [victim] = worker_pids(pool)
    marker.touch()
    os.kill(victim, signal.SIGKILL)
    while pool.ready:
        await asyncio.sleep(0.01)
    waiting = [asyncio.ensure_future(runner.async_run([1])), asyncio.ensure_future(runner.pid.async_run())]
    # refused once the replacement failed to start, long before max_latency_ms (the bound here)
    for call in waiting:
        with pytest.raises(ServiceUnavailable, match="has no live worker"):
            await asyncio.wait_for(call, 60)
    with pytest.raises(ServiceUnavailable, match="has no live worker"):
        await asyncio.wait_for(runner.async_run([1]), 60)
    marker.unlink()  # the pool keeps retrying, with backoff
    for _ in range(600):
        if pool.ready:
            break
        await asyncio.sleep(0.05)
    assert await runner.async_run([21]) == [42]


def test_sweep_removes_the_socket_folders_of_gone_processes_only(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = Path(tempfile.gettempdir()) / f"{SOCKET_DIR_PREFIX}{gone.pid}-test"
    stale.mkdir()
    (stale / "0-0.sock").touch()
    mine = Path(_process.owned_temp_dir(SOCKET_DIR_PREFIX))  # this process: alive
    reused = Path(tempfile.gettempdir()) / f"{SOCKET_DIR_PREFIX}{os.getpid()}-reused"
    reused.mkdir()
    os.utime(reused, (1_000_000_000, 1_000_000_000))  # last changed before this process started
    other = Path(tempfile.mkdtemp(prefix="bentotui-unrelated-"))
    try:
        removed = _process.sweep_owned_temp_dirs(SOCKET_DIR_PREFIX)
        assert str(stale) in removed and str(reused) in removed
        assert not stale.exists() and not reused.exists()
        assert mine.is_dir() and other.is_dir()
    finally:
        for path in (stale, mine, reused, other):
            shutil.rmtree(path, ignore_errors=True)


async def test_tcp_transport(started):
    runner = Runner(Doubler)
    await started([runner], transport="tcp")
    assert await runner.async_run(np.arange(3)) is not None
    assert (await runner.async_run(np.arange(3)) == [0, 2, 4]).all()


async def test_external_python(started):
    python = str(Path(sys.prefix) / "bin" / "python3")  # the venv's, named explicitly
    runner = Runner(Doubler, python=python)
    pool = await started([runner])
    [pid] = worker_pids(pool)
    assert psutil.Process(pid).cmdline()[:4] == [python, "-m", "bentotui", "_worker"]
    assert await runner.async_run([1]) == [2]


async def test_a_runnable_that_cannot_be_built_fails_start_with_its_message():
    pool = RunnerPool([Runner(Broken)], working_dir=ROOT)
    with pytest.raises(BuildError, match="RuntimeError: cannot load the model file"):
        await asyncio.wait_for(pool.start(), 30)
    assert not pool.ready


async def test_stop_fails_queued_calls_and_leaves_no_process():
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.3}, max_batch_size=1)
    pool = RunnerPool([runner], working_dir=ROOT, workers=2)
    await pool.start()
    assert pool.ready
    pids = worker_pids(pool)
    calls = [asyncio.ensure_future(runner.async_run([i])) for i in range(6)]
    await asyncio.sleep(0.05)
    await asyncio.wait_for(pool.stop(), 15)
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
    assert all(isinstance(r, ServiceUnavailable) for r in results)
    assert not pool.ready
    assert_gone(pids)
    assert runner.run([1]) == [2]  # unbound again: a script-style local call


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_workers_exit_when_the_server_process_dies(tmp_path, busy):
    """Also with a call that would run for minutes in a worker's thread (``busy``): the orphan
    gives it a grace period, then exits anyway."""
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(ROOT)!r})
        from bentotui.runner import Runner
        from bentotui.runner.pool import RunnerPool
        from tests.runner.runnables import Doubler

        async def main():
            runner = Runner(Doubler, runnable_init_params={{"delay_s": 300 if {busy} else 0}})
            pool = RunnerPool([runner], workers=2, working_dir={str(ROOT)!r})
            await pool.start()
            if {busy}:
                asyncio.ensure_future(runner.predict.async_run([1]))
                await asyncio.sleep(0.5)  # the call is in a worker's thread now
            print(pool.socket_dir, *(w["pid"] for w in pool.stats()["doubler"]["workers"]), flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
    """)
    )
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        socket_dir, *pids = server.stdout.readline().split()
        pids = [int(p) for p in pids]
        assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    finally:
        server.kill()  # no chance to clean up
        server.wait(10)
    assert_gone(pids)
    if busy or not Path(socket_dir).is_dir():
        return  # litter a SIGKILL leaves, unless a server started meanwhile (another test) swept it
    next_pool = RunnerPool([Runner(Doubler)], working_dir=ROOT)

    async def start_and_stop() -> None:
        await next_pool.start()
        await next_pool.stop()

    asyncio.run(start_and_stop())
    assert not Path(socket_dir).exists()  # ... swept by the next start


async def test_dataframes_through_workers_keep_each_calls_rows_and_index(started):
    pd = pytest.importorskip("pandas")
    runner = Runner(Doubler)
    await started([runner])
    frames = [
        pd.DataFrame({"a": [i, i + 1], "b": [0.5 * i, 1.0]}, index=[f"r{i}", f"s{i}"]) for i in range(40)
    ]
    results = await asyncio.gather(*(runner.async_run(df) for df in frames))
    for df, result in zip(frames, results, strict=True):
        pd.testing.assert_frame_equal(result, df * 2)


async def test_model_runner_end_to_end(started, iris_data):
    from sklearn.linear_model import LogisticRegression

    import bentotui

    x, y = iris_data
    model = bentotui.sklearn.save_model("iris", LogisticRegression(max_iter=1000).fit(x, y))
    runner = model.to_runner()
    await started([runner])
    rows = [x[i : i + 1] for i in range(0, 150, 3)]
    results = await asyncio.gather(*(runner.predict.async_run(row) for row in rows))
    assert [int(r[0]) for r in results] == [int(y[i]) for i in range(0, 150, 3)]
    with pytest.raises(BadInput, match="expected 4 features, got 2"):
        await runner.predict.async_run(x[:1, :2])


@pytest.mark.parametrize(
    ("spec", "listen", "message"),
    [
        ('{"kind": "class", "ref": "tests.runner.runnables:Nope"}', "unix:/tmp/x.sock", "cannot import"),
        ('{"kind": "class", "ref": "tests.runner.runnables:Doubler"}', "http://x", "bad runner address"),
        ("not json", "unix:/tmp/x.sock", "JSONDecodeError"),
    ],
)
def test_worker_reports_start_errors_on_its_handshake_line(spec, listen, message):
    from bentotui import _process

    done = subprocess.run(
        [*_process.self_command(), "_worker", "--spec", spec, "--listen", listen, "--working-dir", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert message in json.loads(done.stdout)["error"]
    assert "Traceback" in done.stderr  # the details go to the log
