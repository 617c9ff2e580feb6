"""The HTTP side of a streaming API: each item is a chunk of the response body as it comes.

BentoML 1.2+'s semantics: the items are written as they are -- ``str`` as UTF-8, bytes as bytes,
anything else encoded by the API's output descriptor (JSON) -- with no framing added, under the
API's ``stream_type`` (a 1.2 method's ``ContentType``, else ``text/event-stream``; a 1.x API's
output descriptor's type).  A service that serves Server-Sent Events yields them framed
(``f"data: {token}\\n\\n"``), exactly as it does for BentoML, and gets those bytes on the wire.

The first item is read before the response starts (:func:`open_stream`), inside the request's
deadline, so an error raised before it is an ordinary error response (JSON, with its status).
After that the response is under way: the ``--timeout`` no longer applies (a stream lasts as long
as its reader wants it), an error raised mid-stream is logged with the request id and the
response ends without its last chunk (the connection closes, so the client sees an incomplete
body rather than a clean end), and a client that disconnects stops the stream: the generator is
closed, in the runner worker too, so its ``finally:`` runs.  Sending waits for the client to take
each chunk (hypercorn drains its socket), which is what pauses the generator for a slow reader.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bentotui.runner.stream import ItemStream, item_stream

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPResponseBodyEvent

    from bentotui.io.base import IODescriptor
    from bentotui.service.service import APISpec

logger = logging.getLogger("bentotui.server")

_NOTHING = object()  # a stream that ended before its first item


class OpenStream:
    """A stream whose first item has been read: what is left is to write it out."""

    def __init__(self, api: APISpec, items: ItemStream, first: Any) -> None:
        self.api = api
        self.items = items
        self.first = first

    async def respond(self, send: ASGISendCallable, receive: ASGIReceiveCallable, request_id: str) -> int:
        """Write the response; returns its status.  Never raises: once the response has started,
        a failure can only end it (see the module docstring)."""
        assert self.api.stream_type is not None
        headers = [
            (b"content-type", self.api.stream_type.encode("latin-1")),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers, "trailers": False})
            writer = asyncio.ensure_future(self._write(send, request_id))
            gone = asyncio.ensure_future(_disconnected(receive))
            await asyncio.wait({writer, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not writer.done():
                logger.info("client left API %s's stream [%s]; stopping it", self.api.name, request_id)
                writer.cancel()
                await asyncio.wait({writer})
            gone.cancel()
        finally:  # also when the server itself cancels the request
            await self._close(request_id)
        return 200

    async def _write(self, send: ASGISendCallable, request_id: str) -> None:
        encode = _encoder(self.api.output)
        try:
            if self.first is not _NOTHING:
                await _chunk(send, encode(self.first))
            async for item in self.items:
                await _chunk(send, encode(item))
        except Exception:
            logger.exception(
                "API %s failed mid-stream; the response ends early [request id %s]", self.api.name, request_id
            )
            return  # no last chunk: the server closes the connection, the body is incomplete
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(end)

    async def _close(self, request_id: str) -> None:
        try:
            await self.items.aclose()
        except Exception:
            logger.exception("closing API %s's stream failed [request id %s]", self.api.name, request_id)


async def open_stream(api: APISpec, value: Any) -> OpenStream:
    """Call a streaming API and read its first item (its errors are the request's)."""
    items = item_stream(await api.call(value))
    try:
        first = await items.__anext__()
    except StopAsyncIteration:
        first = _NOTHING
    except BaseException:
        await items.aclose()
        raise
    return OpenStream(api, items, first)


def _encoder(output: IODescriptor) -> Any:
    def encode(item: Any) -> bytes:
        if isinstance(item, str):
            return item.encode()
        if isinstance(item, (bytes, bytearray, memoryview)):
            return bytes(item)
        return output.to_http(item).body

    return encode


async def _chunk(send: ASGISendCallable, body: bytes) -> None:
    if body:  # an empty chunk would read as the end of a chunked body
        message: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": True}
        await send(message)


async def _disconnected(receive: ASGIReceiveCallable) -> None:
    """Return once the client is gone (the body is read already: nothing else can arrive)."""
    while (await receive())["type"] != "http.disconnect":
        pass
