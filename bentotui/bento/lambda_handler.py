"""Serving a bento on AWS Lambda: HTTP API v2 / function URL events through the server's ASGI app.

One Lambda container answers one invocation at a time and may be frozen between them, so there
are no long-lived worker processes: at cold start the bento's service is imported, every runner is
bound to the in-process :class:`~bentotui.runner.runner.LocalBackend` (the backend of
``runner.init_local()``: it calls the runnable's methods directly, without batching), the
deployment and startup hooks run, and the very ASGI app ``bentotui serve`` serves (built by
``bentotui.server.app.create_app``, guard, limits, error bodies and all) is created and taken
through its ASGI lifespan startup.  App and event loop then live as long as the container; each
invocation is one ``run_until_complete`` on that loop.

Why this module is shipped in bentotui while the entry point is generated into the context:
``bentotui/bento`` sits *below* ``bentotui/server`` in the layers of DESIGN.md, so nothing here may
import ``create_app``.  The translation (event -> ASGI scope, ASGI messages -> response), the cold
start and the runner binding are here, typed and tested with the package; the context's
``lambda_function.py`` (written by :mod:`bentotui.bento.lambda_context`) is the composition root
that hands ``create_app`` in, as the CLI does for ``serve``.

Events: API Gateway HTTP API and Lambda function URLs, payload format 2.0 (``version``,
``rawPath``, ``rawQueryString``, ``headers``, ``cookies``, ``requestContext.http.method``,
``body``, ``isBase64Encoded``).  Answers use the 2.0 response shape: ``statusCode``, ``headers``
(repeated headers joined with ", "), ``cookies`` (every ``Set-Cookie``), ``body``, and
``isBase64Encoded`` true for a body that is not UTF-8 text.  Bodies are bounded before they are
decoded (413, the server's limit), and so are responses (Lambda refuses a payload over 6 MB).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import binascii
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError
from bentotui.service.importing import SERVING_ENV

if TYPE_CHECKING:
    from bentotui.service.service import Service

logger = logging.getLogger("bentotui.server")

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]
#: builds the server's ASGI app for a service (the entry point passes ``create_app`` with options)
AppFactory = Callable[["Service"], ASGIApp]

#: AWS Lambda's limit on a synchronous invocation's response payload, less room for the envelope
RESPONSE_LIMIT = 6 * 1024 * 1024 - 64 * 1024
SHUTDOWN_TIMEOUT_S = 10.0
#: content types answered as text (anything else, or an encoded body, goes base64)
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded")


class EventError(BentotuiError):
    """An invocation payload this adapter cannot serve (HTTP 400 in the answer)."""

    http_status = 400


@dataclass
class HTTPEvent:
    """What a 2.0 event asks for, in ASGI terms."""

    scope: Message
    body: bytes
    request_id: str


@dataclass
class ResponseParts:
    """What the app sent: status, raw header pairs, the body."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    started: bool = False


# -- events -> ASGI ------------------------------------------------------------------------------


def parse_event(event: Mapping[str, Any], max_body: int) -> HTTPEvent:
    """The ASGI HTTP scope and body of a payload-format-2.0 event; an EventError (400, or 413 for
    a body over ``max_body``) for what cannot be served."""
    if not isinstance(event, Mapping) or event.get("version") != "2.0":
        raise EventError(
            "unsupported event",
            "bentotui's Lambda handler serves API Gateway HTTP API and function URL events of payload format 2.0",
        )
    context = _mapping(event.get("requestContext"), "requestContext")
    http = _mapping(context.get("http"), "requestContext.http")
    method = http.get("method")
    if not isinstance(method, str) or not method:
        raise EventError("bad event", "requestContext.http.method is missing")
    raw_path = event.get("rawPath") or http.get("path") or "/"
    if not isinstance(raw_path, str) or not raw_path.startswith("/"):
        raise EventError("bad event", f"rawPath must be a path starting with '/', got {raw_path!r}")
    raw_path = _strip_stage(raw_path, context.get("stage"))
    request_id = str(context.get("requestId") or os.urandom(8).hex())[:128]
    body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")), max_body)
    headers = _request_headers(event, context, body, request_id)
    query = event.get("rawQueryString") or ""
    scope: Message = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": str(http.get("protocol", "HTTP/1.1")).removeprefix("HTTP/") or "1.1",
        "method": method.upper(),
        "scheme": "https",
        "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", "replace"),
        "query_string": str(query).encode("latin-1", "replace"),
        "root_path": "",
        "headers": headers,
        "client": (str(http.get("sourceIp") or "0.0.0.0"), 0),
        "server": (str(context.get("domainName") or "lambda"), 443),
        "extensions": {},
        "state": {},
    }
    return HTTPEvent(scope, body, request_id)


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise EventError("bad event", f"{name} is missing")
    return value


