"""The worker process: ``bentotui _worker --spec JSON --listen ADDRESS [...]``.

Started by the pool as ``_process.self_command() + ["_worker", ...]`` (or ``[python, "-m",
"bentotui", "_worker", ...]`` for an external interpreter).  It builds the runnable from its
:class:`~bentotui.runner.spec.WorkerSpec`, listens on its socket and executes calls one at a
time, in arrival order, on its event loop thread (a batch is one call).

Start-up handshake: the original stdout carries exactly one JSON line, ``{"address": ...}`` once
listening or ``{"error": ...}`` if the runnable cannot be built; everything else the worker or the
model prints goes to stderr, which the server captures into its log.

Streams (``STREAM`` frames) run concurrently with calls, each as a task of its own
(:class:`~bentotui.runner.stream.Producer`): an async generator on the event loop, a sync one a
step at a time in a thread, as BentoML runs them.

Tracing (:mod:`bentotui.tracing`) is on when the environment the server passed down asks for
it: a call frame that carries a trace context then runs in a SERVER span that continues the API
process's span (the runnable's own spans are its children), exported with the server's settings
and flushed when the worker exits (SIGTERM then stops the event loop instead of killing it).

No orphans: with ``--exit-with-parent`` the worker exits when its stdin (a pipe the parent holds
and never writes) reaches end of file, i.e. when the parent is gone, however it died; a method
still running then gets :data:`ORPHAN_GRACE_S` to return before the process ends anyway (a call
that never returns would otherwise keep the orphan alive forever).  SIGINT is
ignored so that Ctrl-C in a terminal lets the server stop its workers in order.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any

from bentotui import tracing
from bentotui.runner import codec
from bentotui.runner.runnable import Runnable
from bentotui.runner.spec import WorkerSpec
from bentotui.runner.stream import CREDIT_FORMAT, Producer
from bentotui.runner.transport import (
    CANCEL,
    CREDIT,
    ERROR,
    FAIL,
    RESULT,
    STREAM,
    STREAM_REPLIES,
    FrameProtocol,
    parse_address,
    serve,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from bentotui._otel import Tracing

log = logging.getLogger("bentotui.worker")
#: how long an orphaned worker waits for the calls still running in its threads
ORPHAN_GRACE_S = 3.0


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bentotui _worker")
    parser.add_argument("--spec", required=True, help="WorkerSpec as JSON")
    parser.add_argument("--listen", required=True, help="unix:PATH or tcp:HOST:PORT")
    parser.add_argument("--working-dir", default=None)
    parser.add_argument("--sys-path", action="append", default=[])
    parser.add_argument("--exit-with-parent", action="store_true")
    parser.add_argument("--name", default="runner", help="runner name, for log lines")
    return parser.parse_args(argv)


class _Executor:
    """Runs each CALL frame against the runnable and writes the reply on the same connection."""

    def __init__(self, runnable: Runnable, name: str = "runner", tracer: Tracing | None = None) -> None:
        self.runnable = runnable
        self.methods = set(type(runnable).runnable_methods())
        self.name = name  # the runner's, for span names
        self.tracer = tracer
        #: the open span of each traced call or stream, by (connection, msg_id), ended by its reply
        self.spans: dict[tuple[int, int], Span] = {}

    def __call__(self, protocol: FrameProtocol, msg_id: int, parts: list[memoryview]) -> None:
        try:
            method, args, kwargs, trace = codec.decode(parts)
        except Exception as exc:
            self._reply_error(protocol, msg_id, exc)
            return
        if trace is not None and self.tracer is not None:
            with self.traced(protocol, msg_id, method, trace):
                self._run(protocol, msg_id, method, args, kwargs)
        else:
            self._run(protocol, msg_id, method, args, kwargs)

    def traced(
        self, protocol: FrameProtocol, msg_id: int, method: str, trace: dict[str, str]
    ) -> AbstractContextManager[Span]:
        """Open the call's span and make it current while the method starts (an ``async``
        method's task is created inside, so it runs in the span too)."""
        assert self.tracer is not None
        span = self.spans[(id(protocol), msg_id)] = self.tracer.start_remote(self.name, method, trace)
        return self.tracer.activate(span)

    def end_span(self, protocol: FrameProtocol, msg_id: int, exc: BaseException | None) -> None:
        """End the span of ``msg_id``'s call or stream, if it has one."""
        if self.spans:  # off or untraced: one check per reply
            span = self.spans.pop((id(protocol), msg_id), None)
            if span is not None and self.tracer is not None:
                self.tracer.end(span, exc)

    def _run(self, protocol: FrameProtocol, msg_id: int, method: str, args: Any, kwargs: Any) -> None:
        try:
            if method not in self.methods:
                raise AttributeError(f"runnable has no runner method {method!r}")
            result = getattr(self.runnable, method)(*args, **kwargs)
        except Exception as exc:
            self._reply_error(protocol, msg_id, exc)
            return
        if inspect.isawaitable(result):
            asyncio.ensure_future(self._finish(protocol, msg_id, result))
        else:
            self._reply(protocol, msg_id, result)

    async def _finish(self, protocol: FrameProtocol, msg_id: int, awaitable: Awaitable[Any]) -> None:
        try:
            result = await awaitable
        except Exception as exc:
            self._reply_error(protocol, msg_id, exc)
            return
        self._reply(protocol, msg_id, result)

    def _reply(self, protocol: FrameProtocol, msg_id: int, result: Any) -> None:
        try:
            parts = codec.encode(result)
        except Exception as exc:
            self._reply_error(protocol, msg_id, exc)
            return
        self._send(protocol, msg_id, RESULT, parts)

    def _reply_error(self, protocol: FrameProtocol, msg_id: int, exc: Exception, kind: int = ERROR) -> None:
        """Reply with the error; log its traceback unless it is the caller's (a 4xx ``BentotuiError``).

        The HTTP server answers a worker's 5xx failures generically, so this log line (in the
        server's log, which captures the worker's stderr) is where their message and traceback go.
        """
        if not codec.is_callers_error(exc):
            log.error("call failed", exc_info=exc)
        self._send(protocol, msg_id, kind, codec.encode_error(exc), exc)

    def _send(
        self, protocol: FrameProtocol, msg_id: int, kind: int, parts: codec.Parts, exc: BaseException | None = None
    ) -> None:
        self.end_span(protocol, msg_id, exc)
        try:
            protocol.send(msg_id, kind, parts)
        except ConnectionError:  # the caller hung up; nothing left to tell
            pass


