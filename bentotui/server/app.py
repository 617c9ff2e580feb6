"""The ASGI application of a server: Quart for the fixed routes, a lean ASGI path for the APIs.

Every request passes through :class:`ServerCore`, which wraps the Quart app's ``asgi_app``:
it gives the request an ``x-request-id`` (echoed if the client sent one), counts it in the
metrics, and writes one access-log line.  Before any route sees it (mounted apps and websockets
too), :class:`~bentotui.server.guard.RequestGuard` refuses with 403 a ``Host`` that is not the
server's own (DNS rebinding) and a browser request from another origin (``--allowed-host``,
``--cors-origin``).  ``POST /<api>`` is answered by the core itself rather
than by a Quart view: it is the hot path, and Quart's request/response objects, context locals
and signal machinery cost more per request than the model call of a small model.  Everything
else (health probes, ``/metrics``, ``/docs.json``, Swagger UI, 404/405) is an ordinary Quart route.

Error mapping (body always JSON ``{"error", "detail", "request_id"}``): a :class:`BentotuiError`
gets its ``http_status`` (``BadInput`` 400, ``ServiceUnavailable`` 503, ...), a body over the limit
413, a body not complete within ``read_timeout`` 408, more than ``max_concurrency`` API requests in
flight 503 (every 503 with ``Retry-After: 1``), a request past ``timeout`` 504, and any other exception 500 with a short message; the
traceback goes to the log only.  A runner's failure (a :class:`RunnerError`, or a 5xx error raised
in a worker) is answered generically too: its message names the worker's files and code, so it
goes to the log with the request id, never to the client; the caller's own errors (4xx) keep theirs.

A streaming API (``APISpec.stream_type``) writes its items as they come
(:mod:`bentotui.server.streaming`); the check that picks that path is one attribute, set when the
API was registered.

Connections: more than ``max_connections`` requests in progress on any route (uvicorn's
``--limit-concurrency``; hypercorn has no such limit) get 503 at once, below the open-file limit,
past which the server could accept no one.  Both 503 and 408 close the connection, so a client
that keeps trickling a body cannot keep it.  405 answers name the allowed methods in ``Allow``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING

from quart import Quart, Response, send_from_directory
from werkzeug.exceptions import HTTPException

from bentotui import tracing
from bentotui._compat import timeout_at
from bentotui.exceptions import BadInput, BentotuiError, PayloadTooLarge, RequestTimeout, ServiceUnavailable
from bentotui.io.base import HTTPRequest
from bentotui.monitoring.context import request_id as current_request_id
from bentotui.runner.codec import raised_in_worker
from bentotui.runner.errors import RunnerError
from bentotui.server.access_log import AccessLog
from bentotui.server.guard import RequestGuard, RequestRefused, refuse_websocket, service_cors_origins
from bentotui.server.keepalive import CLOSE, close_unless_read, expects_body
from bentotui.server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bentotui.server.metrics import ServerMetrics
from bentotui.server.mounts import (
    DOCS_UNDER_ROOT_MOUNT,
    install_middlewares,
    install_mounts,
    mount_prefix,
    mount_prefixes,
)
from bentotui.server.options import DEFAULT_HOST, DEFAULT_MAX_BODY, DEFAULT_READ_TIMEOUT_S
from bentotui.server.streaming import OpenStream, open_stream
from bentotui.server.usage import ProcessUsage
from bentotui.service.context import respond_in_request
from bentotui.service.service import RESERVED_ROUTES as _FIXED_ENDPOINTS
from bentotui.service.service import STATIC_PREFIX

if TYPE_CHECKING:
    # the ASGI types Quart's ``asgi_app`` is declared with (hypercorn is Quart's own dependency)
    from hypercorn.typing import (
        ASGIFramework,
        ASGIReceiveCallable,
        ASGISendCallable,
        ASGISendEvent,
        HTTPResponseBodyEvent,
        HTTPResponseStartEvent,
        HTTPScope,
        Scope,
        WebsocketScope,
    )

    from bentotui.runner.pool import RunnerPool
    from bentotui.service.service import APISpec, Service

logger = logging.getLogger("bentotui.server")

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")


def _error_body(error: str, detail: object, request_id: str) -> bytes:
    return json.dumps({"error": error, "detail": detail, "request_id": request_id}, default=str).encode()


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:  # a service's own error_code outside the standard ones
        return "server error"


#: every 503 says when to come back (RFC 9110 10.2.3): a worker restart or an overload passes in
#: about a second, so clients that honour it (urllib3's Retry, browsers, k8s probes) do not hammer
RETRY_AFTER = {"retry-after": "1"}
NO_STORE = {"cache-control": "no-store"}  # live numbers: never from a cache


def _endpoint_label(path: str) -> str:
    """Metrics label for a non-API path; unknown paths share one label to bound cardinality."""
    if path in _FIXED_ENDPOINTS:
        return path
    return STATIC_PREFIX if path.startswith(STATIC_PREFIX + "/") else "<other>"


class ServerCore:
    """ASGI middleware: the request guard, request ids, metrics, access log, limits, and the API fast path."""

    def __init__(
        self,
        inner: ASGIFramework,
        service: Service,
        *,
        metrics: ServerMetrics,
        access_log: AccessLog | None,
        guard: RequestGuard,
        max_body: int,
        timeout: float,
        max_concurrency: int | None,
        read_timeout: float = DEFAULT_READ_TIMEOUT_S,
        max_connections: int | None = None,
    ) -> None:
        self.inner = inner
        self.apis = {api.route: api for api in service.apis.values()}  # routes are normalized to "/x"
        from bentotui.server.tasks import server_task_routes  # it builds on this module

        self.task_routes = server_task_routes(service, self)  # /<task>/submit, /status, ...: none without tasks
        self.metrics = metrics
        self.access_log = access_log
        self.guard = guard  # Host and cross-site checks, before any route (mounted apps too) sees a request
        self.max_body = max_body
        self.timeout = timeout
        self.body_timeout = min(read_timeout, timeout)  # a body never gets longer than the request
        self.max_concurrency = max_concurrency
        self.max_connections = max_connections
        self.in_flight = 0  # API requests, against max_concurrency
        self.in_progress = 0  # requests on any route, against max_connections
        self.mounts = mount_prefixes(service)  # mounted apps' traffic is labelled by its prefix

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and not await self._websocket_allowed(scope, send):
                return
            await self.inner(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = ""
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
                break
        if not request_id:
            request_id = os.urandom(8).hex()
        path = scope["path"]
        api = self.apis.get(path)
        task = self.task_routes.get(path) if api is None else None
        refused: RequestRefused | None = None
        try:
            cors = self.guard.check(scope)
        except RequestRefused as error:  # a Host that is not allowed, or a page from another origin
            cors, refused = None, error
        if cors is not None:  # a cross-origin request --cors-origin allows
            send = cors.wrap(send)
        if refused is not None:
            logger.warning("refused %s %s: %s [%s]", scope["method"], path, refused.detail, request_id)
            status = await self._fail(send, refused, request_id, _close_if_body(scope))
        elif cors is not None and cors.preflight:
            await _respond(send, 204, b"", "text/plain", request_id)
            status = 204
        elif self.max_connections is not None and self.in_progress >= self.max_connections:
            exc = ServiceUnavailable(
                "server overloaded", f"{self.max_connections} requests in progress (--max-connections)"
            )
            status = await self._fail(send, exc, request_id, CLOSE)
        else:
            self.in_progress += 1
            try:
                if api is not None:
                    status = await self._api(api, scope, receive, send, request_id)
                else:
                    if expects_body(scope["headers"]):  # tasks, Quart and mounted apps may answer unread
                        receive, send = close_unless_read(receive, send)
                    route = task if task is not None else self._delegate
                    status = await route(scope, receive, send, request_id)
            finally:
                self.in_progress -= 1
        endpoint = path if api is not None or task is not None else mount_prefix(path, self.mounts) or _endpoint_label(path)
        elapsed = time.perf_counter() - start
        self.metrics.observe_request(endpoint, status, elapsed)
        if self.access_log is not None:
            self.access_log.log(scope["method"], path, status, elapsed * 1000.0, request_id)

    async def _websocket_allowed(self, scope: WebsocketScope, send: ASGISendCallable) -> bool:
        """Apply the guard to a websocket handshake (a mounted app's): browsers let any page open
        one to any server, so a cross-site handshake is refused like a cross-site request."""
        try:
            self.guard.check(scope)
        except RequestRefused as exc:
            request_id = os.urandom(8).hex()
            logger.warning("refused websocket %s: %s [%s]", scope["path"], exc.detail, request_id)
            body = _error_body(exc.message, exc.detail, request_id)
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await refuse_websocket(send, exc.http_status, body, headers)
            return False
        return True

    async def _delegate(
        self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable, request_id: str
    ) -> int:
        status = 500
        rid_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: ASGISendEvent) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        token = current_request_id.set(request_id)  # the error handler's bodies carry it
        try:
            await self.inner(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
        return status

    async def _api(
        self, api: APISpec, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable, request_id: str
    ) -> int:
        if scope["method"] != "POST":
            body = _error_body("method not allowed", f"{scope['path']} accepts POST only", request_id)
            await _respond(send, 405, body, "application/json", request_id, {"allow": "POST", **_close_if_body(scope)})
            return 405
        if self.max_concurrency is not None and self.in_flight >= self.max_concurrency:
            exc = ServiceUnavailable("server overloaded", f"more than {self.max_concurrency} requests in flight")
            return await self._fail(send, exc, request_id, _close_if_body(scope))
        self.in_flight += 1
        in_progress = self.metrics.in_progress(api.route)
        in_progress.inc()
        request_token = current_request_id.set(request_id)  # bentoml.monitor records carry it
        started = asyncio.get_running_loop().time()
        reading = True
        stream: OpenStream | None = None
        try:
            try:
                # one deadline: the body's first, then moved to the whole request's
                async with timeout_at(started + self.body_timeout) as deadline:
                    http_request = await self._read_request(scope, receive)
                    reading = False
                    if self.body_timeout < self.timeout:
                        deadline.reschedule(started + self.timeout)
                    value = await api.input.from_http(http_request)
                    if api.stream_type is not None:  # decided when the API was registered
                        stream = await open_stream(api, value)  # up to its first item
                    elif api.context is None:
                        response = api.output.to_http(await api.call(value))
                        headers: Mapping[str, str] | Iterable[tuple[str, str]] = response.headers
                    else:  # the API takes a bentoml.Context: its status, headers and cookies apply
                        response, headers = await respond_in_request(api, value, scope, request_id)
            except asyncio.TimeoutError:
                if not deadline.expired():
                    raise
                if reading:
                    slow = BentotuiError(
                        "request body too slow",
                        f"the body was not complete within {self.body_timeout:g}s (--read-timeout)",
                        error_code=HTTPStatus.REQUEST_TIMEOUT,
                    )
                    return await self._fail(send, slow, request_id, CLOSE)
                raise RequestTimeout(
                    "request timed out", f"{api.name} did not finish within {self.timeout:g}s"
                ) from None
            if stream is not None:  # in flight until its last item is written
                return await stream.respond(send, receive, request_id)
        except BentotuiError as exc:
            if exc.http_status >= 500:
                logger.warning("%s %s -> %d: %s [%s]", scope["method"], scope["path"], exc.http_status, exc, request_id)
                if isinstance(exc, RunnerError) or raised_in_worker(exc):
                    detail = f"a runner failed in API {api.name!r}; see the server log"
                    body = _error_body(_status_phrase(exc.http_status), detail, request_id)
                    await _respond(send, exc.http_status, body, "application/json", request_id)
                    return exc.http_status
            return await self._fail(send, exc, request_id, CLOSE if reading else None)  # 413: the rest unread
        except Exception as exc:
            logger.exception("API %s failed [request id %s]", api.name, request_id)
            body = _error_body(
                "internal server error", f"{type(exc).__name__} in API {api.name!r}; see the server log", request_id
            )
            await _respond(send, 500, body, "application/json", request_id)
            return 500
        finally:
            self.in_flight -= 1
            in_progress.dec()
            current_request_id.reset(request_token)
        await _respond(send, response.status, response.body, response.content_type, request_id, headers)
        return response.status

    async def _read_request(self, scope: HTTPScope, receive: ASGIReceiveCallable) -> HTTPRequest:
        """The whole body, refused early (413) when Content-Length or the bytes read exceed the limit."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise PayloadTooLarge("request body too large", f"{length} bytes; the limit is {self.max_body}")
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # on an HTTP scope, the only other one is http.disconnect
                raise BadInput("client disconnected before the request body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise PayloadTooLarge("request body too large", f"over {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return HTTPRequest(body=body, content_type=headers.get("content-type", ""), headers=headers)

    async def _fail(
        self, send: ASGISendCallable, exc: BentotuiError, request_id: str, headers: Mapping[str, str] | None = None
    ) -> int:
        status = exc.http_status
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            headers = {**(headers or {}), **RETRY_AFTER}
        body = _error_body(exc.message, exc.detail, request_id)
        await _respond(send, status, body, "application/json", request_id, headers)
        return status


def _close_if_body(scope: HTTPScope) -> Mapping[str, str]:
    """``Connection: close`` for an answer given before reading a body the request has
    (see :mod:`bentotui.server.keepalive`)."""
    return CLOSE if expects_body(scope["headers"]) else {}


async def _respond(
    send: ASGISendCallable,
    status: int,
    body: bytes,
    content_type: str,
    request_id: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> None:
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode("latin-1")),
    ]
    if headers:
        pairs = headers.items() if isinstance(headers, Mapping) else headers  # pairs: Set-Cookie repeats
        raw += [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in pairs]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": raw, "trailers": False}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def create_app(
    service: Service,
    pool: RunnerPool | None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    timeout: float = 60.0,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    max_connections: int | None = None,
    max_concurrency: int | None = None,
    metrics: ServerMetrics | None = None,
    access_log: AccessLog | None = None,
    is_started: Callable[[], bool] = lambda: True,
    host: str = DEFAULT_HOST,
    allowed_hosts: Iterable[str] = (),
    cors_origins: Iterable[str] = (),
) -> Quart:
    """The Quart app for ``service``.

    ``/readyz`` is 200 once ``is_started()`` (the launcher's: runners up, startup hooks run) and
    while ``pool`` (a RunnerPool, or None without runners) has a live worker for every runner.
    ``host`` (the bound address), ``allowed_hosts`` and ``cors_origins`` (normalized by
    ``ServeOptions``) configure the :class:`~bentotui.server.guard.RequestGuard`.
    """
    app = Quart(__name__, static_folder=STATIC_DIR, static_url_path=STATIC_PREFIX)
    metrics = metrics or ServerMetrics.for_service(service)

    def ready() -> bool:
        return is_started() and (pool is None or bool(pool.ready))

    @app.get("/healthz")
    @app.get("/livez")
    async def live() -> Response:
        return Response("ok", content_type="text/plain")

    @app.get("/readyz")
    async def readyz() -> Response:
        if ready():
            return Response("ready", content_type="text/plain")
        return Response("runners not ready", status=503, content_type="text/plain", headers=RETRY_AFTER)

    @app.get("/metrics")
    async def metrics_route() -> Response:
        return Response(metrics.render(), content_type=METRICS_CONTENT_TYPE)

    usage = ProcessUsage()

    @app.get("/runners.json")
    async def runners_json() -> Response:
        """Workers (and their fork server) with their CPU and memory, and each batchable method's
        batching (the TUI's batching panel).  Measured in a thread: PSS costs ~2 ms a process."""
        insight, forker = ({}, None) if pool is None else (pool.insight(), pool.fork_server_pid)
        body = await asyncio.to_thread(usage.annotate, insight, forker)
        return Response(json.dumps(body), content_type="application/json", headers=NO_STORE)

    documents: dict[str, bytes] = {}  # the service's descriptions, built on first request

    def document(route: str, build: Callable[[Service], object]) -> Response:
        if route not in documents:
            documents[route] = json.dumps(build(service)).encode()
        return Response(documents[route], content_type="application/json")

    @app.get("/docs.json")
    async def docs_json() -> Response:
        from bentotui.service.openapi import openapi_spec

        return document("/docs.json", openapi_spec)

    @app.get("/schema.json")
    async def schema_json() -> Response:
        from bentotui.service.schema import service_schema  # BentoML 1.4's HTTP clients read it

        return document("/schema.json", service_schema)

    async def swagger_ui() -> Response:
        return await send_from_directory(STATIC_DIR, "index.html")

    # at "/", unless an app is mounted there (0.x's web UI), which then leaves Swagger UI /docs
    root_mounted = any(path == "/" for _, path, _ in service.mount_apps)
    app.get(DOCS_UNDER_ROOT_MOUNT if root_mounted else "/")(swagger_ui)

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        from quart import request

        detail = f"{request.method} {request.path}"
        if exc.code == 404:
            routes = ", ".join(sorted(["/", *_FIXED_ENDPOINTS - {"/"}, *(f"POST {r}" for r in service_routes)]))
            detail = f"no route {request.path}; routes: {routes}"
        body = json.dumps(
            {"error": (exc.name or "error").lower(), "detail": detail, "request_id": current_request_id.get()}
        )
        allow = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}  # a 405's allowed methods
        return Response(body, status=exc.code or 500, content_type="application/json", headers=allow)

    service_routes = sorted(api.route for api in service.apis.values())
    install_mounts(app, service)
    # Quart's documented way to add ASGI middleware is to replace the bound method
    app.asgi_app = ServerCore(  # type: ignore[method-assign]
        app.asgi_app,
        service,
        metrics=metrics,
        access_log=access_log,
        guard=RequestGuard(
            bind_host=host, allowed_hosts=allowed_hosts, cors_origins=cors_origins,
            trusted_origins=service_cors_origins(service),
        ),
        max_body=max_body,
        timeout=timeout,
        max_concurrency=max_concurrency,
        read_timeout=read_timeout,
        max_connections=max_connections,
    )
    if (tracer := tracing.active()) is not None:  # off: no middleware at all, the request path is untouched
        from bentotui.server.tracing import TracingMiddleware

        app.asgi_app = TracingMiddleware(  # type: ignore[method-assign]
            app.asgi_app, tracer, [*service_routes, *_FIXED_ENDPOINTS]
        )
    install_middlewares(app, service)
    return app
