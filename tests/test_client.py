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
    ClientError,
    SyncClient,
    decode_response,
    encode_body,
    parse_apis,
    parse_metrics,
    read_apis,
)
from bentotui.exceptions import InvalidArgument

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
        for s in families["bentotui_request"].samples
        if s.name.endswith("_total")
    ]
    assert totals == [("/a", 3.0)]
    sizes = families["bentotui_runner_batch_size"].samples
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
