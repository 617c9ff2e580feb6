"""Client pieces that need no server: API discovery, body encoding, error decoding, metrics parsing.

(The clients against a real server are exercised in ``tests/server/test_http.py``.)
"""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bentotui.client import (
    APIEndpoint,
    AsyncClient,
    AsyncHTTPClient,
    ClientError,
    SyncClient,
    SyncHTTPClient,
    decode_output,
    decode_response,
    encode_body,
    encode_call,
    parse_apis,
    parse_metrics,
    read_apis,
    read_routes,
)
from bentotui.exceptions import BentotuiError, InvalidArgument

SPEC = {
    "openapi": "3.1.0",
    "paths": {
        "/classify": {"post": {"operationId": "classify", "requestBody": {"content": {"text/plain": {}}}}},
        "/v1/predict": {
            "post": {"operationId": "predict", "requestBody": {"content": {"application/json": {}}}}
        },
        "/healthz": {"get": {}},
    },
}


def test_parse_apis_by_route_and_operation_id():
    apis = parse_apis(SPEC)
    assert apis["classify"].media_type == "text/plain"
    assert apis["v1/predict"].route == "/v1/predict"
    assert apis["predict"].route == "/v1/predict"
    assert "healthz" not in apis


def test_read_apis_one_post_per_api_with_method_and_example():
    spec = {
        "paths": {
            "/v1/cls": {
                "post": {
                    "operationId": "classify",
                    "requestBody": {"content": {"text/plain": {"example": "hello"}}},
                }
            },
            "/predict": {
                "post": {
                    "operationId": "svc.predict",  # not an identifier: the route names it
                    "requestBody": {"content": {"application/json": {"examples": {"a": {"value": [1]}}}}},
                }
            },
            "/upload": {"put": {"operationId": "upload"}},  # only POST operations are APIs
            "/readyz": {"get": {"operationId": "infra.readyz"}},
        }
    }
    assert read_apis(spec) == [
        APIEndpoint("classify", "/v1/cls", "post", "text/plain", "hello"),
        APIEndpoint("predict", "/predict", "post", "application/json", [1]),
    ]
    assert set(parse_apis(spec)) == {"v1/cls", "classify", "predict"}


async def test_async_client_lent_a_pool_sends_raw_requests_and_leaves_it_open():
    seen: list[tuple[str, str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, str(request.url), request.content))
        if request.url.path == "/docs.json":
            return httpx.Response(200, json=SPEC)
        return httpx.Response(418, text="teapot")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        async with AsyncClient("http://svc:3000/", http_client=http) as client:
            assert (await client.openapi())["paths"].keys() == SPEC["paths"].keys()
            response = await client.request("post", "/classify", content=b"hi")
            assert response.status_code == 418 and response.text == "teapot"
            assert await client.status("/readyz") == 418
        assert not http.is_closed
    assert seen[:2] == [
        ("GET", "http://svc:3000/docs.json", b""),
        ("POST", "http://svc:3000/classify", b"hi"),
    ]


@pytest.mark.parametrize(
    ("value", "media_type", "body", "ctype"),
    [
        ("héllo", "text/plain", "héllo".encode(), "text/plain"),
        ({"a": [1, 2]}, "application/json", b'{"a": [1, 2]}', "application/json"),
        (np.array([[1.5, 2.0]]), "application/json", b"[[1.5, 2.0]]", "application/json"),
        (b"\x00raw", "application/octet-stream", b"\x00raw", "application/octet-stream"),
    ],
)
def test_encode_body(value, media_type, body, ctype):
    assert encode_body(value, media_type) == (body, ctype)


def test_encode_dataframe_as_json_and_csv():
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    body, _ = encode_body(df, "application/json")
    assert json.loads(body) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    assert encode_body(df, "text/csv")[0] == b"a,b\n1,3\n2,4\n"


