"""``Text``: the body is a string (the seed's ``classify`` API)."""

from __future__ import annotations

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
        charset = content_type_param(req.content_type, "charset") or "utf-8"
        try:
            return req.body.decode(charset)
        except LookupError:
            raise BadInput(f"unknown charset {charset!r} in the content type") from None
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"request body is not valid {charset} text: {exc.reason} at byte {exc.start}"
            ) from None

    def to_http(self, value: Any) -> HTTPResponse:
        if not isinstance(value, str):
            raise TypeError(f"a Text() output needs a str, the API returned {type(value).__name__}")
        return HTTPResponse(value.encode(), "text/plain; charset=utf-8")

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "string"}
