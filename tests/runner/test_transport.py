"""Frames over real sockets, in one process: many calls in flight, large frames, bad peers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bentotui.exceptions import InvalidArgument, ServiceUnavailable
from bentotui.runner import codec
from bentotui.runner.transport import ERROR, RESULT, Client, parse_address, serve


def echo_handler(protocol, msg_id, parts):
    method, args, kwargs, _trace = codec.decode(parts)
    if method == "fail":
        protocol.send(msg_id, ERROR, codec.encode_error(ValueError("nope")))
    else:
        protocol.send(msg_id, RESULT, codec.encode((method, args, kwargs)))


@pytest.fixture(params=["unix", "tcp"])
async def client(request, tmp_path):
    address = f"unix:{tmp_path}/s.sock" if request.param == "unix" else "tcp:127.0.0.1:0"
    server, bound = await serve(address, echo_handler)
    client = await Client.connect(bound)
    yield client
    client.close()
    server.close()
    await server.wait_closed()


async def test_many_calls_in_flight_on_one_connection(client):
    futures = [client.call("m", (i,), {"k": i}) for i in range(500)]
    assert client.inflight == 500
    results = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert results == [("m", (i,), {"k": i}) for i in range(500)]
    assert client.inflight == 0


async def test_large_arrays_arrive_whole_and_writable(client):
    big = np.random.default_rng(0).random((300_000, 4))  # ~9.6 MB, read in place
    _, (back, head), _ = await asyncio.wait_for(client.call("m", (big, big[:3]), {}), 10)
    np.testing.assert_array_equal(head, big[:3])
    np.testing.assert_array_equal(back, big)
    back[0, 0] = 1.0


async def test_errors_come_back_as_exceptions(client):
    with pytest.raises(Exception, match="ValueError: nope"):
        await asyncio.wait_for(client.call("fail", (), {}), 5)


async def test_a_dropped_connection_fails_calls_in_flight_at_once(tmp_path):
    server, bound = await serve(
        f"unix:{tmp_path}/s.sock", lambda protocol, msg_id, parts: protocol.transport.close()
    )
    client = await Client.connect(bound)
    lost = []
    client.on_lost = lambda: lost.append(True)
    with pytest.raises(ServiceUnavailable, match="went away"):
        await asyncio.wait_for(client.call("m", (), {}), 5)
    assert client.closed and lost == [True]
    with pytest.raises(ServiceUnavailable, match="closed"):
        client.call("m", (), {})
    server.close()


async def test_a_peer_sending_garbage_is_cut_off(tmp_path):
    got = []
    server, bound = await serve(f"unix:{tmp_path}/s.sock", lambda *a: got.append(a))
    reader, writer = await asyncio.open_unix_connection(bound[len("unix:") :])
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the worker hangs up
    assert got == []
    server.close()


def test_addresses():
    assert parse_address("unix:/tmp/x.sock") == ("unix", "/tmp/x.sock", 0)
    assert parse_address("tcp:127.0.0.1:9000") == ("tcp", "127.0.0.1", 9000)
    assert parse_address("tcp:[::1]:0") == ("tcp", "::1", 0)
    for bad in ("http://x", "tcp:nohost", "unix:"):
        with pytest.raises(InvalidArgument, match="bad runner address"):
            parse_address(bad)
