"""``Text``."""

from __future__ import annotations

import pytest

from bentotui.exceptions import BadInput
from bentotui.io import HTTPRequest, Text
from bentotui.io.text import decode_charset


async def test_text_decodes_utf8_whatever_the_content_type():
    text = Text()
    assert await text.from_http(HTTPRequest("héllo".encode(), "application/x-www-form-urlencoded")) == "héllo"
    assert await text.from_http(HTTPRequest(b"", "")) == ""


async def test_text_honours_charset():
    req = HTTPRequest("café".encode("latin-1"), "text/plain; charset=latin-1")
    assert await Text().from_http(req) == "café"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"\xff\xfe\x00bad",
            "text/plain",
            "request body is not valid utf-8 text: invalid start byte at byte 0",
        ),
        (b"x", "text/plain; charset=klingon", "unknown charset 'klingon'"),
    ],
)
async def test_text_errors(body, content_type, message):
    with pytest.raises(BadInput, match=message):
        await Text().from_http(HTTPRequest(body, content_type))


def test_text_output_and_schema():
    resp = Text().to_http("ok ✓")
    assert resp.body == "ok ✓".encode() and resp.content_type == "text/plain; charset=utf-8"
    assert Text().openapi_schema() == {"type": "string"}
    assert Text(example="Great movie!").openapi_example() == "Great movie!"
    assert Text().openapi_request_content()["text/plain"]["example"]


def test_text_output_rejects_non_strings():
    with pytest.raises(TypeError, match="needs a str, the API returned dict"):
        Text().to_http({"a": 1})


@pytest.mark.parametrize(
    ("charset", "why"),
    [
        ("undefined", "not a character set"),  # base UnicodeError without a position: was a 500
        ("punycode", "not a character set"),
        ("IDNA", "not a character set"),
        ("raw_unicode_escape", "not a character set"),
        ("zlib", "not a text encoding"),
        ("rot13", "not a text encoding"),
        ("klingon", "unknown charset"),
    ],
)
async def test_charsets_that_are_no_text_charset_are_415(charset, why):
    with pytest.raises(BadInput) as info:
        await Text().from_http(HTTPRequest(b"\\x", f"text/plain; charset={charset}"))
    assert info.value.http_status == 415
    assert info.value.message == f"{why} {charset!r} in the content type; send UTF-8 text"
    assert info.value.detail == {"charset": charset}


async def test_bytes_invalid_in_the_declared_charset_are_400():
    with pytest.raises(BadInput, match="^request body is not valid utf-16 text: truncated data at byte 0$") as info:
        await Text().from_http(HTTPRequest(b"\xff", "text/plain; charset=utf-16"))
    assert info.value.http_status == 400
    assert decode_charset("é".encode("utf-16"), "UTF-16") == "é"
