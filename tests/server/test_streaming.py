"""Streaming APIs over real HTTP against real ``bentotui serve`` processes.

Every "it streams" assertion goes by arrival order against a gate the test holds: the generator
yields its first item, then waits for a gate file that the test creates only after it has read
that item, so the item cannot have come from a buffered, finished body.  "It stopped" goes by a
marker file that the generator's ``finally:`` writes: it must appear after the client went away,
without the gate ever being opened.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from bentotui.client import AsyncHTTPClient, SyncHTTPClient
from tests.helpers.server import serve

GATED = """
    try:
        produced = 1
        yield "first\\n"
        while not os.path.exists(gate):
            {wait}
        for i in range(n):
            produced += 1
            yield f"item{{i}}\\n"
    finally:
        Path(marker).write_text(str(produced))
"""

CLASS_SERVICE = textwrap.dedent(
    """
    import asyncio
    import os
    import time
    from collections.abc import AsyncGenerator, Generator
    from pathlib import Path
    from typing import Annotated

    import bentotui as bentoml
    from bentotui.validators import ContentType


    @bentoml.service(name="streams", workers=1)
    class Streams:
        @bentoml.api
        async def tokens(self, gate: str, marker: str, n: int = 3) -> AsyncGenerator[str, None]:
    {async_body}

        @bentoml.api
        def sync_tokens(self, gate: str, marker: str, n: int = 3) -> Generator[str, None, None]:
    {sync_body}

        @bentoml.api
        async def sse(self, n: int = 3) -> AsyncGenerator[str, None]:
            for i in range(n):
                yield f"data: {{i}}\\n\\n"

        @bentoml.api
        def plain(self, n: int = 2) -> Annotated[Generator[str, None, None], ContentType("text/plain")]:
            for i in range(n):
                yield f"line {{i}}\\n"

        @bentoml.api
        def raw(self) -> Generator[bytes, None, None]:
            yield b"\\x00\\x01"
            yield b"\\xff"

        @bentoml.api
        async def flood(self, counter: str) -> AsyncGenerator[bytes, None]:
            produced = 0
            while True:
                produced += 1
                Path(counter).write_text(str(produced))
                yield b"x" * 65536
                await asyncio.sleep(0)

        @bentoml.api
        def dicts(self) -> Generator[dict, None, None]:
            yield {{"i": 0}}
            yield {{"i": 1}}

        @bentoml.api
        async def breaks(self) -> AsyncGenerator[str, None]:
            yield "a"
            yield "b"
            raise RuntimeError("secret detail of the model")

        @bentoml.api
        async def breaks_first(self) -> AsyncGenerator[str, None]:
            raise RuntimeError("secret detail before the first item")
            yield "never"

        @bentoml.api
        def greet(self, name: str) -> str:
            return f"hello {{name}}"
    """
).format(
    async_body=textwrap.indent(GATED.format(wait="await asyncio.sleep(0.01)"), " " * 4),
    sync_body=textwrap.indent(GATED.format(wait="time.sleep(0.01)"), " " * 4),
)

V1_SERVICE = textwrap.dedent(
    """
    import asyncio
    import os
    import time
    from pathlib import Path

    from collections.abc import AsyncGenerator

    import bentotui as bentoml


    class Speller(bentoml.Runnable):
        SUPPORTS_CPU_MULTI_THREADING = True

        @bentoml.Runnable.method
        def spell(self, text):
            yield from text


    runner = bentoml.Runner(Speller, name="speller")
    svc = bentoml.Service(name="v1streams", runners=[runner])


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    async def relay(text) -> AsyncGenerator[str, None]:
        return runner.spell.async_stream(text)  # a runner's stream, passed on as it comes


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.Text())
    async def words(body):
        gate, marker, n = body["gate"], body["marker"], body.get("n", 3)
    {async_body}

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.Text())
    def sync_words(body):
        gate, marker, n = body["gate"], body["marker"], body.get("n", 3)
    {sync_body}

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    def plain(text):
        return {{"length": len(text)}}
    """
).format(
    async_body=GATED.format(wait="await asyncio.sleep(0.01)"),
    sync_body=GATED.format(wait="time.sleep(0.01)"),
)


def _server(tmp_path_factory: pytest.TempPathFactory, source: str, target: str):
    root = tmp_path_factory.mktemp("streams")
    (root / "home").mkdir()
    (root / "svc").mkdir()
    (root / "svc" / "service.py").write_text(source)
    return serve(
        target, cwd=root / "svc", env={"BENTOTUI_HOME": str(root / "home")}, args=("--timeout", "20")
    )


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    with _server(tmp_path_factory, CLASS_SERVICE, "service:Streams") as srv:
        yield srv


@pytest.fixture(scope="module")
def v1_server(tmp_path_factory):
    with _server(tmp_path_factory, V1_SERVICE, "service:svc") as srv:
        yield srv


def _wait_for(path: Path, timeout: float = 15.0) -> str:
    """The marker's text once it exists; fails after ``timeout`` (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared: the generator was not closed"
        time.sleep(0.02)
    time.sleep(0.05)  # the write that created it may still be finishing
    return path.read_text()


