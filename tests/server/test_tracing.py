"""OpenTelemetry tracing: off by default and not even imported; on, one trace from the caller's
``traceparent`` through the HTTP span, the dispatcher's queue and batch, to the worker's span in
another process, exported over OTLP/HTTP to a receiver run here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import bentotui
from bentotui import tracing
from bentotui.exceptions import InvalidArgument
from bentotui.server.options import ServeOptions
from tests.helpers.server import serve

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


# -- in-process: the app and a dispatcher over a scripted worker ----------------------------------
class HeldClient:
    """A worker connection whose batches the test completes, recording each frame's trace."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[tuple[list[int], dict[str, str] | None, asyncio.Future[Any]]] = []

    @property
    def inflight(self) -> int:
        return sum(not future.done() for *_, future in self.sent)

    def call(self, method, args, kwargs, trace=None):
        future = asyncio.get_running_loop().create_future()
        self.sent.append((args[0], trace, future))
        return future

    def finish(self, index: int) -> None:
        rows, _, future = self.sent[index]
        future.set_result([row * 2 for row in rows])


class Slot:
    coming_back = False

    def __init__(self, client: HeldClient) -> None:
        self.client = client


class DispatchingBackend:
    """What the pool binds a runner to, reduced to one dispatcher."""

    def __init__(self, dispatcher) -> None:
        self.dispatcher = dispatcher

    async def call(self, method, args, kwargs):
        return await self.dispatcher.submit(args, kwargs)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.start("traced-test", {"bentotui.role": "api"}, exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.fixture
def traced_app(spans):
    """A service with a batchable runner and a failing API, its app built with tracing on."""
    from bentotui.runner.dispatcher import Dispatcher
    from bentotui.server.app import create_app

    class Doubler(bentotui.Runnable):
        @bentotui.Runnable.method(batchable=True)
        def double(self, rows):
            return [row * 2 for row in rows]

    runner = bentotui.Runner(Doubler, name="doubler")
    svc = bentotui.Service("traced", runners=[runner])

    @svc.api(input=bentotui.io.JSON(), output=bentotui.io.JSON())
    async def double(rows):
        return await runner.double.async_run(rows)

    @svc.api(input=bentotui.io.JSON(), output=bentotui.io.JSON())
    def boom(body):
        raise ValueError("no")

    client = HeldClient()
    dispatcher = Dispatcher(
        runner="doubler", method="double", input_dim=0, output_dim=0, max_batch_size=8,
        max_latency_ms=10_000, workers=[Slot(client)],
    )
    runner.bind(DispatchingBackend(dispatcher))
    try:
        yield create_app(svc, None), client, dispatcher
    finally:
        runner.bind(None)


def asgi_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:3000")


def by_name(exporter: InMemorySpanExporter, name: str) -> list[Any]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


async def test_http_span_continues_the_callers_trace_with_semantic_attributes(traced_app, spans):
    app, client, _ = traced_app
    async with asgi_client(app) as http:
        task = asyncio.ensure_future(
            http.post("/double", json=[1, 2], headers={"traceparent": TRACEPARENT, "user-agent": "probe/1"})
        )
        while not client.sent:
            await asyncio.sleep(0.001)
        client.finish(0)
        response = await task
    assert response.json() == [2, 4]
    (span,) = by_name(spans, "POST /double")
    assert span.kind == SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert span.parent is not None and format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.parent.is_remote
    attributes = dict(span.attributes)
    assert attributes["http.request.method"] == "POST"
    assert attributes["url.path"] == "/double"
    assert attributes["http.route"] == "/double"
    assert attributes["url.scheme"] == "http"
    assert attributes["http.response.status_code"] == 200
    assert attributes["user_agent.original"] == "probe/1"
    assert attributes["http.response.header.x-request-id"] == (response.headers["x-request-id"],)
    assert span.status.status_code == StatusCode.UNSET
    assert span.resource.attributes["service.name"] == "traced-test"


async def test_errors_and_unknown_paths(traced_app, spans):
    app, _, _ = traced_app
    async with asgi_client(app) as http:
        assert (await http.post("/boom", json={})).status_code == 500
        assert (await http.get("/no/such/page")).status_code == 404
        assert (await http.get("/readyz")).status_code == 200
    (boom,) = by_name(spans, "POST /boom")
    assert boom.status.status_code == StatusCode.ERROR
    assert boom.attributes["error.type"] == "500"
    assert boom.parent is None  # no traceparent: a new trace
    (missing,) = by_name(spans, "GET")  # unknown paths share one name (bounded cardinality)
    assert missing.attributes["url.path"] == "/no/such/page"
    assert "http.route" not in missing.attributes
    assert missing.attributes["http.response.status_code"] == 404
    assert missing.status.status_code == StatusCode.UNSET  # a 4xx is the client's error, not the server's
    assert by_name(spans, "GET /readyz")[0].attributes["http.route"] == "/readyz"


async def test_a_batch_links_every_calls_queue_span_and_carries_its_context(traced_app, spans):
    """One call goes alone; two arrive while it runs and leave as one batch of two."""
    app, client, dispatcher = traced_app
    async with asgi_client(app) as http:
        first = asyncio.ensure_future(http.post("/double", json=[1]))
        while not client.sent:
            await asyncio.sleep(0.001)
        others = [asyncio.ensure_future(http.post("/double", json=[n])) for n in (2, 3)]
        while dispatcher.queued_rows < 2:
            await asyncio.sleep(0.001)
        client.finish(0)
        while len(client.sent) < 2:
            await asyncio.sleep(0.001)
        client.finish(1)
        answers = [r.json() for r in await asyncio.gather(first, *others)]
    assert answers == [[2], [4], [6]]
    requests = by_name(spans, "POST /double")
    queues = by_name(spans, "doubler/double queue")
    batches = sorted(by_name(spans, "doubler/double"), key=lambda span: span.start_time)
    assert len(requests) == len(queues) == 3 and len(batches) == 2
    request_of = {span.context.span_id: span for span in requests}
    for queue in queues:  # each queue span is its own request's child, in that request's trace
        assert queue.parent.span_id in request_of
        assert queue.context.trace_id == request_of[queue.parent.span_id].context.trace_id
    two = batches[1]
    assert two.kind == SpanKind.CLIENT
    assert two.attributes["bentotui.batch.rows"] == 2 and two.attributes["bentotui.batch.calls"] == 2
    assert two.attributes["rpc.system"] == "bentotui" and two.attributes["rpc.service"] == "doubler"
    linked = {link.context.span_id for link in two.links}
    queued_in_two = {q.context.span_id for q in queues if q.parent.span_id != batches[0].parent.span_id}
    assert linked == queued_in_two
    assert two.parent.span_id in {q.parent.span_id for q in queues if q.context.span_id in linked}
    # the frame to the worker carries the batch span as its W3C parent
    _, trace, _ = client.sent[1]
    assert trace["traceparent"].startswith(f"00-{two.context.trace_id:032x}-{two.context.span_id:016x}-")


def test_tracing_is_off_without_configuration(monkeypatch):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    assert not tracing.wanted()
    assert tracing.start("svc", {}) is None and tracing.active() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.wanted()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.wanted()
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not tracing.wanted()


def test_the_endpoint_option_is_checked(tmp_path):
    assert ServeOptions(target="x:y", working_dir=tmp_path, otel_endpoint=" http://c:4318 ").otel_endpoint == "http://c:4318"
    with pytest.raises(InvalidArgument, match="--otel-endpoint"):
        ServeOptions(target="x:y", working_dir=tmp_path, otel_endpoint="c:4318")


def test_the_server_and_worker_modules_do_not_import_opentelemetry():
    """What ``bentotui --help``, a server and a worker import, without tracing, in a fresh process."""
    code = (
        "import sys, bentotui.cli.serve, bentotui.server.serve, bentotui.server.app, bentotui.runner.worker, "
        "bentotui.runner.pool; print([m for m in sys.modules if m.startswith('opentelemetry')])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- end to end: a real server and its worker, an OTLP/HTTP receiver here ----------------------------
SERVICE = textwrap.dedent("""
    import os
    import sys
    from collections.abc import AsyncGenerator

    import bentotui as bentoml


    def loaded():
        return sorted(name for name in sys.modules if name.startswith("opentelemetry"))


    class Echo(bentoml.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True

        @bentoml.Runnable.method(batchable=True)
        def double(self, rows):
            return [row * 2 for row in rows]

        @bentoml.Runnable.method(batchable=False)
        def info(self, _):
            return {"pid": os.getpid(), "otel": loaded()}

        @bentoml.Runnable.method
        def spell(self, text):
            yield from text


    runner = bentoml.Runner(Echo, name="echo")
    svc = bentoml.Service(name="traced", runners=[runner])


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def double(rows):
        return await runner.double.async_run(rows)


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def double_sync(rows):  # runner.run() from the API's thread: the request's context follows
        return runner.double.run(rows)


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def info(body):
        worker = await runner.info.async_run(None)
        return {"pid": os.getpid(), "otel": loaded(), "worker": worker}


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    async def relay(text) -> AsyncGenerator[str, None]:
        return runner.spell.async_stream(text)
""")


@dataclass
class ReceivedSpan:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    links: list[str] = field(default_factory=list)


def _value(any_value) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in any_value.array_value.values)
    return getattr(any_value, kind) if kind else None


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on 127.0.0.1: decodes each POST /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(ReceivedSpan(
                        name=span.name, kind=span.kind, trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes}, resource=resource,
                        links=[link.span_id.hex() for link in span.links],
                    ))

    def named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.name == name]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.paths.append(self.path)
        self.server.add(body)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def traced_service(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    return tmp_path


def _no_otel_env() -> dict[str, str]:
    """The test process's OTEL_* variables would reach the server: blank them out."""
    return {name: "" for name in os.environ if name.startswith("OTEL_")}


def test_worker_span_is_a_child_of_the_servers_in_another_process(traced_service, receiver):
    """Spans buffered for a minute (OTEL_BSP_SCHEDULE_DELAY) still arrive: both processes flush
    when the server stops."""
    env = {**_no_otel_env(), "OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_SERVICE_NAME": "traced-e2e"}
    with serve("service:svc", cwd=traced_service, env=env, args=("--otel-endpoint", receiver.url)) as srv:
        headers = {"traceparent": TRACEPARENT}
        assert httpx.post(srv.url + "/double", json=[1, 2], headers=headers, timeout=30).json() == [2, 4]
        info = httpx.post(srv.url + "/info", json={}, timeout=30).json()
        assert info["otel"] and info["worker"]["otel"]  # on: imported in both processes
        assert httpx.post(srv.url + "/relay", content="abc", timeout=30).text == "abc"
        assert httpx.post(srv.url + "/double_sync", json=[3], timeout=30).json() == [6]
        assert srv.stop() == 0
    assert set(receiver.paths) == {"/v1/traces"}  # --otel-endpoint is the base URL, as OTEL_EXPORTER_OTLP_ENDPOINT

    (http,) = receiver.named("POST /double")
    assert (http.trace_id, http.parent_span_id) == (CALLER_TRACE, CALLER_SPAN)
    assert http.attributes["http.response.status_code"] == 200
    assert http.resource["service.name"] == "traced-e2e"
    assert http.resource["process.pid"] == info["pid"]
    (queue,) = child_of(receiver, "echo/double queue", http)
    (batch,) = child_of(receiver, "echo/double", http)
    (worker,) = child_of(receiver, "echo/double", batch)
    assert batch.kind == 3 and worker.kind == 2  # SPAN_KIND_CLIENT, SPAN_KIND_SERVER
    assert batch.links == [queue.span_id]
    # across the socket: the worker's span continues the batch's, in the same trace, another process
    assert (worker.trace_id, worker.parent_span_id) == (CALLER_TRACE, batch.span_id)
    assert worker.resource["process.pid"] == info["worker"]["pid"] != http.resource["process.pid"]
    assert worker.resource["bentotui.runner"] == "echo"
    assert worker.resource["service.name"] == "traced-e2e"

    # an unbatched call: request -> CLIENT -> the worker's SERVER span
    (info_http,) = receiver.named("POST /info")
    call, served = sorted(receiver.named("echo/info"), key=lambda span: span.kind != 3)
    assert call.parent_span_id == info_http.span_id
    assert (served.trace_id, served.parent_span_id) == (info_http.trace_id, call.span_id)

    # a stream: the worker's span of it is the request's child, ended when the stream is
    (relay_http,) = receiver.named("POST /relay")
    (spelled,) = receiver.named("echo/spell")
    assert (spelled.trace_id, spelled.parent_span_id, spelled.kind) == (relay_http.trace_id, relay_http.span_id, 2)

    # a sync API's runner.run(): through the event loop from its thread, still in the request's trace
    (sync_http,) = receiver.named("POST /double_sync")
    (sync_batch,) = child_of(receiver, "echo/double", sync_http)
    assert len(child_of(receiver, "echo/double queue", sync_http)) == len(child_of(receiver, "echo/double", sync_batch)) == 1


def child_of(receiver: Receiver, name: str, parent: ReceivedSpan) -> list[ReceivedSpan]:
    """The spans called ``name`` whose parent is ``parent``, in its trace."""
    return [
        span for span in receiver.named(name)
        if (span.trace_id, span.parent_span_id) == (parent.trace_id, parent.span_id)
    ]


def test_off_by_default_nothing_is_imported(traced_service):
    with serve("service:svc", cwd=traced_service, env=_no_otel_env()) as srv:
        info = httpx.post(srv.url + "/info", json={}, timeout=30).json()
    assert info["otel"] == [] and info["worker"]["otel"] == []


def test_receiver_decodes_what_the_sdk_exporter_sends(receiver):
    """The receiver above reads the SDK's own OTLP/HTTP exporter (so the end-to-end test's
    assertions are about bentotui, not the receiver)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.url + "/v1/traces")))
    with provider.get_tracer("t").start_as_current_span("probe", attributes={"k": ("a", "b")}):
        pass
    provider.shutdown()
    deadline = time.monotonic() + 5
    while not receiver.spans and time.monotonic() < deadline:
        time.sleep(0.01)
    (span,) = receiver.spans
    assert (span.name, span.attributes) == ("probe", {"k": ("a", "b")})
