"""Adaptive batching for one batchable runner method.

Calls queue in arrival order.  Whenever a worker has nothing in flight, everything compatible that
is waiting (up to ``max_batch_size`` rows) goes to it at once, so a lone call leaves at the end of
its event-loop turn (microseconds) and, under load, the calls that arrived while the previous batch
ran form the next one: the batch size follows the load with no polling.  When batches have a fixed
cost and calls arrive faster than that cost, a free worker may wait a little for a fuller batch
(bounded, one timer; see ``Dispatcher._wait_until``).  A worker that is already busy only gets a
second batch when that batch is full, so it never idles between batches at saturation.

``max_latency_ms`` bounds the time in the queue.  An online cost model (``cost.CostModel``: batch
seconds = a * rows + b, fitted on the batches seen) estimates when a new call would finish given
the rows ahead of it; a call that cannot make it is refused at once with ``ServiceUnavailable``
(HTTP 503) instead of queueing, and a queued call that still outlives the bound fails the same way
(one timer, armed for the oldest call only).

While a runner has no live worker because one is being restarted, calls queue instead of being
refused: they leave as soon as the replacement is up, and the same ``max_latency_ms`` timer fails
those that wait too long (the server's ``--timeout`` cancels them earlier if it is shorter).  Only
the calls that were in flight on the dead worker fail at once (they may have run).  A runner whose
workers cannot be restarted (the last start failed too) refuses at once, so a broken model does
not hold every request for ``max_latency_ms``.

An empty batch (``[]``, a zero-row array or DataFrame) is refused with ``BadInput`` (HTTP 400)
before it is queued.  BentoML passes it to the model, so what a client gets depends on the model:
scikit-learn refuses zero samples, a 1-D ``[]`` does not merge with 2-D calls and fails the batch it
joins, and no empty output can be shaped without running the model.  One clear 400 for every
batchable API and input type is the consistent answer; a service that wants ``[]`` back for ``[]``
says so before calling its runner.

Inputs are merged and outputs split by ``containers``; one pickle per batch, in the caller's
event loop thread, with completion callbacks instead of a task per batch.

With tracing on (:mod:`bentotui.tracing`, read once here) each call keeps its request's trace
context, and the batch records a queue span per call and one CLIENT span for the batch, linked to
every call's queue span and the child of one of them (see :mod:`bentotui._otel`); its W3C context
travels in the call frame.  Off, that is one ``is None`` check per call and per batch.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from bentotui import tracing
from bentotui.exceptions import BadInput, BentotuiError, ServiceUnavailable
from bentotui.runner import containers
from bentotui.runner.containers import CallSignature
from bentotui.runner.cost import CostModel
from bentotui.runner.errors import RunnerError
from bentotui.runner.insight import EXPIRED, NO_WORKER, OVERLOADED, BatchLog
from bentotui.runner.transport import Client

if TYPE_CHECKING:
    from opentelemetry.context import Context

log = logging.getLogger("bentotui.runner")


class Observer(Protocol):
    """What the server implements to export metrics (the runner never imports prometheus)."""

    def batch(self, runner: str, method: str, size: int, queue_wait_s: float, exec_s: float) -> None: ...


class WorkerLike(Protocol):
    """A worker slot as the dispatcher sees it (``pool._Worker``)."""

    client: Client | None

    @property
    def coming_back(self) -> bool:
        """Its process died and a replacement is being started (calls may wait for it)."""
        ...


def live_clients(workers: Sequence[WorkerLike]) -> list[Client]:
    return [w.client for w in workers if w.client is not None and not w.client.closed]


def no_live_worker(runner: str, workers: Sequence[WorkerLike]) -> ServiceUnavailable | None:
    """The refusal for a call that finds no live worker, or None when a replacement is coming."""
    if any(worker.coming_back for worker in workers):
        return None
    return ServiceUnavailable(f"runner {runner!r} has no live worker (restarting, or its runner server unreachable)")


def report(observer: Observer | None, *fields: Any) -> None:
    """Tell the observer about a batch; a failing observer must not fail the calls."""
    if observer is not None:
        try:
            observer.batch(*fields)
        except Exception:
            log.exception("runner observer failed")


class _Call:
    __slots__ = ("args", "kwargs", "rows", "signature", "future", "arrived", "trace")

    def __init__(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        rows: int,
        signature: CallSignature,
        arrived: float,
        trace: Context | None,
    ) -> None:
        self.args = args
        self.kwargs = kwargs
        self.rows = rows
        self.signature = signature
        self.arrived = arrived
        self.trace = trace  # the caller's trace context, with tracing on
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def joins(self, head: _Call) -> bool:
        if self.signature != head.signature:
            return False
        try:
            return bool(self.kwargs is head.kwargs or self.kwargs == head.kwargs)
        except Exception:  # e.g. arrays as keyword arguments: never merged
            return False


class Dispatcher:
    """The batch queue of one runner method over the runner's workers."""

    def __init__(
        self,
        *,
        runner: str,
        method: str,
        input_dim: int,
        output_dim: int,
        max_batch_size: int,
        max_latency_ms: float,
        workers: Sequence[WorkerLike],
        observer: Observer | None = None,
        on_free: Callable[[], None] | None = None,
    ) -> None:
        self.runner = runner
        self.method = method
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.max_batch_size = max_batch_size
        self.max_latency_s = max_latency_ms / 1000
        self.workers = workers
        self.observer = observer
        self.on_free = on_free or self.pump
        self.cost = CostModel()
        self.log = BatchLog()  # for people (the TUI's batching panel): sizes, waits, refusals
        self.queue: deque[_Call] = deque()
        self.queued_rows = 0
        self._busy_since: dict[Client, tuple[float, int]] = {}  # this method's batch on a worker
        self._timer: asyncio.TimerHandle | None = None
        self._pump_soon = False
        self._cork: asyncio.TimerHandle | None = None  # ends a wait for a fuller batch
        self._gap: float | None = None  # moving average of seconds between arriving rows
        self._last_arrival: float | None = None
        self.tracing = tracing.active()

    # -- admission ---------------------------------------------------------------------------
    def submit(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        """Queue one call; the future resolves to this call's share of its batch's output."""
        rows, signature = containers.describe_call(args, self.input_dim)
        if not rows:
            raise BadInput(f"empty batch: {self.method} needs at least one row")
        clients = live_clients(self.workers)
        if not clients:
            refusal = no_live_worker(self.runner, self.workers)
            if refusal is not None:
                self.log.refuse(NO_WORKER, refusal.message)
                raise refusal
        loop = asyncio.get_running_loop()
        now = loop.time()
        if clients and self.cost.warm:  # with none, the queue timer alone bounds the wait
            eta = self._eta(rows, clients, now)
            if eta > self.max_latency_s:
                error = ServiceUnavailable(
                    f"runner {self.runner!r} is overloaded: {self.method} would take about "
                    f"{eta * 1000:.0f} ms, over max_latency_ms={self.max_latency_s * 1000:.0f}"
                )
                self.log.refuse(OVERLOADED, error.message)
                raise error
        if self._last_arrival is not None:
            gap = (now - self._last_arrival) / rows
            self._gap = gap if self._gap is None else 0.8 * self._gap + 0.2 * gap
        self._last_arrival = now
        call = _Call(args, kwargs, rows, signature, now, None if self.tracing is None else self.tracing.current())
        self.queue.append(call)
        self.queued_rows += rows
        if self._timer is None:
            self._arm()
        if not self._pump_soon:
            # not pump() right here: every call submitted in this loop turn (e.g. all the callers
            # woken by the previous batch's results) joins the batch; costs one loop turn, no sleep
            self._pump_soon = True
            loop.call_soon(self._scheduled_pump)
        return call.future

    def _scheduled_pump(self) -> None:
        self._pump_soon = False
        self.pump()

    def _eta(self, rows: int, clients: list[Client], now: float) -> float:
        """Estimated seconds until a new call of ``rows`` rows has its result."""
        ahead = self.queued_rows + rows
        rounds = math.ceil(math.ceil(ahead / self.max_batch_size) / len(clients))
        per_batch = self.cost.estimate(min(ahead, self.max_batch_size))
        if all(client.inflight for client in clients):
            remaining = [
                self.cost.estimate(n) - (now - since)
                for client, (since, n) in self._busy_since.items()
                if client in clients
            ]
            rounds_wait = max(0.0, min(remaining)) if remaining else 0.0
        else:
            rounds_wait = 0.0
        return rounds_wait + rounds * per_batch

    def _arm(self) -> None:
        head = self.queue[0]
        self._timer = asyncio.get_running_loop().call_at(head.arrived + self.max_latency_s, self._expire)

    def _expire(self) -> None:
        self._timer = None
        deadline = asyncio.get_running_loop().time() - self.max_latency_s
        expired = 0
        message = (
            f"runner {self.runner!r}: {self.method} waited over max_latency_ms={self.max_latency_s * 1000:.0f} "
            "for a worker"
        )
        while self.queue and self.queue[0].arrived <= deadline:
            call = self.queue.popleft()
            self.queued_rows -= call.rows
            if not call.future.done():
                call.future.set_exception(ServiceUnavailable(message))
                expired += 1
        if expired:
            self.log.refuse(EXPIRED, message, expired)
        if self.queue:
            self._arm()

    # -- dispatch ----------------------------------------------------------------------------
    def pump(self, waited: bool = False) -> None:
        """Send batches while a worker can take one (called on submit and whenever one frees).

        ``waited``: the wait for a fuller batch (see ``_wait_until``) is over, send anyway.
        """
        while self.queue:
            client = self._pick_worker()
            if client is None:
                return
            if not waited and self.queued_rows < self.max_batch_size:
                until = self._wait_until()
                if until is not None:
                    if self._cork is None:
                        self._cork = asyncio.get_running_loop().call_at(until, self._waited)
                    return
            if self._cork is not None:
                self._cork.cancel()
                self._cork = None
            waited = False
            batch = self._take_batch()
            if batch:
                self._send(client, batch)

    def _waited(self) -> None:
        self._cork = None
        self.pump(waited=True)

    def _wait_until(self) -> float | None:
        """When to send the queued calls if more are worth waiting for, else None (send now).

        Waiting pays when the batch has a fixed cost ``b``: merging more calls saves it.  The
        waits it adds to the ``n`` queued calls stay within ``b`` in total (the rule BentoML's
        dispatcher uses), and it only waits if calls arrive faster than one per ``b`` seconds,
        so a lone caller (the next call comes only after this one's answer) never waits.
        """
        fixed, gap, n = self.cost.b, self._gap, self.queued_rows
        if fixed <= 0 or gap is None or gap >= fixed:
            return None
        head = self.queue[0].arrived
        until = min(head + fixed / n, head + self.max_latency_s - self.cost.estimate(n + 1))
        return until if until > asyncio.get_running_loop().time() else None

    def _pick_worker(self) -> Client | None:
        clients = live_clients(self.workers)
        if not clients:
            return None
        best = min(clients, key=lambda client: client.inflight)
        if best.inflight == 0 or (best.inflight == 1 and self.queued_rows >= self.max_batch_size):
            return best
        return None

    def _take_batch(self) -> list[_Call]:
        queue = self.queue
        head = queue.popleft()
        self.queued_rows -= head.rows
        if head.future.done():  # cancelled by its caller while queued
            return []
        skipped: list[_Call] = []
        batch, rows = [head], head.rows
        while queue and rows < self.max_batch_size and len(skipped) <= self.max_batch_size:
            call = queue.popleft()
            if call.future.done():
                self.queued_rows -= call.rows
            elif rows + call.rows <= self.max_batch_size and call.joins(head):
                batch.append(call)
                rows += call.rows
                self.queued_rows -= call.rows
            else:
                skipped.append(call)
        queue.extendleft(reversed(skipped))
        return batch

    def _send(self, client: Client, batch: list[_Call]) -> None:
        head = batch[0]
        kinds = [signature[0] for signature in head.signature]
        rows = sum(call.rows for call in batch)
        loop = asyncio.get_running_loop()
        tracer, span, trace = self.tracing, None, None
        try:
            args = tuple(
                containers.concat([call.args[i] for call in batch], kind, self.input_dim)
                for i, kind in enumerate(kinds)
            )
            if tracer is not None:
                now = loop.time()
                waits = [(call.trace, now - call.arrived) for call in batch]
                span, trace = tracer.start_batch(self.runner, self.method, waits, rows)
            future = client.call(self.method, args, head.kwargs, trace)
        except Exception as exc:
            error = exc if isinstance(exc, BentotuiError) else RunnerError(f"cannot merge the batch: {exc}")
            if tracer is not None and span is not None:
                tracer.end(span, error)
            self._fail(batch, error)
            return
        started = loop.time()
        self._busy_since[client] = (started, rows)
        future.add_done_callback(partial(self._done, client, batch, rows, started))
        if tracer is not None and span is not None:
            future.add_done_callback(partial(tracer.end_call, span))

    def _done(
        self, client: Client, batch: list[_Call], rows: int, started: float, future: asyncio.Future[Any]
    ) -> None:
        now = asyncio.get_running_loop().time()
        self._busy_since.pop(client, None)
        exc = future.exception()
        if exc is None:
            exec_s = now - started
            self.cost.update(rows, exec_s)
            queue_wait_s = started - batch[0].arrived
            self.log.batch(rows, queue_wait_s, exec_s)
            report(self.observer, self.runner, self.method, rows, queue_wait_s, exec_s)
            try:
                pieces = containers.split(future.result(), [call.rows for call in batch], self.output_dim)
            except BentotuiError as error:
                self._fail(batch, error)
            else:
                items = all(signature == (containers.ITEM,) for signature in batch[0].signature)
                for call, piece in zip(batch, pieces, strict=True):
                    if not call.future.done():
                        call.future.set_result(piece[0] if items else piece)
        else:
            self._fail(batch, exc)
        self.on_free()

    @staticmethod
    def _fail(batch: list[_Call], exc: BaseException) -> None:
        for call in batch:
            if not call.future.done():
                call.future.set_exception(exc)

    def fail_queued(self, exc: BaseException) -> None:
        """Fail everything still queued (no worker will take it); the dispatcher stays usable."""
        for timer in (self._timer, self._cork):
            if timer is not None:
                timer.cancel()
        self._timer = self._cork = None
        queue, self.queue, self.queued_rows = self.queue, deque(), 0
        self._fail(list(queue), exc)

    def insight(self) -> dict[str, Any]:
        """The batching panel's view of this method: limits, queue, cost line and its log."""
        return {
            "max_batch_size": self.max_batch_size,
            "max_latency_ms": self.max_latency_s * 1000,
            "queued_rows": self.queued_rows,
            "cost": {"per_row_ms": self.cost.a * 1000, "fixed_ms": self.cost.b * 1000, "warm": self.cost.warm},
            **self.log.snapshot(),
        }

    def close(self, reason: str) -> None:
        """Fail everything still queued (the pool is stopping)."""
        self.fail_queued(ServiceUnavailable(reason))
