"""Runner servers in one process: a ``RunnerServer`` (real worker processes) on a loopback port
and an API-side ``RunnerPool`` whose runner is remote, plus raw peers that do not hold the token.
The separate-process deployment (CLI commands, SIGKILL, two runner servers) is in
``tests/e2e/test_runner_servers.py``."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from bentotui.exceptions import BadInput, InvalidArgument, ServiceUnavailable
from bentotui.runner import Runner, auth
from bentotui.runner.pool import RunnerPool
from bentotui.runner.relay import RunnerServer
from bentotui.runner.transport import AUTH, CALL, HELLO, WELCOME, Client
from tests.runner.pools import ROOT
from tests.runner.runnables import Doubler

TOKEN = b"a-runner-token-for-tests-only"


def doubler() -> Runner:
    return Runner(Doubler, name="doubler", runnable_init_params={"delay_s": 0.002}, max_batch_size=8)


@pytest.fixture
async def runner_server():
    """``await runner_server(token=..., workers=...)`` -> a started RunnerServer, stopped afterwards."""
    servers: list[RunnerServer] = []

    async def start(token: bytes = TOKEN, workers: int = 1, port: int = 0) -> RunnerServer:
        server = RunnerServer(
            doubler(), bind=f"tcp://127.0.0.1:{port}", token=token,
            pool_options={"workers": workers, "working_dir": str(ROOT), "sys_path": [str(ROOT)]},
        )
        servers.append(server)
        await asyncio.wait_for(server.start(), 60)
        return server

    yield start
    for server in servers:
        await asyncio.wait_for(server.stop(), 30)


@pytest.fixture
async def api_pool():
    """``await api_pool(addresses, token=...)`` -> (runner, started pool) calling runner servers."""
    pools: list[RunnerPool] = []

    async def start(addresses: list[str], token: bytes = TOKEN) -> tuple[Runner, RunnerPool]:
        runner = doubler()
        pool = RunnerPool([runner], remote={"doubler": addresses}, token=token)
        pools.append(pool)
        await asyncio.wait_for(pool.start(), 30)
        return runner, pool

    yield start
    for pool in pools:
        await asyncio.wait_for(pool.stop(), 30)


async def until(condition, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_calls_batches_errors_and_streams_cross_the_link(runner_server, api_pool):
    server = await runner_server(workers=2)
    runner, pool = await api_pool([server.address])
    await until(lambda: len(pool.stats()["doubler"]["workers"]) == 2)  # one connection per remote worker
    inputs = [np.full((i % 3 + 1, 2), float(i)) for i in range(200)]
    results = await asyncio.wait_for(asyncio.gather(*(runner.async_run(x) for x in inputs)), 30)
    for i, (x, result) in enumerate(zip(inputs, results, strict=True)):
        assert result.shape == x.shape and (result == 2.0 * i).all(), i
    pids = set(await asyncio.gather(*(runner.pid.async_run() for _ in range(40))))
    assert len(pids) == 2  # non-batchable calls too, spread over the runner server's two workers
    with pytest.raises(BadInput, match="expected 4 features, got 2"):
        await runner.fail.async_run("bad")
    items = [item async for item in runner.count.async_stream(5)]
    assert items == [0, 1, 2, 3, 4]
    assert pool.ready


async def test_a_client_with_the_wrong_token_is_refused(runner_server, api_pool):
    server = await runner_server()
    with pytest.raises(ServiceUnavailable, match="during authentication"):
        await Client.connect(server.address, token=b"not-the-token-but-long-enough")
    runner, pool = await api_pool([server.address], token=b"not-the-token-but-long-enough")
    assert not pool.ready  # the API serves, /readyz fails, calls are refused at once
    with pytest.raises(ServiceUnavailable, match="no live worker"):
        await asyncio.wait_for(runner.async_run(np.ones((1, 2))), 5)


async def test_a_server_that_cannot_prove_the_token_is_refused_by_the_client():
    """An impostor that skips the proof (it cannot make one) gets no call, and its info no trust."""
    received: list[bytes] = []

    async def impostor(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_frame(0, HELLO, [os.urandom(32)]))
        received.append(await reader.read(4096))  # the client's AUTH
        writer.write(_frame(0, WELCOME, [os.urandom(32), b'{"runner": "doubler", "workers": 1}']))
        received.append(await reader.read(4096))  # b"": the client hung up
        writer.close()

    fake = await asyncio.start_server(impostor, "127.0.0.1", 0)
    port = fake.sockets[0].getsockname()[1]
    async with fake:
        with pytest.raises(ServiceUnavailable, match="does not hold the runner token"):
            await Client.connect(f"tcp://127.0.0.1:{port}", token=TOKEN)
        await until(lambda: len(received) == 2)
    assert received[0][8] == AUTH and received[1] == b""


class _Marker:
    """Unpickling it creates a file: proof that a pickle was decoded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path(self.path).touch, ())


