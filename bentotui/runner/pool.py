"""``RunnerPool``: the worker processes of a service's runners, as the server sees them.

The whole public surface::

    pool = RunnerPool(service.runners, workers=None, working_dir=".", sys_path=[...],
                      observer=metrics, python=None, transport="unix", on_worker_exit=None)
    await pool.start()   # spawn and connect every worker, bind every runner to them
    pool.ready           # True while every runner has at least one live worker (/readyz)
    pool.stats()         # per runner: workers (pid, alive, restarts, in flight), queued rows
    pool.insight()       # the same plus each batchable method's cost line, batch sizes, refusals
    await pool.stop()    # fail queued calls, SIGTERM then SIGKILL the workers, unbind runners

After ``start()``, ``await runner.async_run(...)`` (and ``runner.run(...)`` from a thread other
than the event loop's) goes to the workers: batchable methods through a
:class:`~bentotui.runner.dispatcher.Dispatcher`, the others one call each to the least-busy worker.
``runner.<method>.async_stream(...)`` opens a stream on the worker with the fewest open streams
(streams are not reported to the observer: they are no batch, and last as long as their reader).
``observer.batch(runner_name, method, size, queue_wait_s, exec_s)`` is called once per batch
(size 1 for a non-batchable call); ``queue_wait_s`` is the wait of the batch's oldest call.
``on_worker_exit(pid)`` is called once a worker process has been reaped (the server drops the dead
process's live Prometheus gauges).

Workers: ``workers`` per runner (else ``runner.workers``), default 1 for a runnable with
``SUPPORTS_CPU_MULTI_THREADING`` else one per core; with several, each gets ``cores // workers`` threads through OMP_NUM_THREADS
and friends (unless the environment sets them).  Forked from the pool's fork server, which has
imported the runners' model libraries once (:mod:`~bentotui.runner.forkserver`: by default when
two or more workers run in this interpreter), else started as ``_process.self_command() +
["_worker", ...]``, or ``[python, "-m", "bentotui", "_worker", ...]`` when the runner or the pool
names an external interpreter.  A worker that dies is restarted with backoff; its calls in flight
fail at once with ``ServiceUnavailable`` (never retried: they may have run).  Calls that arrive
while a runner has no live worker wait for the replacement, up to the method's ``max_latency_ms``
(batchable ones in their dispatcher's queue, the others here), unless the replacement itself failed
to start: then they are refused at once.  Workers exit on their own when the server process dies
(see ``worker``).

The worker sockets live in a private temporary folder named after the server's pid
(``_process.owned_temp_dir``); a server killed with SIGKILL cannot remove it, so every start sweeps
the folders of servers that are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

import bentotui
from bentotui import _process, tracing
from bentotui.exceptions import BuildError, InvalidArgument, ServiceUnavailable
from bentotui.runner import auth, forkserver
from bentotui.runner import gpus as gpu_placement
from bentotui.runner.dispatcher import Dispatcher, Observer, live_clients, no_live_worker, report
from bentotui.runner.errors import RunnerError
from bentotui.runner.remote import NameWatcher, is_name
from bentotui.runner.runner import Runner
from bentotui.runner.spec import TORCH_RESULTS_AS_NUMPY_ENV, WorkerSpec
from bentotui.runner.stream import Receiver
from bentotui.runner.transport import Client, parse_address

log = logging.getLogger("bentotui.runner")

STARTUP_TIMEOUT_S = 120.0  # loading a large model can take a while
STOP_GRACE_S = 5.0
_BACKOFF_MIN_S, _BACKOFF_MAX_S = 0.05, 5.0
_STABLE_S = 10.0  # a worker that lived this long restarts without delay growth
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
SOCKET_DIR_PREFIX = "bentotui-workers-"
REMOTE_CONNECT_TIMEOUT_S = 5.0
_RECONNECT_LOG_EVERY_S = 60.0  # one "unreachable" line a minute while a runner server stays down
_FIRST_CONNECT_RETRY_S = 0.25  # between attempts to reach a runner server never reached yet


def worker_count(runner: Runner, override: int | None) -> int:
    """The pool's ``workers`` (``--runner-workers``), else the runner's, else 1 for a library
    that threads by itself and one per core otherwise."""
    default = 1 if runner.runnable_class.SUPPORTS_CPU_MULTI_THREADING else (os.cpu_count() or 1)
    return override or runner.workers or default


class _Worker:
    """One worker slot: a local process restarted in place when it dies, or one connection to a
    runner server (``address``) reconnected when it drops."""

    def __init__(self, index: int, address: str | None = None) -> None:
        self.index = index
        self.address = address
        self.proc: asyncio.subprocess.Process | forkserver.ForkedProcess | None = None
        self.client: Client | None = None
        self.restarts = 0
        self.restarting: asyncio.Task[None] | None = None
        self.up_since = 0.0
        self.backoff = _BACKOFF_MIN_S  # grows while the worker keeps dying young
        self.failing = False  # the last attempt to restart it failed

    @property
    def alive(self) -> bool:
        return self.client is not None and not self.client.closed

    @property
    def coming_back(self) -> bool:
        """A replacement is being started and the last attempt did not fail: calls may wait."""
        return self.restarting is not None and not self.failing

    @property
    def inflight(self) -> int:
        """Calls in flight on the worker's connection (0 while it is down)."""
        client = self.client
        return client.inflight if client is not None and not client.closed else 0


