"""A real server process: every IO descriptor over HTTP, each error code, request ids, logs, docs."""

from __future__ import annotations

import concurrent.futures
import io
import json
import threading

import httpx
import pytest
from PIL import Image

from bentotui.client import ClientError, SyncClient


def post(srv, path, content, ctype="application/json", **kw):
    return httpx.post(
        srv.url + path, content=content, headers={"content-type": ctype, **kw.pop("headers", {})}, **kw
    )


def test_health_live_ready(sink):
    for path in ("/healthz", "/livez", "/readyz"):
        assert httpx.get(sink.url + path).status_code == 200


def test_text_in_json_out(sink):
    r = post(sink, "/echo", "héllo".encode(), "text/plain; charset=utf-8")
    assert r.status_code == 200
    assert r.json() == {"text": "héllo", "length": 5}


def test_json_descriptor(sink):
    assert post(sink, "/add", b'{"a": 2, "b": 3}').json() == {"sum": 5}


def test_ndarray_descriptor_and_shape_check(sink):
    assert post(sink, "/double", b"[[1, 2, 3, 4]]").json() == [[2, 4, 6, 8]]
    r = post(sink, "/double", b"[[1, 2]]")
    assert r.status_code == 400
    assert "shape" in r.json()["error"]


def test_dataframe_json_and_csv(sink):
    r = post(sink, "/frame", b'[{"a": 1, "b": 2}, {"a": 3, "b": 4}]')
    assert [row["total"] for row in r.json()] == [3, 7]
    r = post(sink, "/frame", b"a,b\n1,2\n5,5\n", "text/csv")
    assert [row["total"] for row in r.json()] == [3, 10]


def test_file_descriptor_raw_and_multipart(sink):
    r = post(sink, "/reverse", b"abc\x00\xff", "application/octet-stream")
    assert r.content == b"\xff\x00cba"
    r = httpx.post(sink.url + "/reverse", files={"file": ("x.bin", b"12345", "application/octet-stream")})
    assert r.content == b"54321"


def test_image_descriptor(sink):
    img = Image.new("RGB", (4, 2), (255, 0, 0))
    img.putpixel((0, 0), (0, 0, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    r = post(sink, "/flip", buf.getvalue(), "image/png")
    assert r.headers["content-type"] == "image/png"
    out = Image.open(io.BytesIO(r.content))
    assert out.size == (4, 2)
    assert out.getpixel((3, 0)) == (0, 0, 255)
    r = post(sink, "/flip", b"not an image", "image/png")
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "ctype", "status"),
    [
        ("/add", b"{not json", "application/json", 400),
        ("/frame", b'{"a": 1}', "application/json", 400),
        ("/double", b'"text"', "application/json", 400),
        ("/frame", b"x", "application/xml", 415),  # a media type the descriptor does not read
    ],
)
def test_bad_input_is_4xx_json(sink, path, body, ctype, status):
    r = post(sink, path, body, ctype)
    assert r.status_code == status
    data = r.json()
    assert set(data) >= {"error", "detail", "request_id"}
    assert data["request_id"] == r.headers["x-request-id"]


def test_unknown_route_is_404_json(sink):
    r = httpx.get(sink.url + "/nope")
    assert r.status_code == 404
    assert "no route /nope" in r.json()["detail"]
    assert post(sink, "/nope", b"{}").status_code == 404


def test_get_on_api_route_is_405(sink):
    r = httpx.get(sink.url + "/add")
    assert r.status_code == 405
    assert r.json()["error"] == "method not allowed"


def test_body_over_limit_is_413(sink):
    r = post(sink, "/echo", b"x" * 5000, "text/plain")
    assert r.status_code == 413
    assert "4096" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield b"y" * 1000

    r = httpx.post(sink.url + "/echo", content=chunks(), headers={"content-type": "text/plain"})
    assert r.status_code == 413


def test_handler_exception_is_500_without_traceback(sink):
    r = post(sink, "/boom", b"{}", headers={"x-request-id": "boom-1"})
    assert r.status_code == 500
    body = r.json()
    assert body["request_id"] == "boom-1"
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    log = sink.log_text()
    assert "Traceback" in log and "secret internal detail" in log and "boom-1" in log


def test_service_unavailable_maps_to_503(sink):
    r = post(sink, "/busy", b"{}")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"] == "model busy"


def test_timeout_is_504(sink):
    r = post(sink, "/sleep", b"5", timeout=10)
    assert r.status_code == 504
    assert "2s" in r.json()["detail"]


def test_overload_is_503(sink):
    """--max-concurrency 4: of 8 simultaneous slow requests, the ones over the cap get 503 at once."""
    # all 8 leave together and each holds its slot for 1.5 s (under --timeout 2): exactly the cap
    # gets in, so a cap of 1 or 7 fails here
    start = threading.Barrier(8)

    def slow(_: int) -> int:
        start.wait(timeout=30)
        return post(sink, "/sleep", b"1.5", timeout=10).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(slow, range(8)))
    assert sorted(codes) == [200] * 4 + [503] * 4


