"""``bentotui serve``: bind, start the runner workers, serve on hypercorn, shut down cleanly.

Order matters for the promises the CLI and the TUI rely on:

1. The service is resolved and the port bound *before* anything is registered, so an import
   error, an unknown model or a port in use is one error line and exit code 2, with nothing left
   behind.  The socket is bound here (not by hypercorn) so that ``--port 0`` yields the real port
   for the registry entry.
2. The registry entry (``$BENTOTUI_HOME/runs/<id>.json``) is written, then HTTP is served at once
   while the runner pool starts: ``/healthz`` answers immediately, ``/readyz`` turns 200 when every
   runner has a live worker.
3. SIGTERM/SIGINT stop accepting; hypercorn lets requests in flight finish (bounded by
   ``--timeout``), then the workers stop, the entry is removed and the process exits 0.

Everything written to stderr is copied into the run's log file next to the access log
(:mod:`bentotui.server.stdio`).
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui import runs, tracing
from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound
from bentotui.server.options import ServeOptions
from bentotui.server.stdio import StderrTee, open_streams, setup_logging
from bentotui.service.importing import SERVING_ENV
from bentotui.service.loader import ServeTarget

if TYPE_CHECKING:
    from bentotui.runner.pool import RunnerPool
    from bentotui.runner.runner import Runner
    from bentotui.server.access_log import AccessLog
    from bentotui.server.metrics import ServerMetrics
    from bentotui.service.service import Service

logger = logging.getLogger("bentotui.server")

_FLUSH_EVERY_S = 0.25
#: set by ``serve --reload`` for its children: the pid the registry entry names
SUPERVISOR_ENV = "BENTOTUI_SUPERVISOR_PID"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; a port in use or a bad host is a user error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidArgument(f"cannot resolve host {host!r}: {exc.strerror}") from None
    family, type_, proto, _, address = infos[0]
    sock = socket.socket(family, type_, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BentotuiError(f"port {port} on {host} is already in use (try --port 0 for a free one)") from None
        raise BentotuiError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def resolve_target(options: ServeOptions) -> ServeTarget:
    """What ``options`` name: a stored model's automatic service, or the first resolver's answer
    for TARGET (a ``file.py:attr`` or ``module:attr`` in the working folder, then a bento tag or
    folder)."""
    from bentotui.bento.serving import resolve_bento, resolve_bentofile
    from bentotui.service.loader import MODULE_RESOLVERS, load_target

    if options.model is not None:
        from bentotui.service.model_service import model_service

        return ServeTarget.of(model_service(options.model), options.working_dir)
    assert options.target is not None  # ServeOptions holds exactly one of the two
    return load_target(options.target, options.working_dir, (*MODULE_RESOLVERS, resolve_bento, resolve_bentofile))


def serve(options: ServeOptions) -> int:
    """Run a server until SIGTERM/SIGINT; returns the exit code (0 after a clean shutdown)."""
    run_id = options.run_id or runs.new_run_id()
    # before the service is imported: `with bentoml.importing():` blocks must now raise
    os.environ[SERVING_ENV] = run_id
    if options.depends:  # read where depends(...) resolves, in this process and its workers
        from bentotui.service.remote import DEPENDS_ENV

        os.environ[DEPENDS_ENV] = json.dumps(options.depends)
    log_path = runs.log_path_for(run_id)
    log_path.touch()
    tee = StderrTee(log_path)
    setup_logging(options.log_format)
    if options.otel_endpoint is not None:
        tracing.use_endpoint(options.otel_endpoint)  # in the environment: the workers inherit it
    from bentotui.server.metrics import multiprocess_dir

    try:
        with multiprocess_dir():  # before the service (its metrics) is imported and workers start
            target = resolve_target(options)
            sock = bind_socket(options.host, options.port if options.port is not None else target.default_port)
            if tracing.wanted():  # before the pool and the app, which read tracing.active() once
                # workers name their spans' service after the server's (OTEL_SERVICE_NAME wins)
                os.environ.setdefault(tracing.SERVICE_NAME_ENV, target.service.name)
                tracing.start(target.service.name, {"bentotui.role": "api"})
            return _serve_bound(options, target, sock, run_id, log_path)
    finally:
        tracing.shutdown()  # after the workers stopped: the last requests' spans are exported
        tee.close()


def _serve_bound(options: ServeOptions, target: ServeTarget, sock: socket.socket, run_id: str, log_path: Path) -> int:
    from bentotui.server.access_log import AccessLog
    from bentotui.server.metrics import ServerMetrics

    host, port = sock.getsockname()[:2]
    service = target.service
    metrics = ServerMetrics.for_target(target)
    pool = _make_pool(target, options, metrics)
    streams = open_streams(log_path)
    access_log = AccessLog(streams, fmt=options.log_format)
    # under --reload the registry names the supervisor, which outlives each restarted server
    owner = int(os.environ.get(SUPERVISOR_ENV) or os.getpid())
    info = runs.RunInfo(
        id=run_id, pid=owner, host=options.host, port=port, target=options.target or f"--model {options.model}",
        log_path=str(log_path), started_at=runs.now_iso(), working_dir=str(target.working_dir),
        create_time=runs.process_create_time(owner),
        extra={"service": service.name, "apis": sorted(service.apis), "model": options.model},
    )
    runs.write_run(info)
    logger.info("serving %s (run %s) on http://%s:%s", service.name, run_id, host, port)
    server = _Server(options, service, pool, metrics, access_log, info, sock.detach())
    try:
        asyncio.run(server.run())
    finally:
        runs.remove_run(run_id)
        access_log.flush()
        for stream in streams:
            stream.close()
    if server.startup_error is not None:
        exc = server.startup_error
        if isinstance(exc, BentotuiError):
            raise exc
        raise BentotuiError(f"startup failed: {type(exc).__name__}: {exc}") from exc
    logger.info("server %s stopped", run_id)
    return 0


def _make_pool(target: ServeTarget, options: ServeOptions, metrics: ServerMetrics) -> RunnerPool | None:
    from bentotui.runner import forkserver

    forkserver.start_mode()  # a bad BENTOTUI_WORKER_START is refused even with no runner to start
    runners = target.service.runners
    if not runners:
        return None
    from bentotui.runner.pool import RunnerPool

    if not options.python:
        for runner in runners:
            if runner.name not in options.remote_runners:
                runner.python = runner.python or outside_python(runner)
    token = b""
    if options.remote_runners:
        from bentotui.runner.auth import load_token

        token = load_token(options.token_file)
    return RunnerPool(
        runners, **local_pool_options(options, target), observer=metrics, on_worker_exit=metrics.worker_exited,
        remote=options.remote_runners, token=token,
    )


def local_pool_options(options: ServeOptions, target: ServeTarget) -> dict[str, Any]:
    """How the pool of ``serve`` or of a runner server starts its local workers."""
    return {
        "workers": options.runner_workers, "working_dir": str(target.working_dir),
        "sys_path": [str(target.working_dir)], "python": options.python, "gpus": options.gpus,
    }


def _stored(models: list[Any]) -> list[Any]:
    """The store models of a runner: a 1.2 class's ``BentoModel`` references looked up (one the
    store lacks is left for its worker to report, when the instance first reads it)."""
    found = []
    for model in models:
        if hasattr(model, "resolve"):
            try:
                model = model.resolve()
            except NotFound:
                continue
        found.append(model)
    return found


def outside_python(runner: Runner) -> str | None:
    """The ``runner.python`` setting for a runner whose framework this program cannot import.

    The slim PyInstaller bundle carries scikit-learn but not torch or transformers: their models
    run in workers started with a Python environment the user names, speaking the same protocol.
    """
    import importlib.util

    from bentotui import config
    from bentotui.frameworks.registry import framework

    missing = sorted({
        package
        for model in _stored(runner.models)
        if model.info.module  # models.create() without a framework: files the runnable reads itself
        for package in framework(model.info.module).import_packages
        if importlib.util.find_spec(package) is None
    })
    if not missing:
        return None
    python: str | None = config.get("runner.python")  # `bentotui config set` stores a string
    if not python:
        raise InvalidArgument(
            f"runner {runner.name!r} needs {', '.join(missing)}, which this bentotui does not carry: "
            "run `bentotui config set runner.python /path/to/venv/bin/python` (a venv with bentotui[torch,hf]) "
            "or pass --python"
        )
    return python


class _Server:
    """The asyncio side: runner workers, the HTTP stack, signals and the ordered shutdown.

    The workers are spawned first and the HTTP stack (quart, hypercorn) is imported in a thread
    meanwhile, so the two largest parts of a cold start (the model library's import in the
    worker, the web framework's import here) overlap on separate cores.
    """

    def __init__(
        self, options: ServeOptions, service: Service, pool: RunnerPool | None, metrics: ServerMetrics,
        access_log: AccessLog, info: runs.RunInfo, fd: int,
    ) -> None:
        self.options, self.service, self.pool = options, service, pool
        self.metrics, self.access_log, self.info, self.fd = metrics, access_log, info, fd
        self.started = False
        self.startup_error: BaseException | None = None
        self.stop = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        starter = asyncio.create_task(self._start())
        flusher = asyncio.create_task(self._flush_logs())
        try:
            serve_http = await asyncio.to_thread(self._http_stack)
            # Everything imported so far (the HTTP stack, the service, its libraries) lives as long
            # as the process: out of the collector's sight, a full collection no longer walks it.
            # Under load those collections came every ~0.8 s and stalled every request in flight
            # for 30-40 ms, most of the p99 at c=64 (docs/benchmarks.md, "The garbage collector").
            gc.freeze()
            await serve_http()
        except Exception as exc:
            # a mounted ASGI app failed its lifespan startup: hypercorn wraps our one-line reason
            from hypercorn.utils import LifespanFailureError

            if not isinstance(exc, LifespanFailureError):
                raise
            reason = str(exc).partition(". ")[2].strip("'") or str(exc)
            self.startup_error = BentotuiError(reason)
        finally:
            flusher.cancel()
            if not starter.done():
                starter.cancel()
            await self._shutdown()

    def _http_stack(self) -> Callable[[], Awaitable[None]]:
        """Import and set up the HTTP stack; returns the call that serves until ``self.stop``."""
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        from bentotui.server.app import create_app

        app = create_app(
            self.service, self.pool, max_body=self.options.max_body, timeout=self.options.timeout,
            read_timeout=self.options.read_timeout, max_connections=self.options.max_connections,
            max_concurrency=self.options.max_concurrency, metrics=self.metrics, access_log=self.access_log,
            is_started=lambda: self.started, host=self.options.host,
            allowed_hosts=self.options.allowed_hosts, cors_origins=self.options.cors_origins,
        )
        config = Config()
        config.bind = [f"fd://{self.fd}"]
        config.accesslog = None
        config.errorlog = logger
        config.graceful_timeout = self.options.timeout
        config.keep_alive_timeout = 5.0
        return partial(hypercorn_serve, app, config, shutdown_trigger=self.stop.wait)

    async def _start(self) -> None:
        try:
            await self.service.deploy()  # BentoML's order: deployment hooks prepare what workers load
            if self.pool is not None:
                await self.pool.start()
            await self.service.startup()
        except Exception as exc:
            logger.exception("startup failed")
            self.startup_error = exc
            self.stop.set()
            return
        self.started = True
        self.info.state = runs.SERVING
        runs.write_run(self.info)

    async def _flush_logs(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_EVERY_S)
            self.access_log.flush()

    async def _shutdown(self) -> None:
        """After HTTP has drained: mark the entry, run shutdown hooks, stop the workers."""
        self.info.state = runs.STOPPING
        if self.info.path.exists():
            runs.write_run(self.info)
        if self.started:
            try:
                await self.service.shutdown()
            except Exception:
                logger.exception("a shutdown hook failed")
        if self.pool is not None:
            began = time.monotonic()
            await self.pool.stop()
            logger.info("runner workers stopped in %.2fs", time.monotonic() - began)
