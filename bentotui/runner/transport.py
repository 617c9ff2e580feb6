"""Length-prefixed frames over a Unix socket or TCP, many requests in flight per connection.

A frame is ``<msg_id u64><kind u8><nparts u32>``, ``nparts`` lengths (u64), then the parts (see
``codec``: a pickle stream and its out-of-band buffers).  Replies carry the request's ``msg_id``,
so the API process keeps many calls in flight on one connection and matches replies by id.
A ``CALL``'s pickled tuple is ``(method, args, kwargs, trace)``: ``trace`` is None, or with
tracing on (:mod:`bentotui.tracing`) the W3C ``traceparent``/``tracestate`` of the API
process's span, which the worker's span continues (two bytes of the frame when off).

Receiving is an ``asyncio.BufferedProtocol`` rather than a ``StreamReader``: small frames are
parsed out of one reusable buffer with no coroutine per frame, and a large frame is read straight
into its own ``bytearray``, so the arrays the codec rebuilds on it are writable and not copied.

Streams (:mod:`bentotui.runner.stream`) add six kinds on the same connection and id space:
``STREAM`` opens one (parts as a ``CALL``'s, the pickled tuple carrying the opening credit
before ``trace``), the worker answers ``ITEM`` per item, then ``END`` (one empty part) or ``FAIL`` (an error's
parts); the API process sends ``CREDIT`` (one part, u32 items) as it consumes and ``CANCEL`` (one
empty part) when its reader goes away.  ``CALL``/``RESULT``/``ERROR`` are untouched: a frame of a
stream kind costs the call path one integer comparison.

A runner server's link (:mod:`bentotui.runner.relay`) opens with three more kinds, ``HELLO``,
``AUTH`` and ``WELCOME`` (the shared-token handshake of :mod:`bentotui.runner.auth`); the local
worker connections skip it.  ``FrameProtocol.max_body`` bounds what an unauthenticated peer may
send before a byte of it is buffered.

Addresses: ``unix:/path/to/sock`` or ``tcp:HOST:PORT`` (port 0 picks a free one); BentoML's
``tcp://HOST:PORT`` and ``unix:///path`` spellings are accepted too.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import struct
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from bentotui.exceptions import InvalidArgument, ServiceUnavailable
from bentotui.runner import auth, codec
from bentotui.runner.errors import RunnerError
from bentotui.runner.stream import CREDIT_FORMAT, WINDOW, Receiver

CALL, RESULT, ERROR = 1, 2, 3
STREAM, ITEM, END, FAIL, CREDIT, CANCEL = 4, 5, 6, 7, 8, 9
HELLO, AUTH, WELCOME = 10, 11, 12
#: the worker's kinds of stream reply, in the order ``Producer`` takes them
STREAM_REPLIES = (ITEM, END, FAIL)
HEADER = struct.Struct("<QBI")
_MAX_PARTS = 1024  # keeps a frame head (8 bytes a part) far below the buffer
_BUFFER = 256 * 1024
_BIG = _BUFFER // 2  # bodies above this get their own buffer
_JOIN_LIMIT = 64 * 1024  # frames below this go out in one write

_T = TypeVar("_T")
FrameHandler = Callable[[int, int, list[memoryview]], None]


def parse_address(address: str) -> tuple[str, str, int]:
    """``("unix", path, 0)`` or ``("tcp", host, port)``."""
    scheme, _, rest = address.partition(":")
    rest = rest.removeprefix("//")  # tcp://host:port, unix:///path
    if scheme == "unix" and rest:
        return scheme, rest, 0
    if scheme == "tcp":
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            return scheme, host.strip("[]"), int(port)
    raise InvalidArgument(f"bad runner address {address!r}: expected unix:PATH or tcp:HOST:PORT")


class FrameProtocol(asyncio.BufferedProtocol):
    """Both ends of a connection: parses frames for ``on_frame``, writes them with ``send``."""

    def __init__(self, on_frame: FrameHandler, on_lost: Callable[[Exception | None], None]) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray(_BUFFER)
        self._view = memoryview(self._buf)
        self._start = self._end = 0
        self._big: bytearray | None = None  # a large body being read in place
        self._big_filled = 0
        self._big_head: tuple[int, int, tuple[int, ...]] = (0, 0, ())
        #: the largest frame body accepted (a peer sending more is cut off before it is buffered)
        self.max_body = sys.maxsize

    # -- asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream connection (unix or TCP) always gets a full Transport, not just a BaseTransport
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._on_lost(exc)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._big is not None:
            return memoryview(self._big)[self._big_filled :]
        if len(self._buf) - self._end < 4096:  # move the unparsed tail to the front
            pending = self._end - self._start
            self._buf[:pending] = self._buf[self._start : self._end]
            self._start, self._end = 0, pending
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._big is not None:
            self._big_filled += nbytes
            if self._big_filled == len(self._big):
                body, (msg_id, kind, lengths) = self._big, self._big_head
                self._big = None
                self._deliver(msg_id, kind, lengths, body)
            return
        self._end += nbytes
        try:
            self._parse()
        except ValueError as exc:  # a peer that does not speak our protocol
            self._abort(exc)

    # -- frames ------------------------------------------------------------------------------
    def _parse(self) -> None:
        buf = self._buf
        while self._end - self._start >= HEADER.size:
            start = self._start
            msg_id, kind, nparts = HEADER.unpack_from(buf, start)
            if not 0 < nparts <= _MAX_PARTS or not CALL <= kind <= WELCOME:
                raise ValueError(f"malformed frame header (kind {kind}, {nparts} parts)")
            head = HEADER.size + 8 * nparts
            available = self._end - start
            if available < head:
                return
            lengths = struct.unpack_from(f"<{nparts}Q", buf, start + HEADER.size)
            size = sum(lengths)
            if size > self.max_body:
                raise ValueError(f"frame of {size} bytes over the limit of {self.max_body}")
            if available >= head + size:
                body = buf[start + head : start + head + size]
                self._start = start + head + size
                self._deliver(msg_id, kind, lengths, body)
            elif size > _BIG:
                received = available - head
                self._big = bytearray(size)
                self._big[:received] = buf[start + head : self._end]
                self._big_filled = received
                self._big_head = (msg_id, kind, lengths)
                self._start = self._end = 0
                return
            else:
                return
        if self._start == self._end:
            self._start = self._end = 0

    def _deliver(self, msg_id: int, kind: int, lengths: tuple[int, ...], body: bytearray) -> None:
        view = memoryview(body)
        parts, offset = [], 0
        for length in lengths:
            parts.append(view[offset : offset + length])
            offset += length
        self._on_frame(msg_id, kind, parts)

    def _abort(self, exc: Exception) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._on_lost(exc)

    def send(self, msg_id: int, kind: int, parts: codec.Parts) -> None:
        """Write one frame (never blocks; raises ``ConnectionError`` once closed)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionError("connection closed")
        lengths = [memoryview(part).nbytes for part in parts]
        head = struct.pack(f"<QBI{len(parts)}Q", msg_id, kind, len(parts), *lengths)
        if sum(lengths) < _JOIN_LIMIT:
            transport.write(b"".join([head, *parts]))
        else:
            transport.write(head)
            for part in parts:
                transport.write(part)