def _frame(msg_id: int, kind: int, parts: list[bytes]) -> bytes:
    lengths = [len(part) for part in parts]
    return struct.pack(f"<QBI{len(parts)}Q", msg_id, kind, len(parts), *lengths) + b"".join(parts)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("attack", ["call before auth", "oversized before auth", "wrong proof"])
async def test_unauthenticated_peers_are_cut_off_before_anything_is_decoded(runner_server, tmp_path, attack):
    server = await runner_server()
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(("predict", (_Marker(str(marker)),), {}, None), protocol=5)
    host, port = server.host, int(server.address.rpartition(":")[2])

    def talk() -> bytes:
        with socket.create_connection((host, port), timeout=10) as sock:
            if attack == "call before auth":
                sock.sendall(_frame(1, CALL, [payload]))
            elif attack == "oversized before auth":
                sock.sendall(_frame(0, AUTH, [b"x" * (auth.PREAUTH_MAX_BODY + 1), b"y" * 32]))
            else:
                sock.sendall(_frame(0, AUTH, [b"\0" * 32, b"n" * 32]) + _frame(1, CALL, [payload]))
            return _read_all(sock)

    received = await asyncio.to_thread(talk)
    assert received[8] == HELLO  # the server's nonce, then the connection closed: no WELCOME
    assert WELCOME not in received[9:10] and len(received) < 100
    assert not marker.exists()


async def test_a_silent_peer_is_dropped_after_the_auth_deadline(runner_server, monkeypatch):
    monkeypatch.setattr(auth, "AUTH_TIMEOUT_S", 0.2)
    server = await runner_server()
    host, port = server.host, int(server.address.rpartition(":")[2])

    def idle() -> bytes:
        with socket.create_connection((host, port), timeout=10) as sock:
            return _read_all(sock)  # returns once the server closes

    assert len(await asyncio.wait_for(asyncio.to_thread(idle), 10)) > 0


async def test_a_runner_server_of_another_runner_is_not_used(runner_server):
    server = await runner_server()
    runner = Runner(Doubler, name="other")
    pool = RunnerPool([runner], remote={"other": [server.address]}, token=TOKEN)
    await pool.start()
    try:
        assert not pool.ready
    finally:
        await pool.stop()


def test_no_token_is_refused_off_loopback():
    with pytest.raises(InvalidArgument, match="not a loopback address"):
        RunnerServer(doubler(), bind="tcp://0.0.0.0:0", token=b"", pool_options={})
    with pytest.raises(InvalidArgument, match="not a loopback address"):
        RunnerPool([doubler()], remote={"doubler": ["tcp://10.1.2.3:7000"]}, token=b"")
    with pytest.raises(InvalidArgument, match="names no runner"):
        RunnerPool([doubler()], remote={"nope": ["tcp://127.0.0.1:7000"]})
    RunnerPool([doubler()], remote={"doubler": ["tcp://10.1.2.3:7000"]}, token=TOKEN)  # with one: fine


def test_tokens_come_from_the_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    assert auth.load_token() == b""
    monkeypatch.setenv(auth.TOKEN_ENV, "  from-the-environment-1234 \n")
    assert auth.load_token() == b"from-the-environment-1234"
    path = tmp_path / "token"
    path.write_text("from-the-file-0123456789\n")
    assert auth.load_token(path) == b"from-the-file-0123456789"
    path.write_text("short")
    with pytest.raises(InvalidArgument, match="at least 16 characters"):
        auth.load_token(path)
    path.write_text("\n")
    with pytest.raises(InvalidArgument, match="is empty"):
        auth.load_token(path)
    with pytest.raises(InvalidArgument, match="cannot read it"):
        auth.load_token(tmp_path / "missing")


async def test_a_worker_killed_in_the_runner_server_fails_its_calls_then_comes_back(runner_server, api_pool):
    server = await runner_server()
    runner, pool = await api_pool([server.address])
    pid = await runner.pid.async_run()
    slow = asyncio.ensure_future(runner.async_run(np.ones((1, 2))))
    os.kill(pid, signal.SIGKILL)
    try:
        await asyncio.wait_for(slow, 10)
    except ServiceUnavailable:
        pass  # in flight when the worker died: refused, never retried
    await until(lambda: pool.ready and server.pool.ready)
    async def answered() -> bool:
        try:
            return await runner.pid.async_run() != pid
        except ServiceUnavailable:
            return False
    for _ in range(200):
        if await answered():
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the runner server's worker did not come back")