class _RunnerGroup:
    """One runner's workers and dispatchers; it is also the backend the runner is bound to."""

    def __init__(self, pool: RunnerPool, index: int, runner: Runner, workers: int, remote: Sequence[str] = ()) -> None:
        self.pool = pool
        self.index = index
        self.runner = runner
        #: the runner servers this runner's calls go to (``--remote-runner``); empty: local workers
        self.remote = tuple(remote)
        self.spec_json = WorkerSpec.for_runner(runner).to_json()
        # a runner server's slots: one to start with, as many as it has workers once it answers;
        # a host name gets slots for each address it resolves to (remote.NameWatcher)
        slots = [None] * workers if not remote else [a for a in remote if not is_name(a)]
        self.workers = [_Worker(i, address) for i, address in enumerate(slots)]
        names = [address for address in remote if is_name(address)]
        self.names = NameWatcher(names, self._resolved) if names else None
        #: each worker's CUDA_VISIBLE_DEVICES (None: inherited), the same across its restarts
        self.gpus = gpu_placement.assign(
            gpu_request(runner, pool.gpus), workers, gpu_placement.visible_gpus(), runner.name
        )
        self.dispatchers = {
            name: Dispatcher(
                runner=runner.name,
                method=name,
                input_dim=method.config.input_dim,
                output_dim=method.config.output_dim,
                max_batch_size=method.max_batch_size,
                max_latency_ms=method.max_latency_ms,
                workers=self.workers,
                observer=pool.observer,
                on_free=self.pump,
            )
            for name, method in runner.methods.items()
            if method.config.batchable
        }
        self._waiters: list[asyncio.Future[None]] = []  # non-batchable calls waiting for a worker

    # -- processes ---------------------------------------------------------------------------
    @property
    def python(self) -> str | None:
        """The outside interpreter this runner's workers run in (None: this program)."""
        return self.runner.python or self.pool.python

    def _command(self, worker: _Worker) -> tuple[list[str], list[str], dict[str, str]]:
        """The program to run (``... bentotui``), the ``_worker`` arguments and the environment."""
        pool = self.pool
        python = self.python
        prefix = [python, "-m", "bentotui"] if python else _process.self_command()
        if pool.transport == "unix":
            listen = f"unix:{pool.socket_dir}/{self.index}-{worker.index}.sock"
        else:
            listen = "tcp:127.0.0.1:0"
        args = ["--name", self.runner.name, "--spec", self.spec_json, "--listen", listen, "--exit-with-parent"]
        if pool.working_dir:
            args += ["--working-dir", pool.working_dir]
        for path in pool.sys_path:
            args += ["--sys-path", path]
        env = dict(os.environ)
        if len(self.workers) > 1:
            threads = str(max(1, (os.cpu_count() or 1) // len(self.workers)))
            for var in THREAD_VARS:
                env.setdefault(var, threads)
        devices = self.gpus[worker.index]
        if devices is not None:
            env[gpu_placement.CUDA_ENV] = env[gpu_placement.ASSIGNED_ENV] = devices
        if importlib.util.find_spec("torch") is None:
            env[TORCH_RESULTS_AS_NUMPY_ENV] = "1"  # this process could not unpickle a tensor
        if python and not _process.is_frozen():  # an outside interpreter finds this bentotui's source
            package_root = str(Path(bentotui.__file__).resolve().parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        return prefix, args, env

    async def start(self) -> None:
        """Bring up every slot; a runner server that is not up yet is retried in the background
        (the API serves meanwhile, ``/readyz`` failing), a local worker that fails fails the start."""
        if not self.remote:
            await asyncio.gather(*(self.spawn(worker) for worker in self.workers))
            return
        if self.names is not None:
            await self.names.refresh()  # slots for what the names stand for, connecting meanwhile
            self.names.start()
        first = [worker for worker in self.workers if worker.restarting is None]
        # connecting adds a slot per further worker of the runner server
        results = await asyncio.gather(*(self.spawn(worker) for worker in first), return_exceptions=True)
        for worker, result in zip(first, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.error("runner %s: runner server %s: %s; retrying", self.runner.name, worker.address, result)
                self._schedule_restart(worker, failing=True)

    async def spawn(self, worker: _Worker) -> None:
        """Connect the slot: start its worker process, or reach and authenticate its runner server."""
        client = await (self._start_process(worker) if worker.address is None else self._connect_remote(worker))
        client.on_lost = lambda: self._lost(worker, client)
        worker.client = client
        worker.up_since = time.monotonic()
        if worker.address is None:
            log.info("runner %s worker %d up (pid %d)", self.runner.name, worker.index, worker.proc.pid if worker.proc else 0)
            return
        log.info("runner %s: connected to runner server %s (slot %d)", self.runner.name, worker.address, worker.index)
        self._grow(worker.address, int((client.peer or {}).get("workers", 1)))

    async def _connect_remote(self, worker: _Worker) -> Client:
        assert worker.address is not None
        client = await self.pool.client_class.connect(worker.address, REMOTE_CONNECT_TIMEOUT_S, token=self.pool.token)
        served = (client.peer or {}).get("runner")
        if served != self.runner.name:
            client.close()
            raise ServiceUnavailable(f"runner server {worker.address} serves runner {served!r}, not {self.runner.name!r}")
        return client

    def _grow(self, address: str, workers: int) -> None:
        """One slot per worker of the runner server at ``address``: the dispatcher then keeps
        each of its workers busy, as it does local ones (a runner server relays each batch to its
        least-busy worker)."""
        have = sum(1 for worker in self.workers if worker.address == address)
        for _ in range(have, workers):
            slot = _Worker(len(self.workers), address)
            self.workers.append(slot)  # the dispatchers hold this list
            self._schedule_restart(slot, failing=False, delay=0.0)

    def _resolved(self, name: str, addresses: set[str]) -> None:
        """A host name now stands for ``addresses``: connect to the new ones, drop the slots of
        those it no longer names (unless given otherwise too)."""
        for address in sorted(addresses - {worker.address for worker in self.workers}):
            self._grow(address, 1)
        assert self.names is not None  # only its watcher calls this
        kept = set(self.remote).union(*self.names.current.values())
        gone = {worker.address for worker in self.workers} - kept
        for worker in [w for w in self.workers if w.address in gone]:
            log.info("runner %s: runner server %s is no longer in %s; dropping it", self.runner.name, worker.address, name)
            self._drop(worker)
        self.workers[:] = [worker for worker in self.workers if worker.address not in gone]

    @staticmethod
    def _drop(worker: _Worker) -> None:
        if worker.restarting is not None:
            worker.restarting.cancel()
            worker.restarting = None
        client, worker.client = worker.client, None  # so that closing it starts no reconnection
        if client is not None:
            client.close()

    async def _start_process(self, worker: _Worker) -> Client:
        """Start the worker's process (forked by the pool's fork server, else a new interpreter),
        wait for its handshake, connect."""
        prefix, args, env = self._command(worker)
        proc: asyncio.subprocess.Process | forkserver.ForkedProcess | None = None
        forker = await self.pool.fork_server() if self.python is None else None
        if forker is not None:
            with contextlib.suppress(forkserver.ForkServerGone):  # it died: spawn this one
                proc = await forker.fork(args, env)
        if proc is None:
            proc = await asyncio.create_subprocess_exec(
                *prefix, "_worker", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
            )
        worker.proc = proc
        name = self.runner.name
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), STARTUP_TIMEOUT_S)
            if not line:
                code = await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
                raise ServiceUnavailable(f"runner {name!r}: worker exited with code {code} while starting")
            try:
                hello = json.loads(line)
            except ValueError:
                raise ServiceUnavailable(f"runner {name!r}: bad worker handshake {line[:200]!r}") from None
            if "error" in hello:
                raise BuildError(f"runner {name!r}: {hello['error']}")
            client = await self.pool.client_class.connect(hello["address"])
        except BaseException as exc:
            await self._reap(proc)
            if isinstance(exc, asyncio.TimeoutError):
                raise ServiceUnavailable(
                    f"runner {name!r}: worker did not start within {STARTUP_TIMEOUT_S:.0f} s"
                ) from None
            raise
        return client

    def _lost(self, worker: _Worker, client: Client) -> None:
        if worker.client is not client or self.pool.stopping:
            return
        if worker.address is None:
            pid = worker.proc.pid if worker.proc else "?"
            log.warning("runner %s worker %d (pid %s) went away; restarting", self.runner.name, worker.index, pid)
        else:
            log.warning("runner %s: lost runner server %s (slot %d); reconnecting", self.runner.name, worker.address, worker.index)
        worker.client = None
        young = time.monotonic() - worker.up_since < _STABLE_S
        worker.backoff = min(worker.backoff * 2, _BACKOFF_MAX_S) if young else _BACKOFF_MIN_S
        # calls do not wait for a runner server that may be gone for good: with no other slot
        # live they are refused at once (503) until it is back
        self._schedule_restart(worker, failing=worker.address is not None)
        if worker.address is not None:
            self._no_worker_coming()

    def _schedule_restart(self, worker: _Worker, *, failing: bool, delay: float | None = None) -> None:
        worker.failing = failing
        worker.restarting = asyncio.ensure_future(self._restart(worker, worker.backoff if delay is None else delay))

    async def _restart(self, worker: _Worker, backoff: float) -> None:
        counts = worker.up_since > 0  # a slot's first connection is no restart
        attempts, quiet_until = 0, 0.0
        while not self.pool.stopping:
            attempts += 1
            if worker.proc is not None:
                await self._reap(worker.proc)
            await asyncio.sleep(backoff)
            try:
                await self.spawn(worker)
            except Exception as exc:
                if worker.address is None:
                    log.error("runner %s worker %d failed to restart: %s", self.runner.name, worker.index, exc)
                elif time.monotonic() >= quiet_until:  # a server down for long: a line a minute
                    quiet_until = time.monotonic() + _RECONNECT_LOG_EVERY_S
                    log.error("runner %s: runner server %s unreachable (slot %d, attempt %d): %s",
                              self.runner.name, worker.address, worker.index, attempts, exc)
                # a runner server that never answered yet is most likely still loading its model
                # (both started together): keep trying often, so the API is ready when it is
                ceiling = _BACKOFF_MAX_S if counts or worker.address is None else _FIRST_CONNECT_RETRY_S
                backoff = min(max(backoff, _BACKOFF_MIN_S) * 2, ceiling)
                worker.failing = True
                self._no_worker_coming()
                continue
            worker.restarts += counts
            worker.restarting = None
            worker.failing = False
            self.pump()
            self._wake()
            return

    def _no_worker_coming(self) -> None:
        """A restart failed: if no worker is live or on its way, what waits for one fails now."""
        if live_clients(self.workers):
            return
        refusal = no_live_worker(self.runner.name, self.workers)
        if refusal is not None:
            for dispatcher in self.dispatchers.values():
                dispatcher.fail_queued(refusal)
            self._wake()

    def _wake(self) -> None:
        """Let the non-batchable calls waiting for a worker look again."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def stop(self) -> None:
        for dispatcher in self.dispatchers.values():
            dispatcher.close("the server is stopping")
        if self.names is not None:
            await self.names.stop()
        for worker in self.workers:
            if worker.restarting is not None:
                worker.restarting.cancel()
                worker.restarting = None
            if worker.client is not None:
                worker.client.close()
        self._wake()  # nothing is coming back now: the waiting calls are refused
        await asyncio.gather(*(self._reap(w.proc) for w in self.workers if w.proc is not None))

    async def _reap(self, proc: asyncio.subprocess.Process | forkserver.ForkedProcess) -> None:
        await _terminate(proc)
        if self.pool.on_worker_exit is not None:
            self.pool.on_worker_exit(proc.pid)

    # -- calls (the Backend protocol) --------------------------------------------------------
    def pump(self) -> None:
        for dispatcher in self.dispatchers.values():
            dispatcher.pump()

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        dispatcher = self.dispatchers.get(method)
        if dispatcher is not None:
            return await dispatcher.submit(args, kwargs)
        if method not in self.runner.methods:
            raise InvalidArgument(f"runner {self.runner.name!r} has no method {method!r}")
        clients = live_clients(self.workers) or await self._wait_for_worker(method)
        loop = asyncio.get_running_loop()
        started = loop.time()
        client = min(clients, key=lambda client: client.inflight)
        tracer = self.pool.tracing
        if tracer is None:
            future = client.call(method, args, kwargs)
        else:  # a CLIENT span, child of the request's, that the worker's span continues
            span, trace = tracer.start_call(self.runner.name, method)
            try:
                future = client.call(method, args, kwargs, trace)
            except BaseException as exc:
                tracer.end(span, exc)
                raise
            future.add_done_callback(partial(tracer.end_call, span))
        future.add_done_callback(lambda _: self._single_done(method, loop.time() - started))
        return await future

    async def _wait_for_worker(self, method: str) -> list[Client]:
        """Live clients once a replacement worker is up; ``ServiceUnavailable`` if none is coming
        or it takes longer than the method's ``max_latency_ms`` (as a queued batchable call)."""
        loop = asyncio.get_running_loop()
        budget_s = self.runner.methods[method].max_latency_ms / 1000
        deadline = loop.time() + budget_s
        while not (clients := live_clients(self.workers)):
            refusal = no_live_worker(self.runner.name, self.workers)
            if refusal is not None:
                raise refusal
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, deadline - loop.time())
            except asyncio.TimeoutError:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                raise ServiceUnavailable(
                    f"runner {self.runner.name!r}: {method} waited over "
                    f"max_latency_ms={budget_s * 1000:.0f} for a worker"
                ) from None
        return clients

    async def open_stream(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Receiver:
        """A stream from the worker with the fewest open streams (a batchable method streams
        nothing: its dispatcher would have to split items between calls)."""
        if method not in self.runner.methods:
            raise InvalidArgument(f"runner {self.runner.name!r} has no method {method!r}")
        if method in self.dispatchers:
            raise InvalidArgument(f"runner {self.runner.name!r}: batchable method {method!r} cannot stream")
        clients = live_clients(self.workers) or await self._wait_for_worker(method)
        # with tracing on, the worker's span of the stream is a child of the request's span
        trace = None if self.pool.tracing is None else self.pool.tracing.carrier()
        return min(clients, key=lambda client: client.streams).stream(method, args, kwargs, trace)

    def _single_done(self, method: str, exec_s: float) -> None:
        report(self.pool.observer, self.runner.name, method, 1, 0.0, exec_s)
        self.pump()

    def call_sync(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        loop = self.pool.loop
        if loop is None:  # unreachable through a runner: the pool binds runners only once started
            raise RunnerError(f"runner {self.runner.name!r}: its runner pool is not started")
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is loop:
                raise RunnerError(
                    f"runner {self.runner.name!r}: run() would block the server's event loop; "
                    "use `await runner.async_run(...)` in async APIs"
                )
        return asyncio.run_coroutine_threadsafe(self.call(method, args, kwargs), loop).result()


async def _terminate(proc: asyncio.subprocess.Process | forkserver.ForkedProcess) -> None:
    """SIGTERM, then SIGKILL after the grace period; always reaps."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def gpu_request(runner: Runner, default: float) -> float:
    """The GPUs ``runner`` asks for: its own ``resources["gpu"]``, else ``default`` when its
    runnable supports ``nvidia.com/gpu`` (``serve --gpus``), else none."""
    if "gpu" in runner.resources:
        return gpu_placement.check_request(runner.resources["gpu"], f"runner {runner.name!r} resources")
    return default if gpu_placement.NVIDIA_GPU in runner.runnable_class.SUPPORTED_RESOURCES else 0.0


class RunnerPool:
    """Worker processes for a set of runners; see the module docstring."""

    def __init__(
        self,
        runners: Iterable[Runner],
        *,
        workers: int | None = None,
        working_dir: str | os.PathLike[str] | None = None,
        sys_path: Iterable[str | os.PathLike[str]] = (),
        observer: Observer | None = None,
        python: str | None = None,
        transport: Literal["unix", "tcp"] = "unix",
        on_worker_exit: Callable[[int], None] | None = None,
        gpus: float = 0,
        remote: Mapping[str, Sequence[str]] | None = None,
        token: bytes = b"",
        client_class: type[Client] = Client,
    ) -> None:
        if workers is not None and workers < 1:
            raise InvalidArgument(f"--runner-workers must be >= 1, got {workers}")
        if transport not in ("unix", "tcp"):
            raise InvalidArgument(f"runner transport must be 'unix' or 'tcp', got {transport!r}")
        self.runners = list(runners)
        self.working_dir = str(working_dir) if working_dir else None
        self.sys_path = [str(path) for path in sys_path]
        self.observer = observer
        self.python = python
        self.transport = transport
        self.on_worker_exit = on_worker_exit
        #: GPUs for each runner that supports them and asks for none itself (``serve --gpus``)
        self.gpus = gpu_placement.check_request(gpus, "--gpus")
        self.stopping = False
        self.socket_dir = ""
        self.loop: asyncio.AbstractEventLoop | None = None  # set by start()
        self.tracing = tracing.active()  # read once: None (off) costs each call one check
        #: the runner link's token (:mod:`~bentotui.runner.auth`), for runners on runner servers
        self.token = token
        #: what connects to workers (a runner server relays frames through its own subclass)
        self.client_class = client_class
        remote = dict(remote or {})
        unknown = sorted(set(remote) - {runner.name for runner in self.runners})
        if unknown:
            names = ", ".join(runner.name for runner in self.runners) or "none"
            raise InvalidArgument(f"--remote-runner names no runner of this service: {', '.join(unknown)} (runners: {names})")
        for name, addresses in remote.items():
            if not addresses:
                raise InvalidArgument(f"--remote-runner {name}: no address")
            for address in addresses:
                scheme, host, _ = parse_address(address)
                if scheme != "tcp":
                    raise InvalidArgument(f"--remote-runner {name}: {address!r} is not a tcp://HOST:PORT address")
                auth.require_token(host, token, f"--remote-runner {name}: runner server")
        self._groups = [
            _RunnerGroup(self, i, runner, worker_count(runner, workers), remote.get(runner.name, ()))
            for i, runner in enumerate(self.runners)
        ]
        #: what the fork server preloads; None: workers are spawned (see ``forkserver``)
        self._fork_preload = self._fork_plan(forkserver.start_mode())
        self._forker: forkserver.ForkServer | None = None
        self._fork_lock = asyncio.Lock()

    def _fork_plan(self, mode: str) -> list[str] | None:
        """The fork server's preload list, if this pool uses one: always under ``forkserver``,
        under ``auto`` when two or more workers run in this interpreter."""
        groups = [group for group in self._groups if not group.remote and group.python is None]
        local = sum(len(group.workers) for group in groups)
        if mode == "spawn" or local == 0 or (mode == "auto" and local < 2):
            return None
        return forkserver.preload_modules(model for group in groups for model in group.runner.models)

    async def fork_server(self) -> forkserver.ForkServer | None:
        """The running fork server, started (again, if it died) on first use; None when this pool
        spawns its workers, or when the fork server cannot start (then they are spawned)."""
        if self._fork_preload is None or self.stopping:
            return None
        async with self._fork_lock:
            if self._forker is None or not self._forker.alive:
                try:
                    self._forker = await forkserver.ForkServer.start(
                        _process.self_command(), self._fork_preload, os.environ, STARTUP_TIMEOUT_S
                    )
                except Exception as exc:
                    log.warning("cannot start the fork server (%s); spawning workers instead", exc)
                    self._forker = None
        return self._forker

    async def start(self) -> None:
        """Spawn every worker (concurrently) and bind the runners; raises if any cannot start."""
        self.loop = asyncio.get_running_loop()
        _process.sweep_owned_temp_dirs(SOCKET_DIR_PREFIX)  # left by servers killed with SIGKILL
        self.socket_dir = _process.owned_temp_dir(SOCKET_DIR_PREFIX)
        try:
            await asyncio.gather(*(group.start() for group in self._groups))
        except BaseException:
            await self.stop()
            raise
        for group in self._groups:
            group.runner.bind(group)

    async def stop(self) -> None:
        """Stop every worker (SIGTERM, SIGKILL after a grace period) and wait for them."""
        self.stopping = True
        for group in self._groups:
            group.runner.bind(None)
        await asyncio.gather(*(group.stop() for group in self._groups))
        if self._forker is not None:
            await self._forker.close()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    @property
    def fork_server_pid(self) -> int | None:
        """The pid of the live fork server the workers come from; None when they are spawned."""
        forker = self._forker
        return forker.proc.pid if forker is not None and forker.alive else None

    def workers_of(self, runner_name: str) -> Sequence[_Worker]:
        """The worker slots of one runner (what a runner server relays calls to)."""
        return next(group.workers for group in self._groups if group.runner.name == runner_name)

    @property
    def ready(self) -> bool:
        return not self.stopping and all(
            any(worker.alive for worker in group.workers) for group in self._groups
        )

    def insight(self) -> dict[str, Any]:
        """:meth:`stats` plus, per batchable method, what its dispatcher did (the TUI's batching
        panel; see :mod:`bentotui.runner.insight`)."""
        stats = self.stats()
        for group in self._groups:
            stats[group.runner.name]["methods"] = {name: d.insight() for name, d in group.dispatchers.items()}
        return stats

    def stats(self) -> dict[str, Any]:
        return {
            group.runner.name: {
                "workers": [
                    {
                        "pid": worker.proc.pid if worker.proc else None,
                        "address": worker.address,
                        "alive": worker.alive,
                        "restarts": worker.restarts,
                        "inflight": worker.inflight,
                    }
                    for worker in group.workers
                ],
                "queued_rows": {name: d.queued_rows for name, d in group.dispatchers.items()},
            }
            for group in self._groups
        }
