"""The OpenTelemetry side of tracing, imported only once it is on (:func:`bentotui.tracing.start`).

The spans bentotui makes, all on one tracer (``bentotui``):

- ``POST /classify`` (SERVER, :mod:`bentotui.server.tracing`): one per HTTP request, child of
  the caller's ``traceparent`` when it sends one.
- ``<runner>/<method> queue`` (INTERNAL): a batchable call's wait in its dispatcher's queue, child
  of the request's span; recorded when its batch leaves (start and end times given), so a queued
  call holds no live span.
- ``<runner>/<method>`` (CLIENT): the call to the worker, from sending the frame to its reply.
  For a batch it is the batch's span: it links to every call's queue span and is the child of
  the first sampled call's request, so a lone request's trace runs from HTTP to the model.
- ``<runner>/<method>`` (SERVER, in the worker): the method's run, child of the CLIENT span by
  the W3C ``traceparent`` the call frame carries (:mod:`bentotui.runner.transport`).

Runner spans follow the RPC conventions (``rpc.system`` ``bentotui``, ``rpc.service`` the runner,
``rpc.method``); the batch adds ``bentotui.batch.rows`` and ``bentotui.batch.calls``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from bentotui.exceptions import InvalidArgument
from bentotui.tracing import EXPORTER_ENV

#: a trace context as it crosses a process boundary: ``{"traceparent": ..., "tracestate": ...}``
Carrier = dict[str, str]
RPC_SYSTEM = "bentotui"
_EXPORTER_GROUP = "opentelemetry_traces_exporter"  # the entry points the SDK's own configurator reads


def exporters_from_env() -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (default ``otlp``), each built with no
    arguments so that it reads its own ``OTEL_EXPORTER_*`` settings.

    ``otlp`` is OTLP over HTTP (protobuf), the one bentotui[otel] installs; ``otlp_proto_grpc``,
    ``console`` or any other installed exporter's entry-point name work too.
    """
    available = {point.name: point for point in entry_points(group=_EXPORTER_GROUP)}
    exporters = []
    for name in filter(None, (n.strip() for n in (os.environ.get(EXPORTER_ENV) or "otlp").split(","))):
        point = available.get("otlp_proto_http" if name == "otlp" else name)
        if point is None:
            raise InvalidArgument(f"{EXPORTER_ENV}: no trace exporter {name!r} is installed (installed: otlp, {', '.join(sorted(available))})")
        exporters.append(point.load()())
    return exporters


def _end(span: Span, exc: BaseException | None) -> None:
    if exc is not None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))
    span.end()


def _rpc(runner: str, method: str) -> dict[str, str]:
    return {"rpc.system": RPC_SYSTEM, "rpc.service": runner, "rpc.method": method}


class Tracing:
    """This process's tracer provider and the span operations bentotui makes on it."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("bentotui")

    @classmethod
    def create(
        cls, service_name: str, attributes: Mapping[str, str | int], exporter: SpanExporter | None = None
    ) -> Tracing:
        """A provider whose resource is ``service_name`` (``OTEL_SERVICE_NAME`` and
        ``OTEL_RESOURCE_ATTRIBUTES`` win, as BentoML has it), this process's pid and
        ``attributes``; the sampler comes from ``OTEL_TRACES_SAMPLER``.  ``exporter`` (tests)
        is exported to synchronously, instead of the environment's exporters in batches."""
        ours = Resource.create({"service.name": service_name, "process.pid": os.getpid(), **attributes})
        provider = TracerProvider(resource=ours.merge(OTELResourceDetector().detect()), shutdown_on_exit=False)
        if exporter is not None:  # a test's: the process-wide provider (set once only) is left alone
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            for each in exporters_from_env():
                provider.add_span_processor(BatchSpanProcessor(each))
            # the global provider too: a service's own `trace.get_tracer(...)` spans join our traces
            trace.set_tracer_provider(provider)
        return cls(provider)

    def shutdown(self) -> None:
        """Export everything still buffered, then stop the exporters."""
        self.provider.shutdown()

    # -- the API process -----------------------------------------------------------------------
    @staticmethod
    def current() -> Context:
        """The caller's context (its request's span), kept with a queued call."""
        return otel_context.get_current()

    @staticmethod
    def carrier(context: Context | None = None) -> Carrier:
        """``context`` (default: the current one) as W3C headers, for a frame to the worker."""
        carrier: Carrier = {}
        propagate.inject(carrier, context=context)
        return carrier

    def start_call(self, runner: str, method: str) -> tuple[Span, Carrier]:
        """The CLIENT span of one unbatched call, child of the current span, and its carrier."""
        span = self.tracer.start_span(f"{runner}/{method}", kind=SpanKind.CLIENT, attributes=_rpc(runner, method))
        return span, self.carrier(trace.set_span_in_context(span))

    def start_batch(
        self, runner: str, method: str, calls: Sequence[tuple[Context | None, float]], rows: int
    ) -> tuple[Span, Carrier]:
        """The CLIENT span of a batch of ``calls`` (each its request's context, see :meth:`current`,
        and seconds queued).

        Each call gets its queue span, ended now; the batch span links to all of them and is the
        child of the first sampled call's request (the head's when none is), so that call's trace
        reaches the worker and every other call's trace points at the batch by its link.
        """
        now = time.time_ns()
        attributes = _rpc(runner, method)
        links = []
        parent = calls[0][0]
        chosen = False
        for context, waited_s in calls:
            queued = self.tracer.start_span(
                f"{runner}/{method} queue", context, attributes=attributes, start_time=now - int(waited_s * 1e9)
            )
            queued.end(end_time=now)
            span_context = queued.get_span_context()
            links.append(Link(span_context))
            if not chosen and span_context.trace_flags.sampled:
                parent, chosen = context, True
        span = self.tracer.start_span(
            f"{runner}/{method}",
            parent,
            kind=SpanKind.CLIENT,
            links=links,
            attributes={**attributes, "bentotui.batch.rows": rows, "bentotui.batch.calls": len(calls)},
        )
        return span, self.carrier(trace.set_span_in_context(span))

    @staticmethod
    def end_call(span: Span, future: asyncio.Future[Any]) -> None:
        """End a CLIENT span with its call's outcome (a done-callback of the call's future)."""
        _end(span, asyncio.CancelledError() if future.cancelled() else future.exception())

    # -- the worker ----------------------------------------------------------------------------
    def start_remote(self, runner: str, method: str, carrier: Carrier) -> Span:
        """The worker's SERVER span of a call, child of the span ``carrier`` names."""
        return self.tracer.start_span(
            f"{runner}/{method}", propagate.extract(carrier), kind=SpanKind.SERVER, attributes=_rpc(runner, method)
        )

    @staticmethod
    def activate(span: Span) -> AbstractContextManager[Span]:
        """Make ``span`` current (the runnable's own spans become its children), without ending it."""
        return trace.use_span(span, record_exception=False, set_status_on_exception=False)

    end = staticmethod(_end)