def test_encode_image_and_path(tmp_path):
    body, ctype = encode_body(Image.new("RGB", (2, 2)), "image/jpeg")
    assert ctype == "image/png" and Image.open(io.BytesIO(body)).size == (2, 2)
    path = tmp_path / "f.bin"
    path.write_bytes(b"file")
    assert encode_body(path, "application/octet-stream")[0] == b"file"


def test_encode_refuses_what_it_cannot_send():
    with pytest.raises(InvalidArgument, match="cannot send object"):
        encode_body(object(), "text/plain")
    with pytest.raises(TypeError):
        encode_body({"x": object()}, "application/json")


def test_decode_response_by_content_type():
    assert decode_response(httpx.Response(200, json={"a": 1})) == {"a": 1}
    assert decode_response(httpx.Response(200, text="hi", headers={"content-type": "text/plain"})) == "hi"
    raw = httpx.Response(200, content=b"\x01", headers={"content-type": "application/octet-stream"})
    assert decode_response(raw) == b"\x01"


def test_decode_error_responses():
    with pytest.raises(ClientError) as err:
        decode_response(httpx.Response(400, json={"error": "bad shape", "detail": "expected 4"}))
    assert err.value.status == 400 and "bad shape" in str(err.value)
    assert err.value.detail == {"error": "bad shape", "detail": "expected 4"}
    with pytest.raises(ClientError, match="HTTP 502"):
        decode_response(httpx.Response(502, text="<html>bad gateway</html>"))


def test_parse_metrics():
    from bentotui.server.metrics import ServerMetrics

    metrics = ServerMetrics("svc")
    for _ in range(3):
        metrics.observe_request("/a", 200, 0.01)
    metrics.batch("iris", "predict", 8, 0.001, 0.002)
    families = parse_metrics(metrics.render().decode())
    totals = [
        (s.labels["endpoint"], s.value)
        for s in families["bentoml_service_request"].samples
        if s.name.endswith("_total")
    ]
    assert totals == [("/a", 3.0)]
    sizes = families["bentoml_service_adaptive_batch_size"].samples
    assert any(s.name.endswith("_sum") and s.value == 8 for s in sizes)


def test_unreachable_server_is_not_ready():
    with SyncClient("http://127.0.0.1:9") as client:  # discard port: nothing listens
        assert client.health() is False and client.ready() is False
        with pytest.raises(Exception, match="not ready"):
            client.wait_until_ready(timeout=0.2)


def test_attribute_access_is_only_for_api_names():
    client = SyncClient("http://127.0.0.1:9")
    try:
        with pytest.raises(AttributeError):
            _ = client._private
        assert callable(client.classify)
    finally:
        client.close()


# --- BentoML 1.4's call style (real servers: tests/compat/clients/) ---------------------------------

ROUTE_KW = {
    "name": "describe",
    "route": "/describe",
    "input": {
        "type": "object",
        "properties": {"flower": {"type": "object"}, "note": {"type": "string"}, "photo": {"type": "file"}},
        "required": ["flower"],
    },
}


def test_encode_call_binds_parameters_like_a_function_call():
    body, ctype = encode_call(ROUTE_KW, ({"a": 1},), {"note": "n"})
    assert ctype == "application/json" and json.loads(body) == {"flower": {"a": 1}, "note": "n"}
    body, _ = encode_call(ROUTE_KW, (), {"flower": np.arange(2)})
    assert json.loads(body) == {"flower": [0, 1]}
    with pytest.raises(TypeError, match="takes 3 arguments, 4 given"):
        encode_call(ROUTE_KW, (1, 2, 3, 4), {})


def test_encode_call_sends_files_as_multipart(tmp_path):
    photo = tmp_path / "p.png"
    photo.write_bytes(b"\x89PNG fake")
    body, ctype = encode_call(ROUTE_KW, (), {"flower": {"a": 1}, "photo": photo})
    assert ctype.startswith("multipart/form-data; boundary=")
    assert b'name="photo"; filename="p.png"' in body and b"Content-Type: image/png" in body
    assert b'name="flower"' in body and b'{"a": 1}' in body


