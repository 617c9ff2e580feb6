"""``multipart/form-data``: the shared form parser and encoder, and ``Multipart(**fields)`` in and out."""

from __future__ import annotations

import io
import json
import textwrap
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import numpy as np
import pytest
from PIL import Image as PILImage

from bentotui.exceptions import BadInput, BuildError, PayloadTooLarge
from bentotui.io import JSON, File, HTTPRequest, HTTPResponse, Image, NumpyNdarray, Text
from bentotui.io.multipart import MAX_PARTS, FormPart, Multipart, encode_form, parse_form
from tests.helpers.server import serve


def form(files: dict | None = None, data: dict | None = None) -> HTTPRequest:
    """A real multipart/form-data body, encoded by httpx the way a client sends it."""
    request = httpx.Request("POST", "http://127.0.0.1/api", files=files or {}, data=data or {})
    return HTTPRequest(request.read(), request.headers["content-type"], dict(request.headers))


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, "red").save(out, format="PNG")
    return out.getvalue()


def read_parts(response: HTTPResponse) -> dict[str, tuple[str, bytes]]:
    """A multipart response read back by the stdlib's MIME parser: ``{name: (content type, body)}``."""
    head = f"Content-Type: {response.content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + response.body)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


def test_parse_form_keeps_each_part():
    parts = parse_form(
        form(
            files={"doc": ("a.txt", b"hello", "text/plain"), "meta": (None, b'{"k": 1}', "application/json")},
            data={"note": "plain"},
        )
    )
    assert set(parts) == {"doc", "meta", "note"}
    assert (parts["doc"].data, parts["doc"].filename, parts["doc"].content_type) == (
        b"hello",
        "a.txt",
        "text/plain",
    )
    assert (parts["meta"].filename, parts["meta"].content_type) == (None, "application/json")
    assert parts["note"].text() == "plain" and parts["note"].content_type == ""


@pytest.mark.parametrize(
    ("req", "error", "message"),
    [
        (HTTPRequest(b"--x\r\n", "multipart/form-data"), BadInput, "without a boundary"),
        (
            HTTPRequest(
                b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nno end',
                "multipart/form-data; boundary=b",
            ),
            BadInput,
            "malformed multipart/form-data body",
        ),
        (
            HTTPRequest(
                b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"
            ),
            BadInput,
            "Missing Content-Disposition",
        ),
        (
            form(files={f"f{i}": (None, b"x") for i in range(MAX_PARTS + 1)}),
            PayloadTooLarge,
            f"more than {MAX_PARTS} parts",
        ),
    ],
)
def test_parse_form_errors(req, error, message):
    with pytest.raises(error, match=message):
        parse_form(req)


def test_form_part_text_errors():
    with pytest.raises(BadInput, match="form field 'x' is not valid utf-8 text"):
        FormPart("x", b"\xff\xfe").text()


def test_encode_form_round_trips():
    response = encode_form(
        [FormPart("a", b"[1,2]", "application/json"), FormPart("b", b"\x89PNG", "image/png", "b.png")]
    )
    assert response.content_type.startswith("multipart/form-data; boundary=")
    assert read_parts(response) == {"a": ("application/json", b"[1,2]"), "b": ("image/png", b"\x89PNG")}
    parsed = parse_form(HTTPRequest(response.body, response.content_type))
    assert parsed["b"].filename == "b.png" and parsed["a"].data == b"[1,2]"


async def test_multipart_decodes_each_part_with_its_descriptor():
    desc = Multipart(
        image=Image(), annotations=JSON(), arr=NumpyNdarray(dtype="float32"), note=Text(), doc=File()
    )
    values = await desc.from_http(
        form(
            files={
                "image": ("x.png", png_bytes(), "image/png"),
                "annotations": ("a.json", b'{"boxes": [1, 2]}', "application/json"),
                "doc": ("d.bin", b"\x00\x01", "application/octet-stream"),
            },
            data={"arr": "[5, 4, 3, 2]", "note": "héllo", "ignored": "x"},
        )
    )
    assert set(values) == {"image", "annotations", "arr", "note", "doc"}
    assert values["image"].size == (4, 3)
    assert values["annotations"] == {"boxes": [1, 2]}
    assert values["arr"].dtype == np.float32 and values["arr"].tolist() == [5, 4, 3, 2]
    assert values["note"] == "héllo"
    assert (values["doc"].read(), values["doc"].name) == (b"\x00\x01", "d.bin")