def _gated(tmp_path: Path, n: int = 3) -> tuple[dict[str, object], Path, Path]:
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    return {"gate": str(gate), "marker": str(marker), "n": n}, gate, marker


def _streams_before_the_end(url: str, tmp_path: Path) -> httpx.Headers:
    body, gate, marker = _gated(tmp_path)
    with httpx.stream("POST", url, json=body, timeout=30) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        assert next(chunks) == b"first\n"
        # the generator is parked on the gate, so that chunk came while it was still running
        assert not marker.exists()
        gate.touch()
        rest = b"".join(chunks)
    assert rest == b"item0\nitem1\nitem2\n"
    assert _wait_for(marker) == "4"
    return response.headers


@pytest.mark.parametrize("api", ["tokens", "sync_tokens"])
def test_a_class_generator_streams_from_its_worker(class_server, tmp_path, api):
    headers = _streams_before_the_end(f"{class_server.url}/{api}", tmp_path)
    assert headers["content-type"] == "text/event-stream; charset=utf-8"  # BentoML 1.2's default
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert headers["x-request-id"]


@pytest.mark.parametrize("api", ["words", "sync_words"])
def test_a_v1_generator_streams_from_the_api_process(v1_server, tmp_path, api):
    headers = _streams_before_the_end(f"{v1_server.url}/{api}", tmp_path)
    assert headers["content-type"] == "text/plain; charset=utf-8"  # the Text() output's type


@pytest.mark.parametrize("server, api", [("class_server", "tokens"), ("v1_server", "words")])
def test_a_client_that_leaves_stops_an_async_generator(request, tmp_path, server, api):
    url = request.getfixturevalue(server).url
    body, gate, marker = _gated(tmp_path)
    with httpx.stream("POST", f"{url}/{api}", json=body, timeout=30) as response:
        chunks = response.iter_raw()  # held: a dropped iterator would close the connection already
        assert next(chunks) == b"first\n"
        assert not marker.exists()
    # the client closed the connection; the gate stays shut, so only a close reaches the finally:
    assert _wait_for(marker) == "1"
    assert not gate.exists()


@pytest.mark.parametrize("server, api", [("class_server", "sync_tokens"), ("v1_server", "sync_words")])
def test_a_client_that_leaves_stops_a_sync_generator(request, tmp_path, server, api):
    url = request.getfixturevalue(server).url
    body, gate, marker = _gated(tmp_path, n=1000)
    with httpx.stream("POST", f"{url}/{api}", json=body, timeout=30) as response:
        chunks = response.iter_raw()
        assert next(chunks) == b"first\n"
    # a sync step cannot be interrupted: open the gate so the step in progress returns, after
    # which the generator must be closed rather than run on through its 1000 items
    gate.touch()
    produced = int(_wait_for(marker))
    assert produced < 100


def test_a_v1_api_passes_on_a_runner_stream(v1_server):
    with httpx.stream("POST", f"{v1_server.url}/relay", content=b"abc", timeout=30) as response:
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.read() == b"abc"
    routes = {r["name"]: r for r in httpx.get(f"{v1_server.url}/schema.json").json()["routes"]}
    assert routes["relay"]["output"]["is_stream"] is True  # from its return annotation


def test_a_reader_that_stops_reading_stops_the_generator(class_server, tmp_path):
    counter = tmp_path / "counter"
    with httpx.stream("POST", f"{class_server.url}/flood", json={"counter": str(counter)}, timeout=30) as r:
        chunks = r.iter_raw()
        next(chunks)  # then read nothing more, connected
        counts: list[int] = []
        deadline = time.monotonic() + 20
        while len(counts) < 5 or len(set(counts[-5:])) > 1:  # until it stops producing
            assert time.monotonic() < deadline, f"still producing: {counts[-5:]}"
            time.sleep(0.2)
            counts.append(int(counter.read_text()))
    # 64 KiB items: socket buffers plus the worker's window of items, far from a runaway
    assert counts[-1] < 500, counts[-1]