@pytest.mark.parametrize(
    ("schema", "value", "body", "ctype"),
    [
        ({"type": "string"}, "hi", b"hi", "text/plain"),
        ({"type": "tensor"}, np.array([[1, 2]]), b"[[1, 2]]", "application/json"),
        ({}, {"a": 1}, b'{"a": 1}', "application/json"),
        ({"type": "file", "content_type": "application/pdf"}, b"%PDF", b"%PDF", "application/pdf"),
    ],
)
def test_encode_call_of_a_root_input(schema, value, body, ctype):
    route = {"name": "f", "route": "/f", "input": {**schema, "root_input": True}}
    assert encode_call(route, (value,), {}) == (body, ctype)
    with pytest.raises(TypeError, match="one positional argument"):
        encode_call(route, (), {"x": value})


def _answer(content: bytes, ctype: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=content, headers={"content-type": ctype})


def test_decode_output_as_bentoml_returns_it(tmp_path):
    tensor = decode_output({"output": {"type": "tensor", "dtype": "float32"}}, _answer(b"[[1, 2]]", "application/json"), "")
    assert tensor.dtype == np.float32 and tensor.tolist() == [[1, 2]]
    frame = decode_output({"output": {"type": "dataframe"}}, _answer(b'[{"a": 1}]', "application/json"), "")
    assert isinstance(frame, pd.DataFrame) and frame.to_dict("records") == [{"a": 1}]
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, format="PNG")
    image = decode_output({"output": {"type": "file", "pil": True}}, _answer(buf.getvalue(), "image/png"), "")
    assert image.size == (2, 2)
    path = decode_output({"output": {"type": "file"}}, _answer(b"%PDF", "application/pdf"), str(tmp_path))
    assert path.parent == tmp_path and path.suffix == ".pdf" and path.read_bytes() == b"%PDF"
    assert decode_output({"output": {}}, _answer(b"[1]", "application/json"), "") == [1]
    with pytest.raises(ClientError) as err:
        decode_output({"output": {}}, _answer(b'{"error": "bad"}', "application/json", 400), "")
    assert err.value.status == 400


def test_read_routes_refuses_what_is_not_a_service_schema():
    assert read_routes({"routes": [{"name": "a", "route": "/a"}]}) == {"a": {"name": "a", "route": "/a"}}
    with pytest.raises(BentotuiError, match="not a BentoML service schema"):
        read_routes({"openapi": "3.1.0"})


def test_bentoml_client_options_are_checked_before_connecting():
    with pytest.raises(InvalidArgument, match="vnd.bentoml"):
        SyncHTTPClient("localhost:1", media_type="application/vnd.bentoml+pickle")
    with pytest.raises(BentotuiError, match="not ready within"):
        SyncHTTPClient("localhost:1", server_ready_timeout=0.2)
    assert SyncClient("localhost:3000").url == "http://localhost:3000"


async def test_async_bentoml_client_sends_the_token_and_reads_the_schema():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/schema.json":
            routes = [{"name": "shout", "route": "/shout", "input": {"type": "string", "root_input": True}, "output": {"type": "string"}}]
            return httpx.Response(200, json={"name": "s", "routes": routes})
        if request.url.path == "/shout":
            return httpx.Response(200, text=request.content.decode().upper())
        return httpx.Response(200, text="ok")

    client = AsyncHTTPClient("http://bento.test", token="t0k")
    await client._http.aclose()
    client._http = httpx.AsyncClient(transport=httpx.MockTransport(answer), headers=client._http.headers)
    async with client:
        assert await client.shout("hi") == "HI"
    assert [r.url.path for r in seen] == ["/readyz", "/schema.json", "/shout"]
    assert all(r.headers["authorization"] == "Bearer t0k" for r in seen)
    assert seen[-1].headers["content-type"] == "text/plain"