async def test_the_api_side_reconnects_when_the_runner_server_returns(runner_server, api_pool):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    runner, pool = await api_pool([f"tcp://127.0.0.1:{port}"])  # nothing listens there yet
    assert not pool.ready
    began = asyncio.get_running_loop().time()
    with pytest.raises(ServiceUnavailable):
        await runner.async_run(np.ones((1, 2)))
    assert asyncio.get_running_loop().time() - began < 1.0  # refused, not held for max_latency_ms
    await runner_server(port=port)
    await until(lambda: pool.ready, within=30)
    assert (await runner.async_run(np.ones((1, 2))) == 2).all()


async def test_a_host_name_gets_a_slot_per_address_it_resolves_to(runner_server, monkeypatch):
    """A headless Service's name resolves to every ready pod: calls spread over all of them, and
    a pod that leaves the answer is dropped (DNS itself stands in: lookups are served from a dict)."""
    from bentotui.runner import remote

    first, second = await runner_server(), await runner_server()
    answers = {"runners.example.internal": {first.address}}

    async def resolve(address: str) -> set[str]:
        return set(answers[remote.parse_address(address)[1]])

    monkeypatch.setattr(remote, "resolve", resolve)
    runner = doubler()
    pool = RunnerPool([runner], remote={"doubler": ["tcp://runners.example.internal:7000"]}, token=TOKEN)
    await pool.start()
    try:
        await until(lambda: pool.ready)
        answers["runners.example.internal"] = {first.address, second.address}
        await pool._groups[0].names.refresh()
        await until(lambda: sum(w["alive"] for w in pool.stats()["doubler"]["workers"]) == 2)
        parents = set(await asyncio.gather(*(runner.pid.async_run() for _ in range(40))))
        assert len(parents) == 2  # each runner server's worker answered
        answers["runners.example.internal"] = {second.address}
        await pool._groups[0].names.refresh()
        assert [w["address"] for w in pool.stats()["doubler"]["workers"]] == [second.address]
        assert (await runner.async_run(np.ones((1, 2))) == 2).all()
    finally:
        await pool.stop()


async def test_names_resolve_through_the_system_resolver():
    from bentotui.runner import remote

    assert "tcp://127.0.0.1:7000" in await remote.resolve("tcp://localhost:7000")
    assert not remote.is_name("tcp://localhost:1") and not remote.is_name("tcp://[::1]:1")
    assert remote.is_name("tcp://where-runner.default.svc.cluster.local:7000")


async def test_a_flood_of_idle_connections_is_bounded_and_leaves_room_for_api_servers(runner_server, monkeypatch):
    from bentotui.runner import relay

    monkeypatch.setattr(relay, "MAX_UNAUTHENTICATED", 4)
    server = await runner_server()
    host, port = server.host, int(server.address.rpartition(":")[2])
    idle = [await asyncio.open_connection(host, port) for _ in range(6)]
    try:
        await until(lambda: server.unauthenticated == 4)
        closed = 0
        for reader, _ in idle:
            try:
                data = await asyncio.wait_for(reader.read(4096), 5)
            except ConnectionResetError:
                data = b""
            closed += not data
        assert closed == 2  # the ones over the bound got nothing but a close; the others a HELLO
    finally:
        for _, writer in idle:
            writer.close()
    await until(lambda: server.unauthenticated == 0)  # their slots are free again
    client = await Client.connect(server.address, token=TOKEN)
    assert client.peer == {"runner": "doubler", "workers": 1}
    client.close()


async def test_two_api_servers_share_one_runner_server(runner_server, api_pool):
    server = await runner_server(workers=2)
    (first, first_pool), (second, _) = await api_pool([server.address]), await api_pool([server.address])
    inputs = [np.full((1, 2), float(i)) for i in range(60)]
    results = await asyncio.wait_for(
        asyncio.gather(*(runner.async_run(x) for runner in (first, second) for x in inputs)), 30
    )
    assert all((result == 2 * x).all() for result, x in zip(results, inputs * 2, strict=True))
    await first_pool.stop()  # one API server leaving does not disturb the other
    assert (await second.async_run(np.ones((1, 2))) == 2).all()