def test_server_sent_events_go_out_as_the_service_frames_them(class_server):
    for accept in ({}, {"accept": "text/event-stream"}):
        response = httpx.post(f"{class_server.url}/sse", json={"n": 3}, headers=accept, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.content == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"  # no framing added or lost


def test_content_type_bytes_and_json_items(class_server):
    plain = httpx.post(f"{class_server.url}/plain", json={"n": 2}, timeout=30)
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert plain.content == b"line 0\nline 1\n"
    raw = httpx.post(f"{class_server.url}/raw", json={}, timeout=30)
    assert raw.content == b"\x00\x01\xff"
    dicts = httpx.post(f"{class_server.url}/dicts", json={}, timeout=30)
    assert dicts.content == b'{"i":0}{"i":1}'  # each item as JSON, back to back, as BentoML writes them


def test_an_error_mid_stream_ends_the_response_early(class_server):
    received = []
    with httpx.stream(
        "POST", f"{class_server.url}/breaks", json={}, headers={"x-request-id": "midway-1"}
    ) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # no last chunk: the body is incomplete
            for chunk in r.iter_raw():
                received.append(chunk)
    assert b"".join(received) == b"ab"
    log = class_server.log_text()
    assert "API breaks failed mid-stream" in log and "midway-1" in log
    assert "secret detail of the model" in log  # the traceback is in the log, never on the wire


def test_an_error_before_the_first_item_is_an_error_response(class_server):
    response = httpx.post(f"{class_server.url}/breaks_first", json={}, timeout=30)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert "secret" not in response.text and "a runner failed" in response.json()["detail"]


def test_bad_input_of_a_streaming_api_is_a_400(class_server):
    response = httpx.post(f"{class_server.url}/tokens", json={"gate": "g"}, timeout=30)
    assert response.status_code == 400 and "marker" in response.text


def test_schema_and_openapi_mark_streams(class_server, v1_server):
    routes = {r["name"]: r for r in httpx.get(f"{class_server.url}/schema.json").json()["routes"]}
    assert routes["tokens"]["output"] == {
        "type": "string",
        "is_stream": True,
        "media_type": "text/event-stream",
    }
    assert routes["plain"]["output"]["media_type"] == "text/plain"
    assert routes["raw"]["output"] == {
        "type": "string",
        "format": "binary",
        "is_stream": True,
        "media_type": "text/event-stream",
    }
    assert "is_stream" not in routes["greet"]["output"]
    v1_routes = {r["name"]: r for r in httpx.get(f"{v1_server.url}/schema.json").json()["routes"]}
    assert v1_routes["words"]["output"]["is_stream"] is True
    assert v1_routes["words"]["output"]["media_type"] == "text/plain"
    assert "is_stream" not in v1_routes["plain"]["output"]
    docs = httpx.get(f"{class_server.url}/docs.json").json()
    content = docs["paths"]["/tokens"]["post"]["responses"]["200"]["content"]
    assert (
        list(content) == ["text/event-stream"] and content["text/event-stream"]["x-bentotui-stream"] is True
    )
    assert list(docs["paths"]["/greet"]["post"]["responses"]["200"]["content"]) == ["text/plain"]


def test_the_sync_client_iterates_a_stream_as_it_comes(class_server, tmp_path):
    body, gate, marker = _gated(tmp_path, n=2)
    with SyncHTTPClient(class_server.url) as client:
        chunks = client.tokens(**body)
        assert not isinstance(chunks, (list, str))
        assert next(chunks) == "first\n"
        assert not marker.exists()
        gate.touch()
        assert "".join(chunks) == "item0\nitem1\n"
        raw = list(client.raw())
        assert all(isinstance(chunk, bytes) for chunk in raw) and b"".join(raw) == b"\x00\x01\xff"
        assert client.greet(name="x") == "hello x"  # other APIs answer as before


def test_the_async_client_iterates_a_stream_as_it_comes(class_server, tmp_path):
    body, gate, marker = _gated(tmp_path, n=2)

    async def run() -> list[str]:
        async with AsyncHTTPClient(class_server.url) as client:
            chunks = client.tokens(**body)  # no await: an async iterator, as BentoML's
            received = []
            async for chunk in chunks:
                received.append(chunk)
                if chunk == "first\n":
                    assert not marker.exists()
                    gate.touch()
            assert await client.greet(name="y") == "hello y"
            return received

    assert "".join(asyncio.run(run())) == "first\nitem0\nitem1\n"


def _in_progress(url: str, route: str) -> float:
    metrics = httpx.get(f"{url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if "request_in_progress" in line and f'endpoint="{route}"' in line and not line.startswith("#")
    )


def test_a_stream_is_in_progress_until_its_end(class_server, tmp_path):
    body, gate, marker = _gated(tmp_path, n=1)
    with httpx.stream("POST", f"{class_server.url}/tokens", json=body, timeout=30) as response:
        chunks = response.iter_raw()
        assert next(chunks) == b"first\n"
        assert _in_progress(class_server.url, "/tokens") == 1
        gate.touch()
        assert b"".join(chunks) == b"item0\n"
    _wait_for(marker)
    assert _in_progress(class_server.url, "/tokens") == 0
