"""``File`` and ``Image``: raw bodies and multipart/form-data uploads."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image as PILImage

from bentotui.exceptions import BadInput
from bentotui.io import File, FileObject, HTTPRequest, Image


def multipart(**files: tuple[str, bytes, str]) -> HTTPRequest:
    """A real multipart/form-data body, encoded by httpx the way a client sends it."""
    request = httpx.Request("POST", "http://127.0.0.1/upload", files=files)
    return HTTPRequest(request.read(), request.headers["content-type"], dict(request.headers))


def png_bytes(mode: str = "RGB", size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    PILImage.new(mode, size, color=(200, 10, 10) if mode == "RGB" else 128).save(out, format="PNG")
    return out.getvalue()


async def test_file_raw_body():
    req = HTTPRequest(b"%PDF-1.4", "application/pdf", {"content-disposition": 'attachment; filename="a.pdf"'})
    upload = await File().from_http(req)
    assert isinstance(upload, FileObject)
    assert (upload.read(), upload.name, upload.content_type) == (b"%PDF-1.4", "a.pdf", "application/pdf")
    anonymous = await File().from_http(HTTPRequest(b"x", ""))
    assert anonymous.name is None and anonymous.content_type == "application/octet-stream"


async def test_file_multipart():
    upload = await File().from_http(multipart(file=("notes.txt", b"hello", "text/plain")))
    assert (upload.read(), upload.name, upload.content_type) == (b"hello", "notes.txt", "text/plain")


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (HTTPRequest(b"", "application/octet-stream"), "request body is empty; expected a file"),
        (HTTPRequest(b"--x\r\n", "multipart/form-data"), "without a boundary"),
        (
            HTTPRequest(
                b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nno end',
                "multipart/form-data; boundary=b",
            ),
            "malformed multipart/form-data body",
        ),
    ],
)
async def test_file_errors(req, message):
    with pytest.raises(BadInput, match=message):
        await File().from_http(req)


async def test_multipart_needs_exactly_one_file():
    two = multipart(a=("a.txt", b"a", "text/plain"), b=("b.txt", b"b", "text/plain"))
    with pytest.raises(BadInput, match="expected exactly one file in the multipart/form-data body, got 2"):
        await File().from_http(two)
    fields_only = HTTPRequest(
        b'--b\r\nContent-Disposition: form-data; name="field"\r\n\r\nv\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
    )
    with pytest.raises(BadInput, match="got 0"):
        await File().from_http(fields_only)


def test_file_output(tmp_path):
    desc = File(mime_type="application/pdf")
    assert (desc.to_http(b"abc").body, desc.to_http(b"abc").content_type) == (b"abc", "application/pdf")
    path = tmp_path / "out.bin"
    path.write_bytes(b"from disk")
    assert File().to_http(path).body == b"from disk"
    assert File().to_http(str(path)).body == b"from disk"
    resp = File().to_http(FileObject(b"obj", "x.txt", "text/plain"))
    assert (resp.body, resp.content_type) == (b"obj", "text/plain")
    with pytest.raises(TypeError, match="needs bytes, a file object or a path"):
        File().to_http(42)


def test_file_openapi():
    content = File(mime_type="application/pdf").openapi_request_content()
    assert list(content) == ["application/pdf", "multipart/form-data"]
    assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert File().media_type == "application/octet-stream"


async def test_image_raw_and_multipart():
    image = await Image().from_http(HTTPRequest(png_bytes(), "image/png"))
    assert image.size == (4, 3) and image.mode == "RGB"
    gray = await Image(pilmode="L").from_http(multipart(image=("x.png", png_bytes(), "image/png")))
    assert gray.mode == "L"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"this is text", r"not an image Pillow can read \(sent as image/png\)"),
        (png_bytes(size=(64, 64))[:60], "broken or oversized image"),
    ],
)
async def test_image_errors(body, message):
    with pytest.raises(BadInput, match=message):
        await Image().from_http(HTTPRequest(body, "image/png"))


async def test_image_decompression_bomb(monkeypatch):
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(BadInput, match="broken or oversized image"):
        await Image().from_http(HTTPRequest(png_bytes(size=(10, 10)), "image/png"))


@pytest.mark.parametrize(("mime_type", "magic"), [("image/png", b"\x89PNG"), ("image/jpeg", b"\xff\xd8")])
def test_image_output(mime_type, magic):
    desc = Image(mime_type=mime_type)
    rgba = PILImage.new("RGBA", (3, 3))
    resp = desc.to_http(rgba)
    assert resp.body.startswith(magic) and resp.content_type == mime_type
    from_array = desc.to_http(np.zeros((2, 2, 3), dtype=np.uint8))
    assert PILImage.open(io.BytesIO(from_array.body)).size == (2, 2)


def test_image_options():
    with pytest.raises(ValueError, match="mime_type must be one of"):
        Image(mime_type="image/tiff")
    assert list(Image().openapi_request_content()) == ["image/*", "multipart/form-data"]
    assert Image().openapi_example() is None