class Client:
    """The API-process end of one worker connection: ``call`` returns a future for the reply."""

    def __init__(self) -> None:
        self.protocol = FrameProtocol(self._on_frame, self._on_lost)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._streams: dict[int, Receiver] = {}
        self._ids = itertools.count(1)
        self.closed = False
        self.on_lost: Callable[[], None] | None = None
        #: what an authenticated runner server said of itself (``WELCOME``); None for a local worker
        self.peer: dict[str, Any] | None = None
        self._handshake: _Handshake | None = None

    @classmethod
    async def connect(cls, address: str, timeout: float = 10.0, token: bytes | None = None) -> Client:
        """Connect to a worker, or with ``token`` (``b""`` for none) to a runner server, which
        must pass the handshake of :mod:`~bentotui.runner.auth` within ``timeout`` first."""
        client = cls()
        loop = asyncio.get_running_loop()
        scheme, where, port = parse_address(address)
        if token is not None:
            client._handshake = _Handshake(token, loop.create_future())
            client.protocol.max_body = auth.PREAUTH_MAX_BODY
        if scheme == "unix":
            connecting = loop.create_unix_connection(lambda: client.protocol, where)
        else:
            connecting = loop.create_connection(lambda: client.protocol, where, port)
        await asyncio.wait_for(connecting, timeout)
        if client._handshake is not None:
            try:
                client.peer = await asyncio.wait_for(client._handshake.done, timeout)
            except BaseException as exc:
                client.close()
                if isinstance(exc, asyncio.TimeoutError):
                    raise ServiceUnavailable(f"runner server {address} did not authenticate within {timeout:g} s") from None
                raise
            client._handshake = None
            client.protocol.max_body = sys.maxsize
        return client

    @property
    def inflight(self) -> int:
        return len(self._pending)

    def call(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], trace: dict[str, str] | None = None
    ) -> asyncio.Future[Any]:
        """Send one call (``trace``: the caller's span as W3C headers, with tracing on); the
        future resolves to its result or raises its error."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._send_open(CALL, method, (method, args, kwargs, trace), self._pending, lambda _msg_id: future)
        return future

    def stream(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], trace: dict[str, str] | None = None
    ) -> Receiver:
        """Open a stream: the worker calls the method and sends its items as they come."""
        return self._send_open(
            STREAM,
            method,
            (method, args, kwargs, WINDOW, trace),
            self._streams,
            lambda msg_id: Receiver(msg_id, self._send_credit, self._send_cancel, WINDOW),
        )

    def _send_open(
        self,
        kind: int,
        method: str,
        payload: tuple[Any, ...],
        table: dict[int, _T],
        make: Callable[[int], _T],
    ) -> _T:
        """Send a CALL or STREAM frame, registering what its replies go to in ``table`` first."""
        if self.closed:
            raise ServiceUnavailable("runner worker connection is closed")
        try:
            parts = codec.encode(payload)
        except Exception as exc:
            raise RunnerError(f"cannot send the arguments of {method}: {codec.short_message(exc)}") from exc
        msg_id = next(self._ids)
        entry = table[msg_id] = make(msg_id)
        try:
            self.protocol.send(msg_id, kind, parts)
        except ConnectionError:
            del table[msg_id]
            raise ServiceUnavailable("runner worker connection is closed") from None
        return entry

    @property
    def streams(self) -> int:
        """Streams open on this connection."""
        return len(self._streams)

    def _send_credit(self, msg_id: int, items: int) -> None:
        self.protocol.send(msg_id, CREDIT, [CREDIT_FORMAT.pack(items)])

    def _send_cancel(self, msg_id: int) -> None:
        if self._streams.pop(msg_id, None) is not None:
            self.protocol.send(msg_id, CANCEL, [b""])

    def _on_frame(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        if kind > ERROR:
            self._on_stream_frame(msg_id, kind, parts)
            return
        future = self._pending.pop(msg_id, None)
        if future is None or future.done():  # the caller gave up (cancelled) meanwhile
            return
        if kind == ERROR:
            future.set_exception(codec.decode_error(parts))
            return
        try:
            future.set_result(codec.decode(parts))
        except Exception as exc:
            future.set_exception(RunnerError(f"cannot decode a runner result: {codec.short_message(exc)}"))

    def _on_stream_frame(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        if kind >= HELLO:
            self._on_handshake_frame(kind, parts)
            return
        receiver = self._streams.get(msg_id)
        if receiver is None:  # the reader closed it meanwhile
            return
        if kind == ITEM:
            try:
                receiver.item(codec.decode(parts))
            except Exception as exc:
                self._send_cancel(msg_id)
                receiver.fail(RunnerError(f"cannot decode a stream item: {codec.short_message(exc)}"))
            return
        del self._streams[msg_id]
        if kind == END:
            receiver.end()
        elif kind == FAIL:
            receiver.fail(codec.decode_error(parts))

    def _on_handshake_frame(self, kind: int, parts: list[memoryview]) -> None:
        """``HELLO`` and ``WELCOME`` from a runner server; any such frame out of turn (or from a
        worker) is a protocol error that ends the connection."""
        handshake = self._handshake
        if handshake is None or handshake.done.done():
            self._refuse("unexpected handshake frame")
        elif kind == HELLO and not handshake.sent and len(parts) == 1 and len(parts[0]) == auth.NONCE_BYTES:
            handshake.sent = True
            proof = auth.proof(handshake.token, auth.CLIENT, parts[0])
            self.protocol.send(0, AUTH, [proof, handshake.nonce])
        elif kind == WELCOME and handshake.sent and len(parts) == 2:
            if not auth.verify(handshake.token, auth.SERVER, handshake.nonce, parts[0]):
                self._refuse("the runner server does not hold the runner token (wrong or missing token)")
                return
            try:
                handshake.done.set_result(auth.decode_info(parts[1]))
            except ValueError as exc:
                self._refuse(str(exc))
        else:
            self._refuse("malformed handshake")

    def _refuse(self, reason: str) -> None:
        if self._handshake is not None and not self._handshake.done.done():
            self._handshake.done.set_exception(ServiceUnavailable(f"runner server refused: {reason}"))
        transport = self.protocol.transport
        if transport is not None:
            transport.abort()

    def _on_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        if self._handshake is not None and not self._handshake.done.done():
            self._handshake.done.set_exception(
                ServiceUnavailable("runner server closed the connection during authentication (a wrong or missing token?)")
            )
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ServiceUnavailable("runner worker went away during the call"))
        streams, self._streams = self._streams, {}
        for receiver in streams.values():
            receiver.fail(ServiceUnavailable("runner worker went away during the stream"))
        if self.on_lost is not None:
            self.on_lost()

    def close(self) -> None:
        transport = self.protocol.transport
        if transport is not None:
            transport.close()
        else:
            self._on_lost(None)


class _Handshake:
    """A client's side of the token handshake while it runs."""

    def __init__(self, token: bytes, done: asyncio.Future[dict[str, Any]]) -> None:
        self.token = token
        self.nonce = auth.nonce()
        self.sent = False  # AUTH went out
        self.done = done  # the server's info, once it proved it holds the token


