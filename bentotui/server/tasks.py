"""The HTTP side of ``@bentoml.task``: BentoML 1.4's task routes, and the tasks run in the background.

For a task at ``/<route>``, as BentoML 1.4's server routes them (``_bentoml_impl/server/app.py``):

- ``POST /<route>/submit`` with the body ``POST /<route>`` takes: the task is recorded and queued,
  and the answer is at once ``{"task_id", "status": "pending", "created_at", "executed_at"}``;
- ``GET /<route>/status?task_id=`` answers that status object, with BentoML's (and BentoCloud's)
  states since 1.4.15: ``pending`` (queued), ``in_progress``, ``completed``, ``failed``, ``canceled``;
- ``GET /<route>/get?task_id=`` answers the response ``POST /<route>`` would have given, stored:
  the result with its status and Content-Type, or, for a failed task, its error response (a 400 for
  bad input, 500 for a failing function, the ``{"error", "detail", "request_id"}`` body); a task
  not finished yet is a 400 "task <id> is not completed yet", a cancelled one a 400 too;
- ``PUT /<route>/cancel?task_id=`` stops an in-progress task (BentoML's local server refuses);
- ``POST /<route>/retry?task_id=`` submits a finished task's stored request again as a new task.

``POST /<route>`` itself still answers synchronously, as in BentoML.  A missing ``task_id`` is a
400, an unknown one a 404 naming it.

A task runs exactly as a request to ``POST /<route>`` would (:meth:`ServerCore._api`, on a copy of
the server core whose deadline is the task's own, ``BENTOTUI_TASK_TIMEOUT_S``, not ``--timeout``,
and which the API concurrency cap does not count), its response captured into the task store
(:mod:`bentotui.store.tasks`), so decoding, errors and context handling are the API's.  At most
``BENTOTUI_TASK_CONCURRENCY`` tasks run at once; more wait their turn, up to
``BENTOTUI_TASK_MAX_PENDING`` queued or running, past which ``submit`` answers 503 with
``Retry-After``.

Cancelling stops the task here: a queued one never starts, a running one stops waiting for its
runner call and is recorded as cancelled.  The method itself runs in a runner worker, which is not
told: an ``async`` method goes on there until it returns, and a sync one, which the worker runs in
its turn, cannot be interrupted at all; its result is dropped.  A server that stops (or crashes)
with tasks in progress leaves them failed, saying so.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bentotui._compat import timeout_at
from bentotui.exceptions import BadInput, BentotuiError, InvalidArgument, NotFound, ServiceUnavailable
from bentotui.server.app import _error_body, _respond
from bentotui.service.service import TASK_ACTIONS, task_routes
from bentotui.store.tasks import ResultStatus, TaskLimits, TaskRecord, TaskStore

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, HTTPScope

    from bentotui.server.app import ServerCore
    from bentotui.service.service import APISpec, Service

logger = logging.getLogger("bentotui.server")

#: ``(scope, receive, send, request_id) -> status``: what :class:`ServerCore` calls for a task route
Handler = Callable[["HTTPScope", "ASGIReceiveCallable", "ASGISendCallable", str], Awaitable[int]]
#: response headers not kept with a result: each answer gets its own
_TRANSIENT_HEADERS = frozenset({"content-length", "x-request-id", "connection"})
_PRUNE_EVERY_S = 60.0


@dataclass(frozen=True)
class TaskSettings:
    """The server's task limits, from ``BENTOTUI_TASK_*`` environment variables."""

    max_pending: int = 100
    concurrency: int = 8
    timeout_s: float = 3600.0
    limits: TaskLimits = field(default_factory=TaskLimits)

    @classmethod
    def from_env(cls) -> TaskSettings:
        defaults, store = cls(), TaskLimits()
        return cls(
            max_pending=int(_env("BENTOTUI_TASK_MAX_PENDING", defaults.max_pending)),
            concurrency=int(_env("BENTOTUI_TASK_CONCURRENCY", defaults.concurrency)),
            timeout_s=_env("BENTOTUI_TASK_TIMEOUT_S", defaults.timeout_s),
            limits=TaskLimits(
                max_result_bytes=int(_env("BENTOTUI_TASK_MAX_RESULT_BYTES", store.max_result_bytes)),
                retention_s=_env("BENTOTUI_TASK_RETENTION_S", store.retention_s),
                keep=int(_env("BENTOTUI_TASK_KEEP", store.keep)),
            ),
        )


def _env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise InvalidArgument(f"{name}={raw!r}: expected a positive number")
    return value


