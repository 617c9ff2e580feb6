"""Stream frames over a real socket, in one process: the worker's executor on one end, a Client on
the other.  Credit bounds what the worker produces ahead of its reader; closing the reader, or
losing the connection, closes the generator in the worker."""

from __future__ import annotations

import asyncio

import pytest

from bentotui.exceptions import BadInput, ServiceUnavailable
from bentotui.runner import Runnable, Runner
from bentotui.runner.stream import WINDOW
from bentotui.runner.transport import Client, serve
from bentotui.runner.worker import _Executor, _Streams


class Counting(Runnable):
    """Generators that record how far they got and whether their ``finally:`` ran."""

    def __init__(self) -> None:
        self.produced = 0
        self.closed: list[str] = []

    @Runnable.method
    async def forever(self, prefix: str):
        try:
            while True:
                self.produced += 1
                yield f"{prefix}{self.produced}"
                await asyncio.sleep(0)  # lets the loop run: only the credit can hold it back
        finally:
            self.closed.append("forever")

    @Runnable.method
    def count(self, n: int):
        try:
            yield from range(n)
        finally:
            self.closed.append("count")

    @Runnable.method
    async def fails_after(self, n: int):
        for i in range(n):
            yield i
        raise BadInput(f"stopped after {n}")

    @Runnable.method
    def not_a_generator(self) -> int:
        return 3


@pytest.fixture
async def pair(tmp_path):
    runnable = Counting()
    executor = _Executor(runnable)
    server, bound = await serve(f"unix:{tmp_path}/s.sock", executor, _Streams(executor))
    client = await Client.connect(bound)
    yield runnable, client
    client.close()
    server.close()
    await server.wait_closed()


async def _until(predicate, timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds, polling (a bound, not a duration the test relies on)."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_items_arrive_in_order_then_the_end(pair):
    runnable, client = pair
    stream = client.stream("count", (5,), {})
    assert [item async for item in stream] == [0, 1, 2, 3, 4]
    await _until(lambda: runnable.closed == ["count"])
    assert client.streams == 0


async def test_the_worker_stays_within_the_credit_of_a_reader_that_does_not_read(pair):
    runnable, client = pair
    stream = client.stream("forever", ("x",), {})
    assert await stream.__anext__() == "x1"
    await _until(lambda: runnable.produced >= WINDOW)
    for _ in range(20):  # give it every chance to run ahead
        await asyncio.sleep(0.005)
    assert runnable.produced == WINDOW  # one window of items, however long the reader waits
    for expected in range(2, WINDOW // 2 + 2):  # reading half a window grants that much again
        assert await stream.__anext__() == f"x{expected}"
    await _until(lambda: runnable.produced > WINDOW)
    assert runnable.produced <= WINDOW + WINDOW // 2 + 1
    await stream.aclose()
    await _until(lambda: runnable.closed == ["forever"])  # CANCEL closed the generator


async def test_a_lost_connection_closes_the_generators(pair):
    runnable, client = pair
    stream = client.stream("forever", ("y",), {})
    assert await stream.__anext__() == "y1"
    client.close()
    await _until(lambda: runnable.closed == ["forever"])
    with pytest.raises(ServiceUnavailable, match="went away during the stream"):
        async for _ in stream:
            pass


async def test_an_error_mid_stream_follows_the_items(pair):
    _, client = pair
    stream = client.stream("fails_after", (2,), {})
    assert await stream.__anext__() == 0
    assert await stream.__anext__() == 1
    with pytest.raises(BadInput, match="stopped after 2"):
        await stream.__anext__()


async def test_a_method_that_returns_no_generator_fails_the_stream(pair):
    _, client = pair
    with pytest.raises(Exception, match="generator or an iterable"):
        async for _ in client.stream("not_a_generator", (), {}):
            pass


async def test_calls_still_work_beside_streams(pair):
    _, client = pair
    stream = client.stream("forever", ("z",), {})
    assert await stream.__anext__() == "z1"
    assert await asyncio.wait_for(client.call("not_a_generator", (), {}), 5) == 3
    await stream.aclose()


async def test_a_runner_outside_a_server_streams_in_process():
    runner = Runner(Counting, name="counting")
    assert [item async for item in runner.count.async_stream(3)] == [0, 1, 2]
    stream = runner.forever.async_stream("p")
    assert await stream.__anext__() == "p1"
    await stream.aclose()  # closes the generator in this process
    assert runner.backend.runnable.closed == ["count", "forever"]