async def test_multipart_request_errors():
    desc = Multipart(image=Image(), annotations=JSON())
    with pytest.raises(
        BadInput, match="takes multipart/form-data with the parts image, annotations; got application/json"
    ):
        await desc.from_http(HTTPRequest(b"{}", "application/json"))
    with pytest.raises(BadInput, match="missing form parts: annotations") as missing:
        await desc.from_http(form(files={"image": ("x.png", png_bytes(), "image/png")}))
    assert missing.value.detail == {"missing": ["annotations"]}
    with pytest.raises(BadInput, match=r"part 'annotations': request body is not valid JSON"):
        await desc.from_http(
            form(files={"image": ("x.png", png_bytes(), "image/png")}, data={"annotations": "{nope"})
        )
    with pytest.raises(BadInput, match=r"part 'image': request body is not an image"):
        await desc.from_http(
            form(files={"image": ("x.png", b"text", "image/png")}, data={"annotations": "{}"})
        )


def test_multipart_build_errors():
    with pytest.raises(BuildError, match="needs at least one field"):
        Multipart()
    with pytest.raises(BuildError, match="cannot contain another Multipart"):
        Multipart(inner=Multipart(a=JSON()))
    with pytest.raises(BuildError, match="field 'a' must be an IO descriptor"):
        Multipart(a=JSON)
    with pytest.raises(BuildError, match=r"Multipart.from_sample\(\) is not supported"):
        Multipart.from_sample({"a": 1})


def test_multipart_output():
    desc = Multipart(output=NumpyNdarray(), result=JSON(), image=Image(mime_type="image/png"))
    response = desc.to_http(
        {"output": np.array([1, 2]), "result": {"foo": "bar"}, "image": PILImage.new("RGB", (2, 2))}
    )
    parts = read_parts(response)
    assert parts["output"] == ("application/json", b"[1,2]")
    assert parts["result"] == ("application/json", b'{"foo":"bar"}')
    assert parts["image"][0] == "image/png" and PILImage.open(io.BytesIO(parts["image"][1])).size == (2, 2)
    with pytest.raises(
        TypeError, match=r"needs a dict with the keys \['image', 'output', 'result'\], got \['output'\]"
    ):
        desc.to_http({"output": np.array([1])})
    with pytest.raises(TypeError, match="got list"):
        desc.to_http([1])


def test_multipart_openapi():
    desc = Multipart(
        arr=NumpyNdarray(dtype="float32", shape=(-1, 2)), meta=JSON(example={"k": 1}), image=Image()
    )
    ((media_type, media),) = desc.openapi_request_content().items()
    assert media_type == "multipart/form-data"
    assert media["schema"]["required"] == ["arr", "meta", "image"]
    assert media["schema"]["properties"]["image"] == {"type": "string", "format": "binary"}
    assert media["example"] == {"arr": [[0.0, 0.0]], "meta": {"k": 1}}  # no example for the binary part
    assert media["encoding"]["image"] == {"contentType": "image/jpeg"}
    assert repr(desc).startswith("Multipart(arr=NumpyNdarray(")


SERVICE = textwrap.dedent(
    """
    import bentotui as bentoml
    from bentotui.io import JSON, Image, Multipart, NumpyNdarray

    svc = bentoml.Service(name="multipart-demo")


    @svc.api(
        input=Multipart(arr=NumpyNdarray(dtype="float32"), annotations=JSON(), image=Image()),
        output=Multipart(output=NumpyNdarray(), result=JSON()),
    )
    async def predict(arr, annotations, image):
        return {"output": arr * 2, "result": {**annotations, "size": list(image.size)}}


    @svc.api(input=Multipart(meta=JSON()), output=JSON())
    def echo(meta):
        return meta
    """
)


def test_multipart_served(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    with serve("service:svc", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        files = {
            "image": ("x.png", png_bytes((5, 2)), "image/png"),
            "annotations": ("a.json", b'{"k": 1}', "application/json"),
        }
        r = client.post("/predict", files=files, data={"arr": "[1, 2, 3]"})
        assert r.status_code == 200, r.text
        parts = read_parts(HTTPResponse(r.content, r.headers["content-type"]))
        assert json.loads(parts["output"][1]) == [2.0, 4.0, 6.0]
        assert json.loads(parts["result"][1]) == {"k": 1, "size": [5, 2]}

        r = client.post("/predict", files={"image": files["image"]}, data={"arr": "[1]"})
        assert r.status_code == 400 and r.json()["error"] == "missing form parts: annotations"
        r = client.post("/predict", files=files, data={"arr": "[[1], [2, 3]]"})
        assert r.status_code == 400 and r.json()["error"].startswith("part 'arr': ")
        r = client.post("/echo", json={"meta": 1})
        assert r.status_code == 400 and "takes multipart/form-data with the parts meta" in r.json()["error"]
        r = client.post("/echo", files={"meta": (None, b'{"a": [1]}')})
        assert r.status_code == 200 and r.json() == {"a": [1]}

        docs = client.get("/docs.json").json()
        content = docs["paths"]["/predict"]["post"]["requestBody"]["content"]
        assert list(content) == ["multipart/form-data"]
        assert content["multipart/form-data"]["schema"]["required"] == ["arr", "annotations", "image"]
