"""A response sent before its request's body was read says ``Connection: close``.

hypercorn reuses a connection only once h11 has parsed the whole request.  When an app answers
early (a middleware's 401/403, a 413 on ``Content-Length``, a 503 under load) and the body has
not all arrived yet, hypercorn drops the connection after the response without saying so, and a
client that keeps connections alive (httpx, requests, BentoML's own client) sends its next
request into a closed socket: "Server disconnected without sending a response", now and then,
depending on whether the body came in the same packet as the headers.  ``Connection: close`` on
such a response tells the client not to reuse the connection, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable, ASGISendEvent

CLOSE = {"connection": "close"}  # h11 closes the connection once a response with it is sent
_CLOSE_HEADER = (b"connection", b"close")


def expects_body(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request (its ASGI headers) comes with a body: a non-zero Content-Length or chunks."""
    for key, value in headers:
        if key == b"content-length":
            return value.strip() not in (b"0", b"")
        if key == b"transfer-encoding":
            return True
    return False


def close_unless_read(
    receive: ASGIReceiveCallable, send: ASGISendCallable
) -> tuple[ASGIReceiveCallable, ASGISendCallable]:
    """``receive`` and ``send`` of a request with a body: the response start gets
    ``Connection: close`` unless the app read the body to its end first."""
    read = False

    async def receive_tracked() -> ASGIReceiveEvent:
        nonlocal read
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            read = True
        return message

    async def send_closing(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not read:
            message["headers"] = [*message.get("headers", ()), _CLOSE_HEADER]
        await send(message)

    return receive_tracked, send_closing


class CloseUnlessRead:
    """ASGI: :func:`close_unless_read` around every HTTP request with a body; it goes outside a
    service's own middleware (``svc.add_asgi_middleware``), which may answer without reading."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "http" and expects_body(scope["headers"]):
            receive, send = close_unless_read(receive, send)
        await self.app(scope, receive, send)
