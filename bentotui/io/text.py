"""``Text``: the body is a string (the seed's ``classify`` API).

Also home of :func:`decode_charset`, the one place a request's ``charset`` parameter becomes a
codec: the JSON descriptors use it too when a client declares a charset other than UTF-8.
"""

from __future__ import annotations

import codecs
from http import HTTPStatus
from typing import Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, content_type_param


class Text(IODescriptor):
    """Plain text in and out, decoded with the request's charset (UTF-8 by default).

    No content-type check: ``curl -d`` sends ``application/x-www-form-urlencoded`` and the text is
    still what the user meant.
    """

    media_type = "text/plain"

    def __init__(self, example: str | None = None) -> None:
        super().__init__("Hello, world!" if example is None else example)

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        if isinstance(sample, bytes):
            try:
                sample = sample.decode()
            except UnicodeDecodeError as exc:
                raise BuildError(f"Text.from_sample(): the sample is not UTF-8 text: {exc}") from None
        if not isinstance(sample, str):
            raise BuildError(f"Text.from_sample() needs a str or bytes, got {type(sample).__name__}")
        return {"example": sample}

    async def from_http(self, req: HTTPRequest) -> str:
        return decode_charset(req.body, content_type_param(req.content_type, "charset") or "utf-8")

    def to_http(self, value: Any) -> HTTPResponse:
        if not isinstance(value, str):
            raise TypeError(f"a Text() output needs a str, the API returned {type(value).__name__}")
        return HTTPResponse(value.encode(), "text/plain; charset=utf-8")

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "string"}


#: Python text codecs that are no character set a client could mean: a placeholder that always
#: fails (``undefined``), DNS label encodings whose decoders are quadratic on long inputs
#: (``punycode``, ``idna``) and escape-sequence interpreters (``\x41`` becomes ``A``).
_NOT_CHARSETS = frozenset({"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"})


def decode_charset(body: bytes, charset: str) -> str:
    """``body`` decoded as ``charset``; a 415 naming a charset we do not read, a 400 for bad bytes.

    Python's codec registry holds more than character sets (``base64``, ``zlib``, ``punycode``...),
    and a charset a client declares must never pick one of those: a byte codec is refused by
    ``bytes.decode`` itself (``LookupError``), the text codecs that are not charsets by name.
    """
    name = charset if charset == "utf-8" else _codec_name(charset)  # the default skips the lookup
    try:
        return body.decode(name)
    except LookupError:  # a bytes-to-bytes codec (base64, zlib, rot13)
        raise _unsupported(charset, "not a text encoding") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"request body is not valid {charset} text: {exc.reason} at byte {exc.start}") from None


def _codec_name(charset: str) -> str:
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        raise _unsupported(charset, "unknown charset") from None
    if name in _NOT_CHARSETS:
        raise _unsupported(charset, "not a character set")
    return name


def _unsupported(charset: str, why: str) -> BadInput:
    return BadInput(
        f"{why} {charset!r} in the content type; send UTF-8 text",
        detail={"charset": charset},
        error_code=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    )
