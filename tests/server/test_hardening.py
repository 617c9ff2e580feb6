"""Hostile and odd HTTP input against real servers: charsets, non-finite results, 405 ``Allow``,
runner failures that must not leak, trickled bodies and the connection cap (reliability report
F6-F9, rows 6-8)."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import textwrap
import time

import httpx
import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.server.options import ServeOptions, default_max_connections
from tests.helpers.server import serve

SERVICE = textwrap.dedent("""
    import asyncio

    import pydantic

    import bentotui as bentoml
    from bentotui.exceptions import BadInput, InternalServerError


    class Leaky(bentoml.Runnable):
        @bentoml.Runnable.method(batchable=False)
        def open_secret(self, body):
            open("/srv/models/secret/weights.bin", "rb")

        @bentoml.Runnable.method(batchable=False)
        def refuse(self, body):
            raise BadInput("expected 4 features, got 3", detail={"got": 3})

        @bentoml.Runnable.method(batchable=False)
        def internal(self, body):
            raise InternalServerError("cannot read /srv/models/secret/config.yaml")


    class Point(pydantic.BaseModel):
        x: float
        label: str = ""


    runner = bentoml.Runner(Leaky, name="leaky")
    svc = bentoml.Service(name="hardening", runners=[runner])


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    def echo_text(text):
        return text


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def echo_json(body):
        return body


    @svc.api(input=bentoml.io.JSON(pydantic_model=Point), output=bentoml.io.JSON(pydantic_model=Point))
    def echo_point(point):
        return point


    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64"), output=bentoml.io.NumpyNdarray())
    def echo_array(arr):
        return arr


    @svc.api(input=bentoml.io.PandasDataFrame(), output=bentoml.io.PandasDataFrame())
    def echo_frame(df):
        return df


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def leak(body):
        return await runner.open_secret.async_run(body)


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def refuse(body):
        return await runner.refuse.async_run(body)


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def internal(body):
        return await runner.internal.async_run(body)


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def sleep(seconds):
        await asyncio.sleep(seconds)
        return {"slept": seconds}
""")


def _strict_json(text: str) -> object:
    """Parse as a strict client does (JavaScript's ``JSON.parse``): NaN and Infinity are errors."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _assert_error_body(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "detail", "request_id"}
    assert body["request_id"] == r.headers["x-request-id"]
    return body


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    """The service above, with a runner worker; a short read timeout and a small connection cap."""
    root = tmp_path_factory.mktemp("hardening")
    (root / "home").mkdir()
    (root / "svc").mkdir()
    (root / "svc" / "service.py").write_text(SERVICE)
    args = ("--read-timeout", "1", "--max-connections", "24", "--timeout", "10")
    with serve("service:svc", cwd=root / "svc", env={"BENTOTUI_HOME": str(root / "home")}, args=args) as srv:
        yield srv


def post(srv, path: str, content: bytes, ctype: str = "application/json") -> httpx.Response:
    return httpx.post(srv.url + path, content=content, headers={"content-type": ctype}, timeout=10)


# -- F6: charsets ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/echo_text", "/echo_json", "/echo_point", "/echo_array"])
@pytest.mark.parametrize(
    ("charset", "why"),
    [
        ("undefined", "not a character set"),
        ("punycode", "not a character set"),
        ("idna", "not a character set"),
        ("unicode_escape", "not a character set"),
        ("base64", "not a text encoding"),
        ("klingon", "unknown charset"),
    ],
)
def test_a_charset_we_do_not_read_is_415_naming_it(hard, path, charset, why):
    ctype = ("text/plain" if path == "/echo_text" else "application/json") + f"; charset={charset}"
    body = _assert_error_body(post(hard, path, b'{"x": 1}', ctype), 415)
    assert body["error"] == f"{why} {charset!r} in the content type; send UTF-8 text"
    assert body["detail"] == {"charset": charset}


def test_declared_charsets_are_honoured_and_bad_bytes_are_400(hard):
    assert post(hard, "/echo_text", "café".encode("latin-1"), "text/plain; charset=latin-1").text == "café"
    r = post(hard, "/echo_json", '["café"]'.encode("latin-1"), "application/json; charset=ISO-8859-1")
    assert r.json() == ["café"]
    r = post(hard, "/echo_point", '{"x": 1, "label": "é"}'.encode("utf-16"), "application/json; charset=utf-16")
    assert r.json() == {"x": 1.0, "label": "é"}
    body = _assert_error_body(post(hard, "/echo_text", b"\xff\xfeok", "text/plain; charset=utf-8"), 400)
    assert body["error"] == "request body is not valid utf-8 text: invalid start byte at byte 0"
    body = _assert_error_body(post(hard, "/echo_json", b"[1", "application/json; charset=ascii"), 400)
    assert body["error"].startswith("request body is not valid JSON")


# -- F7: non-finite results ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "sent", "expected"),
    [
        ("/echo_json", b'{"a": [NaN, Infinity, -Infinity, 1.5]}', {"a": [None, None, None, 1.5]}),
        ("/echo_array", b"[[NaN, Infinity], [-Infinity, 2]]", [[None, None], [None, 2.0]]),
        ("/echo_frame", b'[{"a": NaN, "b": 1}, {"a": Infinity, "b": 2}]', [{"a": None, "b": 1}, {"a": None, "b": 2}]),
        ("/echo_point", b'{"x": NaN}', {"x": None, "label": ""}),
    ],
)
def test_non_finite_results_are_valid_json_with_null(hard, path, sent, expected):
    r = post(hard, path, sent)
    assert r.status_code == 200, r.text
    assert _strict_json(r.text) == expected


