"""Workers forked from the fork server (``bentotui.runner.forkserver``): real processes, real sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.runner import Runner, forkserver
from bentotui.runner.pool import RunnerPool
from tests.runner.pools import ROOT, worker_pids
from tests.runner.runnables import Broken, Doubler, ForkProbe

pytestmark = pytest.mark.skipif(not forkserver.supported(), reason="the fork server needs Linux pidfds")


def fork_server_pid(pool: RunnerPool) -> int:
    server = pool._forker
    assert server is not None and server.alive
    return server.proc.pid


async def until(predicate, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def kill_worker(pool: RunnerPool, pid: int) -> int:
    """SIGKILL the pool's one worker and wait for its replacement; returns the new pid."""
    os.kill(pid, signal.SIGKILL)
    await until(lambda: pool.ready and worker_pids(pool) != [pid])
    [replacement] = worker_pids(pool)
    return replacement


async def test_two_workers_are_forked_from_one_fork_server_and_look_spawned(started, monkeypatch):
    monkeypatch.delenv(forkserver.START_ENV, raising=False)  # auto
    runner = Runner(ForkProbe, name="doubler")
    pool = await started([runner], workers=2)
    server = fork_server_pid(pool)
    pids = worker_pids(pool)
    assert len(pids) == 2
    for pid in pids:
        process = psutil.Process(pid)
        assert process.ppid() == server
        title = " ".join(process.cmdline())  # setproctitle: what a spawned worker would show
        assert "_worker --name doubler --spec" in title
        # The interpreter's name, as exec'd (not the pytest-xdist worker's retitled one).
        assert process.name() == psutil.Process(server).name() == Path(sys.executable).name[:15]
    parents = {await runner.parent.async_run() for _ in range(8)}
    assert parents == {server}
    assert (await runner.async_run(np.arange(3)) == [0, 2, 4]).all()


async def test_forked_workers_do_not_share_numpy_random_numbers(started, monkeypatch, iris_model):
    """NumPy is imported (seeded) once, in the fork server, when it preloads scikit-learn."""
    monkeypatch.setenv(forkserver.START_ENV, "forkserver")
    runners = [Runner(ForkProbe, name=f"d{i}", models=[iris_model]) for i in range(2)]
    await started(runners)
    draws = [await runner.draw.async_run() for runner in runners]
    assert draws[0] != draws[1]


async def test_forked_workers_get_their_share_of_the_cores(started, monkeypatch, iris_model):
    """The fork server sized its BLAS pool when it preloaded scikit-learn (the runner's model's
    library), for the whole machine; a worker of two on two cores runs one thread, as a spawned one
    would (OMP_NUM_THREADS applied after the fork)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(forkserver.START_ENV, "forkserver")
    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("needs two cores to tell a share from the whole")
    runner = Runner(ForkProbe, models=[iris_model])
    pool = await started([runner], workers=2)
    assert "sklearn.linear_model" in pool._fork_preload
    expected = str(cores // 2)
    for _ in range(4):
        assert await runner.threads.async_run() == expected
        assert await runner.blas_threads.async_run() == [cores // 2]


async def forked_doubler(started, monkeypatch) -> tuple[Runner, RunnerPool, int, int]:
    """A started pool of one forked Doubler worker: the runner, the pool, the fork server's pid and
    the worker's."""
    monkeypatch.setenv(forkserver.START_ENV, "forkserver")
    runner = Runner(Doubler)
    pool = await started([runner])
    [pid] = worker_pids(pool)
    return runner, pool, fork_server_pid(pool), pid


async def test_a_killed_worker_comes_back_forked_from_the_same_server(started, monkeypatch):
    runner, pool, server, pid = await forked_doubler(started, monkeypatch)
    replacement = await kill_worker(pool, pid)
    assert psutil.Process(replacement).ppid() == server
    assert await runner.async_run([1]) == [2]
    assert pool.stats()[runner.name]["workers"][0]["restarts"] == 1


async def test_workers_outlive_a_dead_fork_server_and_restart_through_a_new_one(started, monkeypatch):
    runner, pool, old_server, pid = await forked_doubler(started, monkeypatch)
    os.kill(old_server, signal.SIGKILL)
    await until(lambda: not pool._forker.alive)
    assert await runner.async_run([2]) == [4]  # the worker serves on, an orphan of the fork server
    replacement = await kill_worker(pool, pid)  # its exit is learnt from its pidfd now
    assert psutil.Process(replacement).ppid() == fork_server_pid(pool) != old_server
    assert await runner.async_run([3]) == [6]


async def test_a_lone_worker_is_spawned_under_auto_and_spawn_turns_the_fork_server_off(started, monkeypatch):
    monkeypatch.delenv(forkserver.START_ENV, raising=False)
    lone = await started([Runner(Doubler)])
    assert lone._forker is None and psutil.Process(worker_pids(lone)[0]).ppid() == os.getpid()
    monkeypatch.setenv(forkserver.START_ENV, "spawn")
    pair = await started([Runner(Doubler)], workers=2)
    assert pair._forker is None
    assert {psutil.Process(pid).ppid() for pid in worker_pids(pair)} == {os.getpid()}


def test_a_bad_start_mode_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv(forkserver.START_ENV, "vfork")
    with pytest.raises(InvalidArgument, match="BENTOTUI_WORKER_START must be one of auto, forkserver, spawn"):
        RunnerPool([Runner(Doubler)], working_dir=ROOT)


async def test_a_forked_runnable_that_cannot_be_built_fails_start_with_its_message(monkeypatch):
    monkeypatch.setenv(forkserver.START_ENV, "forkserver")
    pool = RunnerPool([Runner(Broken)], working_dir=ROOT)
    with pytest.raises(BuildError, match="RuntimeError: cannot load the model file"):
        await asyncio.wait_for(pool.start(), 60)
    assert pool._forker is None or not pool._forker.alive  # stopped with the pool


async def test_a_module_that_cannot_be_preloaded_is_left_to_the_workers(tmp_path, caplog):
    server = await forkserver.ForkServer.start(
        [*forkserver_prefix()], ["no_such_module_for_bentotui", "json"], os.environ, 60
    )
    try:
        assert "cannot preload no_such_module_for_bentotui (ModuleNotFoundError" in caplog.text
        pipe = await server.fork(["--name", "x", "--spec", "{}", "--listen", "bogus:"], os.environ)
        line = await asyncio.wait_for(pipe.stdout.readline(), 30)
        assert b'"error"' in line  # the worker's own handshake: the bad arguments, reported
        assert await asyncio.wait_for(pipe.wait(), 30) == 1
        assert pipe.returncode == 1
        with pytest.raises(ProcessLookupError):
            pipe.terminate()
    finally:
        await server.close()
    assert server.proc.returncode == 0  # end of file on its socket: it exits by itself


def forkserver_prefix() -> list[str]:
    from bentotui import _process

    return _process.self_command()


def test_preload_follows_the_frameworks_of_the_runners_models():
    class Info:
        def __init__(self, module: str) -> None:
            self.module = module

    class Model:
        def __init__(self, module: str) -> None:
            self.info = Info(module)

    modules = forkserver.preload_modules([Model("bentotui.sklearn"), "iris:latest", Model("bentotui.sklearn")])
    assert modules[0] == "bentotui.runner.worker"
    assert "sklearn.linear_model" in modules and len(modules) == len(set(modules))
    assert forkserver.preload_modules([Model("bentotui.nope")]) == ["bentotui.runner.worker"]