def _strip_stage(raw_path: str, stage: object) -> str:
    """An HTTP API on a named stage puts ``/<stage>`` in front of every path; the routes do not
    have it (a ``$default`` stage and function URLs add nothing)."""
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = f"/{stage}"
        if raw_path == prefix:
            return "/"
        if raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix):]
    return raw_path


def decode_body(body: object, is_base64: bool, max_body: int) -> bytes:
    """The request body as bytes, refused (413) before decoding when it cannot fit ``max_body``."""
    if body is None or body == "":
        return b""
    if not isinstance(body, str):
        raise EventError("bad event", "body must be a string")
    # every byte is at least one character of text, and base64 is 4 characters per 3 bytes
    bound = 4 * -(-max_body // 3) if is_base64 else max_body
    if len(body) > bound:
        raise _too_large(f"over {max_body} bytes")
    if is_base64:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EventError("bad event", "isBase64Encoded is true but the body is not base64") from None
    else:
        data = body.encode("utf-8", "surrogatepass")
    if len(data) > max_body:
        raise _too_large(f"{len(data)} bytes; the limit is {max_body}")
    return data


def _too_large(detail: str) -> EventError:
    return EventError("request body too large", detail, error_code=413)


def _request_headers(
    event: Mapping[str, Any], context: Mapping[str, Any], body: bytes, request_id: str
) -> list[tuple[bytes, bytes]]:
    """ASGI header pairs: the event's (lower-case), its ``cookies`` as one ``Cookie`` header, a
    ``Host`` (the domain) if none came, the decoded body's length, and AWS's request id as
    ``x-request-id`` unless the client sent one, so the server's logs and answers carry it."""
    given = event.get("headers") or {}
    if not isinstance(given, Mapping):
        raise EventError("bad event", "headers must be an object")
    headers = {str(k).lower(): str(v) for k, v in given.items() if v is not None}
    headers.pop("content-length", None)  # of the encoded body, if anything; the decoded one is below
    cookies = event.get("cookies")
    if isinstance(cookies, list) and cookies:
        headers["cookie"] = "; ".join(str(c) for c in cookies)
    headers.setdefault("host", str(context.get("domainName") or "lambda"))
    headers.setdefault("x-request-id", request_id)
    headers["content-length"] = str(len(body))
    return [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in headers.items()]


# -- ASGI -> response ----------------------------------------------------------------------------


def is_text(content_type: str, content_encoding: str) -> bool:
    """Whether a body of this type can travel as text (API Gateway passes it through unchanged)."""
    if content_encoding and content_encoding.lower() != "identity":
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


def to_response(parts: ResponseParts) -> dict[str, Any]:
    """The payload-format-2.0 answer for what the app sent."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for raw_key, raw_value in parts.headers:
        key, value = raw_key.decode("latin-1").lower(), raw_value.decode("latin-1")
        if key == "set-cookie":
            cookies.append(value)
        else:
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    body = bytes(parts.body)
    text: str | None = None
    if is_text(headers.get("content-type", ""), headers.get("content-encoding", "")):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    response: dict[str, Any] = {"statusCode": parts.status, "headers": headers}
    if cookies:
        response["cookies"] = cookies
    if text is not None:
        response.update(body=text, isBase64Encoded=False)
    else:
        response.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    return response


def error_response(exc: BentotuiError, request_id: str) -> dict[str, Any]:
    """The server's JSON error body (``error``, ``detail``, ``request_id``) as a 2.0 answer."""
    body = json.dumps({"error": exc.message, "detail": exc.detail, "request_id": request_id}, default=str)
    return {
        "statusCode": exc.http_status,
        "headers": {"content-type": "application/json", "x-request-id": request_id},
        "body": body,
        "isBase64Encoded": False,
    }


async def call_app(app: ASGIApp, request: HTTPEvent) -> ResponseParts:
    """One HTTP request through the ASGI app, its whole answer collected.

    After the body, ``receive`` waits until the response is complete before it reports a
    disconnect: a streaming answer watches ``receive`` for a client that went away, and there is
    none while Lambda waits for the answer.
    """
    parts = ResponseParts()
    done = asyncio.Event()
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            parts.started = True
            parts.status = int(message["status"])
            parts.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif message["type"] == "http.response.body":
            if len(parts.body) <= RESPONSE_LIMIT:  # past it the answer is refused anyway: stop growing
                parts.body += message.get("body", b"")
            if not message.get("more_body", False):
                done.set()

    try:
        await app(request.scope, receive, send)
    finally:
        done.set()
    return parts


# -- the handler ---------------------------------------------------------------------------------


class LambdaHandler:
    """The Lambda handler: ``handler(event, context)``; one per container, built by :func:`cold_start`."""

    def __init__(
        self, service: Service, app: ASGIApp, loop: asyncio.AbstractEventLoop, max_body: int, lifespan: Lifespan
    ) -> None:
        self.service = service
        self.app = app
        self.loop = loop
        self.max_body = max_body
        self.lifespan = lifespan
        self.invocations = 0

    def close(self) -> None:
        """The app's lifespan shutdown and the service's shutdown hooks, then the loop is closed.

        Registered for interpreter exit by :func:`cold_start`: it runs when the process exits on its own
        (a local run, a runtime that is told to stop); Lambda itself mostly freezes a container and
        discards it, so shutdown hooks are best effort there, as the docs say.
        """
        if self.loop.is_closed():
            return
        try:
            self.loop.run_until_complete(asyncio.wait_for(self._shutdown(), SHUTDOWN_TIMEOUT_S))
        except Exception:
            logger.exception("shutdown of %s failed", self.service.name)
        finally:
            self.loop.close()

    async def _shutdown(self) -> None:
        await self.lifespan.shutdown()
        await self.service.shutdown()

    def __call__(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        self.invocations += 1
        try:
            request = parse_event(event, self.max_body)
        except EventError as exc:
            request_id = _event_request_id(event)
            logger.warning("refused invocation: %s (%s) [%s]", exc.message, exc.detail, request_id)
            return error_response(exc, request_id)
        return self.loop.run_until_complete(self._serve(request))

    async def _serve(self, request: HTTPEvent) -> dict[str, Any]:
        try:
            parts = await call_app(self.app, request)
        except Exception:  # the app answers its own errors; this is a bug below it
            logger.exception("the app failed [request id %s]", request.request_id)
            return error_response(BentotuiError("internal server error", "see the function's log"), request.request_id)
        if not parts.started:
            logger.error("the app sent no response [request id %s]", request.request_id)
            return error_response(BentotuiError("internal server error", "no response"), request.request_id)
        response = None if len(parts.body) > RESPONSE_LIMIT else to_response(parts)
        if response is None or len(response["body"]) > RESPONSE_LIMIT:
            logger.error("the answer is over AWS Lambda's 6 MB limit [request id %s]", request.request_id)
            too_big = BentotuiError("response too large", "AWS Lambda answers at most 6 MB (base64 counts 4/3 for binary)")
            return error_response(too_big, request.request_id)
        return response


def _event_request_id(event: object) -> str:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    rid = context.get("requestId") if isinstance(context, Mapping) else None
    return str(rid)[:128] if rid else os.urandom(8).hex()


class Lifespan:
    """Drives the app through the ASGI lifespan protocol, as hypercorn does for ``serve``: mounted
    apps' startup events run, and a failed startup fails the cold start.  The protocol's task stays
    pending on the container's loop between invocations, until :meth:`LambdaHandler.close`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self.task = asyncio.create_task(self._run(scope))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        if message["type"] == "lifespan.startup.failed":
            raise BentotuiError(f"startup failed: {message.get('message') or 'the app refused to start'}")

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.task  # the app returns once it has sent lifespan.shutdown.complete

    async def _run(self, scope: Message) -> None:
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except Exception as exc:  # an app without lifespan support raises on the scope (hypercorn: a warning)
            self.supported = False
            logger.warning("ASGI lifespan not supported by the app (%s); serving without it", exc)
        finally:
            await self.outbox.put({"type": "lifespan.startup.complete"})  # unblocks startup if it waits


def cold_start(bento_dir: Path, make_app: AppFactory, *, max_body: int) -> LambdaHandler:
    """Load the bento in ``bento_dir`` and return the handler serving it (once per container).

    The order is ``bentotui serve``'s: deployment hooks, runners (here: bound in-process, each
    model loaded now rather than on the first request), startup hooks, then the app.
    """
    from bentotui.bento.serving import load_bento_service

    os.environ.setdefault(SERVING_ENV, "lambda")  # `with bentoml.importing():` raises, as in a server
    service = load_bento_service(str(bento_dir)).service
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(_start_service(service))
    app = make_app(service)
    lifespan = Lifespan(app)
    loop.run_until_complete(lifespan.startup())
    logger.info("serving %s on AWS Lambda (%d runner(s) in-process)", service.name, len(service.runners))
    handler = LambdaHandler(service, app, loop, max_body, lifespan)
    _at_exit(handler.close)
    return handler


def _at_exit(callback: Callable[[], None]) -> None:
    """Run ``callback`` when the interpreter exits, *before* ``concurrent.futures`` stops its
    threads: synchronous shutdown hooks run in one (``asyncio.to_thread``), which a plain ``atexit``
    callback can no longer start.  ``threading._register_atexit`` is the hook ``concurrent.futures``
    itself uses; without it (another interpreter), ``atexit`` at least runs the async hooks."""
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(callback)
    else:
        atexit.register(callback)


async def _start_service(service: Service) -> None:
    await service.deploy()
    for runner in service.runners:
        runner.init_local()  # LocalBackend: the runnable's methods called directly, no batching
    await service.startup()