def test_request_id_echoed_or_generated(sink):
    r = post(sink, "/add", b'{"a": 1, "b": 1}', headers={"x-request-id": "my-id-42"})
    assert r.headers["x-request-id"] == "my-id-42"
    a = post(sink, "/add", b'{"a": 1, "b": 1}').headers["x-request-id"]
    b = httpx.get(sink.url + "/healthz").headers["x-request-id"]
    assert a and b and a != b


def test_access_log_lines(sink):
    post(sink, "/add", b'{"a": 1, "b": 1}', headers={"x-request-id": "logged-1"})
    httpx.get(sink.url + "/healthz", headers={"x-request-id": "probe-1"})
    lines = sink.log_text().splitlines()
    line = next(line for line in lines if line.endswith(" logged-1"))
    _time, method, path, status, latency, _rid = line.split()
    assert (method, path, status) == ("POST", "/add", "200")
    assert latency.endswith("ms")
    assert not any("probe-1" in line for line in lines)  # health probes are not logged


def test_metrics_content(sink):
    post(sink, "/add", b'{"a": 1, "b": 1}')
    with SyncClient(sink.url) as client:
        families = client.metrics()
    samples = {  # a 1.x Service: BentoML 1.x's API server names
        (s.name, s.labels.get("endpoint"), s.labels.get("http_response_code"))
        for s in families["bentoml_api_server_request"].samples
    }
    assert ("bentoml_api_server_request_total", "/add", "200") in samples
    assert "bentoml_api_server_request_duration_seconds" in families
    assert "bentoml_api_server_request_in_progress" in families


def test_docs_json_and_swagger_ui(sink):
    spec = httpx.get(sink.url + "/docs.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/echo", "/add", "/double"} <= set(spec["paths"])
    page = httpx.get(sink.url + "/")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text and "http" not in page.text.split("<script")[1].split(">")[0]
    js = httpx.get(sink.url + "/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_client_calls_by_name(sink):
    with SyncClient(sink.url) as client:
        assert client.health() and client.ready()
        assert client.echo("hi") == {"text": "hi", "length": 2}
        assert client.call("add", {"a": 1, "b": 2}) == {"sum": 3}
        import numpy as np

        assert client.double(np.ones((1, 4))) == [[2, 2, 2, 2]]
        assert client.reverse(b"ab") == b"ba"
        with pytest.raises(ClientError) as err:
            client.add("not an object")
        assert err.value.status == 500  # the handler's TypeError: a server error, not bad input
        with pytest.raises(Exception, match="no API"):
            client.call("missing", 1)


async def test_async_client(sink):
    from bentotui.client import AsyncClient

    async with AsyncClient(sink.url) as client:
        await client.wait_until_ready(5)
        assert await client.call("add", {"a": 5, "b": 5}) == {"sum": 10}
        assert "bentoml_api_server_request" in await client.metrics()


def test_json_log_format(tmp_path):
    from tests.helpers.server import serve
    from tests.server.conftest import write_service

    with serve("service:svc", cwd=write_service(tmp_path / "svc"), args=("--log-format", "json")) as srv:
        post(srv, "/add", b'{"a": 1, "b": 1}', headers={"x-request-id": "json-1"})
        records = [json.loads(line) for line in srv.log_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("type") == "access"]
    assert any(r["request_id"] == "json-1" and r["status"] == 200 and r["path"] == "/add" for r in access)
    assert any(r.get("type") == "log" for r in records)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ("POST /echo HTTP/1.1\nHost: 127.0.0.1\nContent-Type: text/plain\nContent-Length: 5000\n", 413),
        ("GET /add HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 10\n", 405),
        ("POST /add HTTP/1.1\nHost: evil.example\nContent-Length: 10\n", 403),
        ("POST /nowhere HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 10\n", 404),
    ],
)
def test_an_answer_before_the_body_closes_the_connection_saying_so(sink, head, status):
    """Answered before its body came, a request's connection cannot be reused (hypercorn drops it):
    the answer says ``Connection: close``, so a keep-alive client opens a new one instead of
    sending its next request into a closed socket."""
    answered, headers, closed = sink.answer_to_head(head)
    assert (answered, headers.get("connection"), closed) == (status, "close", True)


def test_answers_after_the_body_keep_the_connection(sink):
    """Errors found after reading the body (400), and requests without one, keep it alive."""
    with httpx.Client(base_url=sink.url) as client:
        for response in (
            client.post("/double", content=b"[[1, 2]]", headers={"content-type": "application/json"}),
            client.get("/add"),
            client.get("/healthz"),
        ):
            assert "connection" not in response.headers, response
        answered, headers, _ = sink.answer_to_head("GET /healthz HTTP/1.1\nHost: 127.0.0.1\n")
        assert answered == 200 and "connection" not in headers