class _Streams:
    """The stream frames: ``STREAM`` starts a :class:`Producer`, ``CREDIT`` and ``CANCEL`` reach
    it by ``(connection, msg_id)``; a lost connection cancels its streams."""

    def __init__(self, executor: _Executor) -> None:
        self.executor = executor
        self.producers: dict[tuple[int, int], Producer] = {}

    def on_frame(self, protocol: FrameProtocol, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        if kind == STREAM:
            self._open(protocol, msg_id, parts)
            return
        producer = self.producers.get((id(protocol), msg_id))
        if producer is None:  # it ended meanwhile
            return
        if kind == CREDIT:
            producer.grant(CREDIT_FORMAT.unpack(parts[0])[0])
        elif kind == CANCEL:
            producer.cancel()

    def _open(self, protocol: FrameProtocol, msg_id: int, parts: list[memoryview]) -> None:
        executor = self.executor
        try:
            method, args, kwargs, credit, trace = codec.decode(parts)
        except Exception as exc:
            executor._reply_error(protocol, msg_id, exc, FAIL)
            return
        if trace is not None and executor.tracer is not None:
            with executor.traced(protocol, msg_id, method, trace):  # the span lasts until the stream ends
                self._start(protocol, msg_id, method, args, kwargs, credit)
        else:
            self._start(protocol, msg_id, method, args, kwargs, credit)

    def _start(
        self, protocol: FrameProtocol, msg_id: int, method: str, args: Any, kwargs: Any, credit: int
    ) -> None:
        # the method is called as a CALL's is (that copy stays inline: it is the hot path)
        try:
            if method not in self.executor.methods:
                raise AttributeError(f"runnable has no runner method {method!r}")
            result = getattr(self.executor.runnable, method)(*args, **kwargs)
        except Exception as exc:
            self.executor._reply_error(protocol, msg_id, exc, FAIL)
            return
        producer = Producer(protocol, msg_id, credit, STREAM_REPLIES, self._done)
        self.producers[(id(protocol), msg_id)] = producer
        producer.start(result)

    def _done(self, producer: Producer) -> None:
        self.producers.pop((id(producer.protocol), producer.msg_id), None)
        self.executor.end_span(producer.protocol, producer.msg_id, None)

    def on_lost(self, protocol: FrameProtocol) -> None:
        for (conn, _), producer in list(self.producers.items()):
            if conn == id(protocol):
                producer.cancel()


async def _serve(runnable: Runnable, name: str, listen: str, ready: IO[str], exit_with_parent: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    tracer = tracing.active()
    executor = _Executor(runnable, name, tracer)
    server, address = await serve(listen, executor, _Streams(executor))
    if tracer is not None:  # exit through main()'s flush of the spans still buffered

        def on_sigterm() -> None:
            if not stop.done():
                stop.set_result("SIGTERM")

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    if exit_with_parent:
        threading.Thread(target=_watch_parent, args=(loop, stop), name="bentotui-parent", daemon=True).start()
    gc.freeze()  # the model and its library stay as long as the worker: no full collection walks them
    ready.write(json.dumps({"address": address, "pid": os.getpid()}) + "\n")
    ready.close()
    async with server:
        reason = await stop
    log.info("exiting: %s", reason)


def _watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Future[str]) -> None:
    """Block on stdin until the parent is gone, then stop the worker; a thread, because a method
    runs on the event loop and may hold it for as long as it likes.  A call that does not return
    within :data:`ORPHAN_GRACE_S` does not keep the orphan alive."""
    while os.read(0, 4096):
        pass

    def parent_gone() -> None:
        if not stop.done():
            stop.set_result("parent gone")

    loop.call_soon_threadsafe(parent_gone)
    time.sleep(ORPHAN_GRACE_S)  # a daemon thread: a clean exit before this does not wait for it
    log.warning("parent gone and a call still running after %gs: exiting without it", ORPHAN_GRACE_S)
    logging.shutdown()
    os._exit(1)


def main(argv: list[str]) -> int:
    """Entry point of ``python -m bentotui _worker``; returns the exit code."""
    ready = os.fdopen(os.dup(1), "w")  # the handshake line only
    os.dup2(2, 1)  # prints from user code go to the log, never block on an unread pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s worker[{args.name}:%(process)d] %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.working_dir:
        os.chdir(args.working_dir)
    for path in reversed([args.working_dir or "", *args.sys_path]):
        if path and path not in sys.path:
            sys.path.insert(0, path)
    try:
        parse_address(args.listen)
        # the server's service name comes down as OTEL_SERVICE_NAME; this is a worker's own default
        tracing.start("bentotui-runner", {"bentotui.role": "runner", "bentotui.runner": args.name})
        runnable = WorkerSpec.from_json(args.spec).build()
    except Exception as exc:
        log.error("cannot build the runnable", exc_info=exc)
        ready.write(json.dumps({"error": codec.short_message(exc)}) + "\n")
        ready.close()
        tracing.shutdown()
        return 1
    try:
        asyncio.run(_serve(runnable, args.name, args.listen, ready, args.exit_with_parent))
    finally:
        tracing.shutdown()
    return 0