def server_task_routes(service: Service, core: ServerCore) -> dict[str, Handler]:
    """The task routes of ``service`` by path (none without tasks); :class:`ServerCore` answers them."""
    tasks = [api for api in service.apis.values() if api.is_task]
    if not tasks:
        return {}
    queue = TaskQueue(service.name, core, TaskSettings.from_env())
    return {
        path: partial(queue.answer, api, action) for api in tasks for path, action in task_routes(api.route).items()
    }


@dataclass
class _Live:
    """A task of this process that has not finished: its record and the asyncio task running it."""

    record: TaskRecord
    task: asyncio.Task[None] | None = None
    #: set by the cancel route, so the run records "canceled" rather than "interrupted"
    cancelled: bool = False
    #: its response is in: too late to cancel
    finishing: bool = False


class TaskQueue:
    """The tasks of one server: the store it owns records in, and those still running here."""

    def __init__(self, service_name: str, core: ServerCore, settings: TaskSettings) -> None:
        self.core = core
        self.settings = settings
        self.store = TaskStore(service_name, settings.limits)
        self.store.claim()  # fails what a crashed server left in progress, before anyone asks
        self.live: dict[str, _Live] = {}
        self._recording = 0  # submits whose record is being written, counted against max_pending
        self._runner: ServerCore | None = None
        self._slots: asyncio.Semaphore | None = None  # made on the serving loop
        self._pruned_at = time.monotonic()
        self._pruning: asyncio.Task[int] | None = None

    async def answer(
        self, api: APISpec, action: str, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable,
        request_id: str,
    ) -> int:
        """Answer one task route of ``api``; errors get the server's JSON error body."""
        method = TASK_ACTIONS[action]
        if scope["method"] != method:
            body = _error_body("method not allowed", f"{scope['path']} accepts {method} only", request_id)
            await _respond(send, 405, body, "application/json", request_id, {"allow": method})
            return 405
        try:
            if action == "submit":
                body, headers = await self._read(scope, receive)
                record = await self._submit(api, body, headers)
            else:
                record = self._record(api, _task_id(scope, api))
                if action == "get":
                    return await self._result(record, send, request_id)
                if action == "cancel":
                    record = await self._cancel(record)
                elif action == "retry":
                    record = await self._retry(api, record)
        except BentotuiError as exc:
            return await self.core._fail(send, exc, request_id)
        body = _json(record.status_json())
        await _respond(send, 200, body, "application/json", request_id)
        return 200

    # --- the routes ------------------------------------------------------------------------------

    async def _read(self, scope: HTTPScope, receive: ASGIReceiveCallable) -> tuple[bytes, list[tuple[str, str]]]:
        """The submitted body (the server's size and read-time limits) and the request headers."""
        try:
            async with timeout_at(asyncio.get_running_loop().time() + self.core.body_timeout):
                request = await self.core._read_request(scope, receive)
        except asyncio.TimeoutError:
            raise BentotuiError(
                "request body too slow",
                f"the body was not complete within {self.core.body_timeout:g}s (--read-timeout)",
                error_code=HTTPStatus.REQUEST_TIMEOUT,
            ) from None
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        return request.body, headers

    async def _submit(self, api: APISpec, body: bytes, headers: list[tuple[str, str]]) -> TaskRecord:
        admitted = len(self.live) + self._recording
        if admitted >= self.settings.max_pending:
            raise ServiceUnavailable(
                "task queue full",
                f"{admitted} tasks are queued or running; the limit is {self.settings.max_pending} "
                "(BENTOTUI_TASK_MAX_PENDING)",
            )
        self._recording += 1  # its place is taken while its record is written
        try:
            record = await asyncio.to_thread(self.store.new, api.name, body, headers)
        finally:
            self._recording -= 1
        live = self.live[record.task_id] = _Live(record)
        live.task = asyncio.create_task(self._run(api, live))
        logger.info("task %s of %s submitted", record.task_id, api.name)
        return record

    def _record(self, api: APISpec, task_id: str) -> TaskRecord:
        """The freshest record of ``task_id``: this process's own while it runs, else the store's."""
        live = self.live.get(task_id)
        record = live.record if live is not None else self.store.get(task_id)
        if record.name != api.name:
            raise NotFound("task not found", f"no task {task_id!r} of {api.name!r} (it is a task of {record.name!r})")
        return record

    async def _result(self, record: TaskRecord, send: ASGISendCallable, request_id: str) -> int:
        """The stored response of a finished task (see the module docstring for the others)."""
        if not record.finished:
            raise BadInput("task not completed", f"task {record.task_id} is not completed yet")
        if record.status is ResultStatus.CANCELED:
            raise BadInput("task cancelled", f"task {record.task_id} was cancelled; retry it to run it again")
        if record.result is None:  # failed without a response of its own (interrupted, too large)
            return await self.core._fail(send, BentotuiError("task failed", record.error), request_id)
        body = await asyncio.to_thread(self.store.read_result, record)
        headers = [(k, v) for k, v in record.result.headers if k != "content-type"]
        await _respond(send, record.result.status, body, record.result.content_type, request_id, headers)
        return record.result.status

    async def _cancel(self, record: TaskRecord) -> TaskRecord:
        live = self.live.get(record.task_id)
        if live is None or live.finishing or live.task is None:
            if not record.finished and live is None:
                detail = f"task {record.task_id} is run by another server process; cancel it there"
            else:
                detail = f"task {record.task_id} is finished (it is {record.status.value})"
            raise BadInput("task not in progress", detail)
        live.cancelled = True
        live.task.cancel()
        await asyncio.wait({live.task})  # it records the cancellation as it unwinds
        return live.record

    async def _retry(self, api: APISpec, record: TaskRecord) -> TaskRecord:
        if not record.finished:
            raise BadInput("task not completed", f"task {record.task_id} is not completed yet")
        body = await asyncio.to_thread(self.store.read_input, record)
        assert record.input is not None  # every record is written with its request
        return await self._submit(api, body, record.input.headers)

    # --- running ---------------------------------------------------------------------------------

    async def _run(self, api: APISpec, live: _Live) -> None:
        """Run one task to its record's end state.  Record writes are small and done on the loop,
        so that a cancellation can never land between a write started in a thread and the next."""
        record = live.record
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.concurrency)
        try:
            async with self._slots:
                self.store.started(record)
                body = await asyncio.to_thread(self.store.read_input, record)
                status, headers, out = await self._execute(api, record, body)
                live.finishing = True
            if await asyncio.to_thread(self.store.store_result, record, status, headers, out):
                self.store.finish(record, ResultStatus.COMPLETED if status < 400 else ResultStatus.FAILED)
            else:
                limit = self.settings.limits.max_result_bytes
                error = f"its result of {len(out)} bytes is over the limit of {limit} (BENTOTUI_TASK_MAX_RESULT_BYTES)"
                self.store.finish(record, ResultStatus.FAILED, error=error)
            logger.info("task %s of %s: %s", record.task_id, api.name, record.status.value)
            self._prune_now_and_then()
        except asyncio.CancelledError:
            if live.cancelled:
                self.store.finish(record, ResultStatus.CANCELED, error="cancelled by a client (PUT cancel)")
            else:
                self.store.finish(record, ResultStatus.FAILED, error="interrupted: the server stopped before the task finished")
            logger.info("task %s of %s: %s", record.task_id, api.name, record.status.value)
            raise
        except Exception as exc:  # the store failed (disk full...): the API's own errors are responses
            logger.exception("task %s of %s could not be run", record.task_id, api.name)
            self.store.finish(record, ResultStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        finally:
            del self.live[record.task_id]

    async def _execute(self, api: APISpec, record: TaskRecord, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """``POST <route>`` with the stored request, its response captured: status, headers, body.
        The task id is the request id, so the server log's lines about the run name the task."""
        assert record.input is not None
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": api.route, "raw_path": api.route.encode(), "query_string": b"", "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.input.headers],
            "client": None, "server": None,
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:  # the API read its whole body already: nothing more will come
                await asyncio.Future()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        response: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def send(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", ())
                    if k.decode("latin-1") not in _TRANSIENT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                response["body"] += message.get("body", b"")

        await self._task_core()._api(api, scope, receive, send, record.task_id)  # type: ignore[arg-type]
        return response["status"], response["headers"], response["body"]

    def _task_core(self) -> ServerCore:
        """A copy of the server core for running tasks: the task's deadline instead of
        ``--timeout``, and no share of the API concurrency cap (tasks have their own)."""
        if self._runner is None:
            runner = copy.copy(self.core)
            runner.timeout = runner.body_timeout = self.settings.timeout_s
            runner.max_concurrency = None
            runner.in_flight = 0
            self._runner = runner
        return self._runner

    def _prune_now_and_then(self) -> None:
        """Clean the store in a thread at most once a minute (it reads every record)."""
        if time.monotonic() - self._pruned_at < _PRUNE_EVERY_S or (self._pruning and not self._pruning.done()):
            return
        self._pruned_at = time.monotonic()
        self._pruning = asyncio.ensure_future(asyncio.to_thread(self.store.prune))


def _task_id(scope: HTTPScope, api: APISpec) -> str:
    """The ``task_id`` query parameter; BadInput (400) when it is missing."""
    values = parse_qs(scope["query_string"].decode("latin-1")).get("task_id")
    if not values or not values[0]:
        raise BadInput("task_id is required", f"pass ?task_id=<id>, the id {api.route}/submit answered")
    return values[0]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