# -- 405 everywhere carries Allow -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/healthz", "GET"),
        ("POST", "/healthz", "GET"),
        ("DELETE", "/metrics", "GET"),
        ("PUT", "/docs.json", "GET"),
        ("GET", "/echo_json", "POST"),
        ("TRACE", "/echo_text", "POST"),
    ],
)
def test_405_names_the_allowed_methods(hard, method, path, allowed):
    r = httpx.request(method, hard.url + path, timeout=10)
    body = _assert_error_body(r, 405)
    assert body["error"] == "method not allowed"
    assert allowed in [m.strip() for m in r.headers["allow"].split(",")]


def test_404_body_carries_the_request_id(hard):
    r = httpx.get(hard.url + "/nope", headers={"x-request-id": "probe-404"}, timeout=10)
    assert _assert_error_body(r, 404)["request_id"] == "probe-404"


# -- F9: runner failures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/leak", "/internal"])
def test_a_runner_failure_is_a_generic_500_and_the_message_goes_to_the_log(hard, path):
    r = httpx.post(hard.url + path, json=[1], headers={"x-request-id": f"rid{path[1:]}"}, timeout=10)
    body = _assert_error_body(r, 500)
    assert body == {
        "error": "internal server error",
        "detail": f"a runner failed in API {path[1:]!r}; see the server log",
        "request_id": f"rid{path[1:]}",
    }
    assert "/srv" not in r.text and "Error" not in r.text
    secret, traceback_end = {
        "/leak": ("weights.bin", "FileNotFoundError: [Errno 2] No such file or directory: '/srv/models/secret/weights.bin'"),
        "/internal": ("config.yaml", "bentotui.exceptions.InternalServerError: cannot read /srv/models/secret/config.yaml"),
    }[path]
    deadline = time.monotonic() + 5
    while True:  # the worker's stderr reaches the log a moment after the answer
        lines = hard.log_text().splitlines()
        # the API's line (message and request id) and the worker's traceback
        api_line = [line for line in lines if f"[rid{path[1:]}]" in line and f"/srv/models/secret/{secret}" in line]
        if api_line and traceback_end in (line.strip() for line in lines):
            break
        assert time.monotonic() < deadline, "\n".join(lines[-40:])


def test_a_runner_error_that_is_the_callers_keeps_its_message(hard):
    body = _assert_error_body(httpx.post(hard.url + "/refuse", json=[1], timeout=10), 400)
    assert body["error"] == "expected 4 features, got 3" and body["detail"] == {"got": 3}