class StreamHandler(Protocol):
    """The worker's handler of the stream frames (``STREAM``, ``CREDIT``, ``CANCEL``)."""

    def on_frame(self, protocol: FrameProtocol, msg_id: int, kind: int, parts: list[memoryview]) -> None: ...

    def on_lost(self, protocol: FrameProtocol) -> None:
        """The connection is gone: its streams have no reader left."""


async def serve(
    address: str,
    handler: Callable[[FrameProtocol, int, list[memoryview]], None],
    streams: StreamHandler | None = None,
) -> tuple[asyncio.AbstractServer, str]:
    """Listen on ``address``; ``handler(protocol, msg_id, parts)`` gets every CALL frame and
    ``streams`` the stream frames (dropped without one).

    Returns the server and the address actually bound (the real port for ``tcp:...:0``).
    """
    loop = asyncio.get_running_loop()

    def factory() -> FrameProtocol:
        holder: list[FrameProtocol] = []

        def on_frame(msg_id: int, kind: int, parts: list[memoryview]) -> None:
            if kind == CALL:
                handler(holder[0], msg_id, parts)
            elif streams is not None:
                streams.on_frame(holder[0], msg_id, kind, parts)

        def on_lost(exc: Exception | None) -> None:
            if streams is not None:
                streams.on_lost(holder[0])

        protocol = FrameProtocol(on_frame, on_lost)
        holder.append(protocol)
        return protocol

    scheme, where, port = parse_address(address)
    if scheme == "unix":
        if os.path.exists(where):
            os.unlink(where)
        server = await loop.create_unix_server(factory, where)
        return server, address
    server = await loop.create_server(factory, where, port)
    bound: Any = server.sockets[0].getsockname()
    host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return server, f"tcp:{host}:{bound[1]}"
