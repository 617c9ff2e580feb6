"""A runner server: one runner's workers, served to API servers on other hosts over TCP.

``bentotui start-runner-server TARGET --runner-name NAME --bind tcp://HOST:PORT`` starts the
runner's local worker processes with the same :class:`~bentotui.runner.pool.RunnerPool` that
``serve`` uses (restart with backoff included), then listens.  API servers started with
``--remote-runner NAME=tcp://HOST:PORT`` connect, pass the token handshake
(:mod:`~bentotui.runner.auth`), and send the frames they would send a local worker: adaptive
batching stays in the API server, so a batch crosses the network once.

The runner server never decodes a call: each ``CALL`` or ``STREAM`` frame is relayed as received
(its parts by reference) to the local worker with the fewest calls in flight, under a fresh id,
and the worker's replies go back the same way under the caller's id; ``CREDIT`` and ``CANCEL``
follow their stream.  So the hop costs a copy of each frame through the kernel, not a pickle.
An API server opens one connection per worker (the ``WELCOME`` info says how many), which keeps
every worker busy with the dispatcher's usual rule; several API servers may share one runner server.

Hostile peers: before authenticating, a connection may send one small frame within 5 s (see
:mod:`~bentotui.runner.auth`), and at most :data:`MAX_UNAUTHENTICATED` may wait at once.

Failures: a call relayed to a worker that dies fails upstream with ``ServiceUnavailable`` (it may
have run), a call that finds no live worker is refused the same way at once; an API server that
goes away has its open streams cancelled on the workers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, cast

from bentotui.exceptions import InvalidArgument, ServiceUnavailable
from bentotui.runner import auth, codec
from bentotui.runner.dispatcher import WorkerLike, live_clients
from bentotui.runner.pool import RunnerPool
from bentotui.runner.runner import Runner
from bentotui.runner.transport import (
    AUTH,
    CALL,
    CANCEL,
    CREDIT,
    END,
    ERROR,
    FAIL,
    HELLO,
    RESULT,
    STREAM,
    WELCOME,
    Client,
    FrameProtocol,
    parse_address,
)

log = logging.getLogger("bentotui.runner")

#: reply kinds that end what they answer
_FINAL = frozenset((RESULT, ERROR, END, FAIL))
#: connections waiting to authenticate at once; more are closed at once (each holds a 256 KiB
#: buffer for AUTH_TIMEOUT_S, so this bounds what a flood of idle peers costs to 16 MiB)
MAX_UNAUTHENTICATED = 64
# how a relayed frame picks its worker: streams by open streams, calls by calls in flight
_BY_STREAMS, _BY_INFLIGHT = attrgetter("streams"), attrgetter("inflight")


class RelayClient(Client):
    """A runner server's connection to one of its workers: besides its own calls (none today), it
    carries frames relayed for API servers and sends their replies back unparsed."""

    def __init__(self) -> None:
        super().__init__()
        #: local id -> (API server connection, its id, whether a stream)
        self.relayed: dict[int, tuple[Upstream, int, bool]] = {}
        self._relayed_streams = 0

    @property
    def inflight(self) -> int:
        return len(self.relayed) - self._relayed_streams + super().inflight

    @property
    def streams(self) -> int:
        return self._relayed_streams + super().streams

    def relay(self, upstream: Upstream, up_id: int, kind: int, parts: list[memoryview]) -> int:
        """Send a ``CALL`` or ``STREAM`` frame from ``upstream``; returns its id on this connection."""
        msg_id = next(self._ids)
        stream = kind == STREAM
        self.relayed[msg_id] = (upstream, up_id, stream)
        self._relayed_streams += stream
        try:
            self.protocol.send(msg_id, kind, parts)
        except ConnectionError:
            self._forget(msg_id)
            raise
        return msg_id

    def forward(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        """A ``CREDIT`` or ``CANCEL`` for a relayed stream (credit only while it is open)."""
        if kind == CANCEL:
            self._forget(msg_id)
        elif msg_id not in self.relayed:
            return
        try:
            self.protocol.send(msg_id, kind, parts)
        except ConnectionError:
            pass  # the worker is gone: _on_lost answers for the stream

    def _forget(self, msg_id: int) -> tuple[Upstream, int, bool] | None:
        route = self.relayed.pop(msg_id, None)
        if route is not None:
            self._relayed_streams -= route[2]
        return route

    def _on_frame(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        route = self.relayed.get(msg_id)
        if route is None:
            super()._on_frame(msg_id, kind, parts)
            return
        upstream, up_id, _ = route
        if kind in _FINAL:
            self._forget(msg_id)
            upstream.finished(up_id, route[2])
        upstream.reply(up_id, kind, parts)

    def _on_lost(self, exc: Exception | None) -> None:
        routes = list(self.relayed.values())
        self.relayed.clear()
        self._relayed_streams = 0
        for upstream, up_id, stream in routes:
            upstream.finished(up_id, stream)
            error = ServiceUnavailable("runner worker went away during the call")
            upstream.reply(up_id, FAIL if stream else ERROR, codec.encode_error(error))
        super()._on_lost(exc)


class Upstream(FrameProtocol):
    """One API server's connection: the handshake first, then its frames relayed to workers."""

    def __init__(self, server: RunnerServer) -> None:
        super().__init__(self._frame, self._lost)
        self.server = server
        self.max_body = auth.PREAUTH_MAX_BODY
        self.nonce = auth.nonce()
        self.authenticated = False
        self.peer = "?"
        #: this connection's open streams: its id -> (worker connection, the id there)
        self.streams: dict[int, tuple[RelayClient, int]] = {}
        self._deadline: asyncio.TimerHandle | None = None
        self._pending = False  # counted in the server's connections waiting to authenticate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        server = self.server
        if server.unauthenticated >= MAX_UNAUTHENTICATED:  # a flood of idle connections: each costs a buffer
            self._refuse(f"{MAX_UNAUTHENTICATED} connections already waiting to authenticate")
            return
        server.unauthenticated += 1
        self._pending = True
        self._deadline = asyncio.get_running_loop().call_later(auth.AUTH_TIMEOUT_S, self._refuse, "no handshake in time")
        self.send(0, HELLO, [self.nonce])

    def _settle(self) -> None:
        """No longer waiting to authenticate (in, refused or gone)."""
        if self._pending:
            self._pending = False
            self.server.unauthenticated -= 1
        if self._deadline is not None:
            self._deadline.cancel()

    def _refuse(self, reason: str) -> None:
        log.warning("runner server: refused %s: %s", self.peer, reason)
        self._settle()
        if self.transport is not None:
            self.transport.abort()

    def _frame(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        if not self.authenticated:
            self._authenticate(kind, parts)
        elif kind == CALL or kind == STREAM:
            self._open(msg_id, kind, parts)
        elif kind == CREDIT or kind == CANCEL:
            route = self.streams.pop(msg_id, None) if kind == CANCEL else self.streams.get(msg_id)
            if route is not None:
                route[0].forward(route[1], kind, parts)
        else:
            self._refuse(f"unexpected frame kind {kind}")

    def _authenticate(self, kind: int, parts: list[memoryview]) -> None:
        server = self.server
        if kind != AUTH or len(parts) != 2 or len(parts[1]) != auth.NONCE_BYTES:
            self._refuse("it did not authenticate first")
            return
        if not auth.verify(server.token, auth.CLIENT, self.nonce, parts[0]):
            self._refuse("wrong runner token")
            return
        self.authenticated = True
        self.max_body = sys.maxsize  # an authenticated peer may send calls, so bounding it buys nothing
        self._settle()
        info = {"runner": server.runner.name, "workers": server.worker_slots}
        self.send(0, WELCOME, [auth.proof(server.token, auth.SERVER, parts[1]), auth.encode_info(info)])
        log.info("runner server: API server %s connected", self.peer)

    def _open(self, msg_id: int, kind: int, parts: list[memoryview]) -> None:
        clients = cast("list[RelayClient]", live_clients(self.server.workers))  # the pool made them so
        if not clients:
            error = ServiceUnavailable(f"runner {self.server.runner.name!r} has no live worker (restarting)")
            self.reply(msg_id, FAIL if kind == STREAM else ERROR, codec.encode_error(error))
            return
        client = min(clients, key=_BY_STREAMS if kind == STREAM else _BY_INFLIGHT)
        try:
            local_id = client.relay(self, msg_id, kind, parts)
        except ConnectionError:
            error = ServiceUnavailable("runner worker went away")
            self.reply(msg_id, FAIL if kind == STREAM else ERROR, codec.encode_error(error))
            return
        if kind == STREAM:
            self.streams[msg_id] = (client, local_id)

    def reply(self, msg_id: int, kind: int, parts: codec.Parts) -> None:
        try:
            self.send(msg_id, kind, parts)
        except ConnectionError:
            pass  # the API server went away: its calls' results have no one to go to

    def finished(self, msg_id: int, stream: bool) -> None:
        if stream:
            self.streams.pop(msg_id, None)

    def _lost(self, exc: Exception | None) -> None:
        self._settle()
        streams, self.streams = self.streams, {}
        for client, local_id in streams.values():
            client.forward(local_id, CANCEL, [memoryview(b"")])
        if self.authenticated:
            log.info("runner server: API server %s disconnected", self.peer)


class RunnerServer:
    """The runner's local workers plus the TCP listener API servers connect to."""

    def __init__(self, runner: Runner, *, bind: str, token: bytes, pool_options: dict[str, Any]) -> None:
        scheme, self.host, self.port = parse_address(bind)
        if scheme != "tcp":
            raise InvalidArgument(f"--bind: a runner server listens on tcp://HOST:PORT, not {bind!r}")
        auth.require_token(self.host, token, "--bind")
        self.runner = runner
        self.token = token
        self.pool = RunnerPool([runner], client_class=RelayClient, **pool_options)
        self.address = ""
        self._server: asyncio.AbstractServer | None = None
        #: connections that have not authenticated yet (bounded: see MAX_UNAUTHENTICATED)
        self.unauthenticated = 0

    @property
    def workers(self) -> Sequence[WorkerLike]:
        return self.pool.workers_of(self.runner.name)

    @property
    def worker_slots(self) -> int:
        return len(self.workers)

    async def start(self) -> str:
        """Start the workers, then listen (so a TCP readiness probe passes once calls can run)."""
        await self.pool.start()
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: Upstream(self), self.host, self.port)
        except OSError as exc:
            await self.pool.stop()
            raise OSError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        bound = self._server.sockets[0].getsockname()
        host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        self.address = f"tcp://{host}:{bound[1]}"
        return self.address

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.pool.stop()
