"""The HTTP server span: ASGI middleware around :class:`~bentotui.server.app.ServerCore`.

Installed by ``create_app`` only when tracing is on (:func:`bentotui.tracing.active`), so a
server without it has no middleware here and its request path is unchanged; this module (and
with it ``opentelemetry``) is imported only then.

One SERVER span per HTTP request, with the stable HTTP semantic conventions that
OpenTelemetry's ASGI instrumentation (BentoML's) writes: named ``POST /classify`` for a route
the server knows (an API, ``/readyz``, ``/metrics``...) and by the method alone for any other
path (unbounded names would swamp a backend); ``http.request.method``, ``url.path``,
``url.scheme``, ``http.route``, ``http.response.status_code``, ``server.address``/``port``,
``client.address``, ``network.protocol.version``, ``user_agent.original``, and the request id
as ``http.response.header.x-request-id``.  A 5xx answer sets the span's status to error with
``error.type`` the status code.  The caller's W3C ``traceparent`` (and ``tracestate``,
``baggage``: ``OTEL_PROPAGATORS``) is honoured, so its trace continues here; the span is current
while the API runs, so runner calls and the service's own spans are its children.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from bentotui._otel import Tracing

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope


class TracingMiddleware:
    """ASGI middleware: one SERVER span per HTTP request (websockets and lifespan pass through)."""

    def __init__(self, inner: ASGIFramework, tracing: Tracing, routes: Iterable[str]) -> None:
        self.inner = inner
        self.tracer = tracing.tracer
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        method, path = scope["method"], scope["path"]
        route = path if path in self.routes else None
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": scope["scheme"],
            "network.protocol.version": scope["http_version"],
        }
        if route is not None:
            attributes["http.route"] = route
        if scope.get("server"):
            host, port = scope["server"]  # type: ignore[misc]  # (host, port), or (path, None) on a Unix socket
            attributes["server.address"] = host
            if port is not None:
                attributes["server.port"] = port
        if scope.get("client"):
            attributes["client.address"] = scope["client"][0]  # type: ignore[index]
        if "user-agent" in headers:
            attributes["user_agent.original"] = headers["user-agent"]
        name = f"{method} {route}" if route is not None else method
        with self.tracer.start_as_current_span(
            name, propagate.extract(headers), kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_traced(message: ASGISendEvent) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    for key, value in message.get("headers", ()):
                        if key == b"x-request-id":
                            span.set_attribute("http.response.header.x-request-id", (value.decode("latin-1"),))
                    if status >= 500:
                        span.set_attribute("error.type", str(status))
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.inner(scope, receive, send_traced)