# -- F8: trickled bodies and the connection cap ---------------------------------------------------------------
async def _trickle(port: int, path: str = "/echo_json", seconds: float = 6.0) -> tuple[int | None, float, bool]:
    """Send full headers, then 2 bytes of a 1000-byte body every 0.2 s, for up to ``seconds``.

    Returns (status answered or None, seconds until the answer, whether the server then closed
    the connection while we kept trickling).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n".encode()
    )
    status: int | None = None
    answered_after = 0.0
    received = b""
    try:
        while time.monotonic() - began < seconds:
            try:
                writer.write(b"  ")
                await writer.drain()
            except ConnectionError:
                return status, answered_after, True
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.2)
            except asyncio.TimeoutError:
                continue
            if not data:  # EOF: the server closed the connection
                return status, answered_after, True
            received += data
            head, sep, body = received.partition(b"\r\n\r\n")
            if status is None and sep:
                status = int(head.split(b" ", 2)[1])
                answered_after = time.monotonic() - began
                assert b"\r\ncontent-type: application/json\r\n" in head.lower() + b"\r\n"
                assert b"\r\nconnection: close\r\n" in head.lower() + b"\r\n"  # no reuse after a 408
        return status, answered_after, False
    finally:
        writer.close()
        if status is not None:  # the answer was complete before the close
            assert set(json.loads(received.partition(b"\r\n\r\n")[2])) == {"error", "detail", "request_id"}


async def test_trickled_bodies_get_408_and_lose_their_connection(hard):
    """20 bodies trickled past ``--read-timeout 1``: each a 408 within a few seconds, then closed;
    the server meanwhile answers others at once, and a slow handler with a prompt body is not cut."""
    trickles = [asyncio.create_task(_trickle(hard.port)) for _ in range(20)]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=hard.url, timeout=10) as client:
        began = time.monotonic()
        probe = await client.post("/echo_json", json=[1])
        assert probe.status_code == 200 and time.monotonic() - began < 1.0
        slow_handler = await client.post("/sleep", json=1.5)  # longer than --read-timeout, body prompt
        assert slow_handler.json() == {"slept": 1.5}
    results = await asyncio.gather(*trickles)
    assert [status for status, _, _ in results] == [408] * 20
    assert all(0.9 < after < 4.0 for _, after, _ in results), results
    assert all(closed for _, _, closed in results), results
    r = httpx.post(hard.url + "/echo_json", content=b"[1", headers={"content-type": "application/json"})
    assert r.status_code == 400  # still serving


async def test_past_the_connection_cap_requests_get_503_at_once(hard):
    """24 trickled bodies fill ``--max-connections 24``: the next request (any route) is a 503 JSON
    answer at once and its connection is closed; once the trickles time out, requests pass again."""
    trickles = [asyncio.create_task(_trickle(hard.port, seconds=4.0)) for _ in range(24)]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=hard.url, timeout=10) as client:
        began = time.monotonic()
        refused = await client.get("/healthz")
        assert time.monotonic() - began < 1.0
        body = _assert_error_body(refused, 503)
        assert body == {
            "error": "server overloaded",
            "detail": "24 requests in progress (--max-connections)",
            "request_id": refused.headers["x-request-id"],
        }
        assert refused.headers["connection"] == "close" and refused.headers["retry-after"] == "1"
        refused = await client.post("/echo_json", json=[1])
        assert refused.status_code == 503
        results = await asyncio.gather(*trickles)
        assert [status for status, _, _ in results] == [408] * 24
        assert (await client.post("/echo_json", json=[1])).json() == [1]


# -- the flags, checked once in ServeOptions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"read_timeout": 0}, "--read-timeout must be a positive number of seconds, not 0"),
        ({"read_timeout": float("nan")}, "--read-timeout must be a positive number of seconds, not nan"),
        ({"max_connections": 0}, "--max-connections must be at least 1, not 0"),
    ],
)
def test_bad_read_timeout_and_connection_cap_are_refused(tmp_path, kwargs, message):
    with pytest.raises(InvalidArgument, match=f"^{re.escape(message)}$"):
        ServeOptions(model="iris", working_dir=tmp_path, **kwargs)


@pytest.mark.parametrize(
    ("limit", "expected"), [((1024, 4096), 896), ((100, 100), 16), ((resource.RLIM_INFINITY,) * 2, 65536)]
)
def test_the_default_connection_cap_stays_below_the_open_file_limit(monkeypatch, tmp_path, limit, expected):
    monkeypatch.setattr(resource, "getrlimit", lambda _: limit)
    assert ServeOptions(model="iris", working_dir=tmp_path).max_connections == expected
    assert ServeOptions(model="iris", working_dir=tmp_path, max_connections=5).max_connections == 5


def test_without_an_open_file_limit_the_cap_is_1024(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: the import fails
    assert default_max_connections() == 1024
