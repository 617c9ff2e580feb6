"""The seam between the HTTP server and the IO descriptors.

The server turns each request into an :class:`HTTPRequest` and writes each :class:`HTTPResponse`
out; descriptors see nothing else.  Keeping these two plain classes here is what lets ``io`` stay
free of Quart (and lets tests drive descriptors without a server).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+


class HTTPRequest:
    """What a descriptor may read from a request: the whole body, its content type, the headers."""

    __slots__ = ("body", "content_type", "headers")

    def __init__(self, body: bytes, content_type: str = "", headers: Mapping[str, str] | None = None) -> None:
        self.body = body
        self.content_type = content_type or ""
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased (``""`` when none was sent)."""
        return media_type_of(self.content_type)

    def __repr__(self) -> str:
        return f"HTTPRequest({len(self.body)} bytes, content_type={self.content_type!r})"


class HTTPResponse:
    """A response body ready to write: descriptors encode, the server adds its own headers."""

    __slots__ = ("body", "content_type", "status", "headers")

    def __init__(
        self,
        body: bytes,
        content_type: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.status = status
        self.headers: dict[str, str] = dict(headers) if headers else {}

    def __repr__(self) -> str:
        return f"HTTPResponse({self.status}, {len(self.body)} bytes, content_type={self.content_type!r})"


def media_type_of(content_type: str) -> str:
    """``"Text/Plain; charset=utf-8"`` -> ``"text/plain"``: cheap enough for every request."""
    return content_type.split(";", 1)[0].strip().lower()


def content_type_param(content_type: str, name: str) -> str | None:
    """One parameter of a content type (``charset``, ``boundary``), unquoted, or None."""
    for part in content_type.split(";")[1:]:
        key, sep, value = part.partition("=")
        if sep and key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def require_body(req: HTTPRequest, what: str) -> bytes:
    """The body, or a 400 that says an empty body is not ``what`` (clearer than a parse error)."""
    if not req.body:
        raise BadInput(f"request body is empty; expected {what}")
    return req.body


class IODescriptor(ABC):
    """How one API turns a request into a Python value and its result into a response.

    ``media_type`` is the preferred request/response content type; ``example`` (constructor
    argument of every descriptor, like BentoML's) is what ``/docs.json`` shows and the TUI
    pre-fills.  Subclasses keep per-request work to the minimum: the serving path calls
    :meth:`from_http` and :meth:`to_http` once per request.
    """

    media_type: str = "application/octet-stream"

    def __init__(self, example: Any = None) -> None:
        self._example = example

    @classmethod
    def from_sample(cls, sample: Any, **options: Any) -> Self:
        """BentoML's ``Descriptor.from_sample(sample, **options)``: what a real input tells (dtype,
        shape, model class, media type) fills the options not given, and the sample becomes the
        ``/docs.json`` example.  A sample the descriptor cannot read is a ``BuildError``."""
        return cls(**{**cls._sample_options(sample), **options})

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        """The constructor options ``sample`` implies, ``example`` included (one per descriptor)."""
        raise BuildError(
            f"{cls.__name__}.from_sample() is not supported; pass the options to {cls.__name__}()"
        )

    @property
    def sample(self) -> Any:
        """The example given (or taken from :meth:`from_sample`), as BentoML names it."""
        return self._example

    @abstractmethod
    async def from_http(self, req: HTTPRequest) -> Any:
        """Decode a request into the value the API function receives; ``BadInput`` when it cannot."""

    @abstractmethod
    def to_http(self, value: Any) -> HTTPResponse:
        """Encode the API function's result."""

    @abstractmethod
    def openapi_schema(self) -> dict[str, Any]:
        """JSON schema of the body in :attr:`media_type` (requests and responses alike)."""

    def openapi_example(self) -> Any:
        """A JSON-compatible example body (or None for binary bodies)."""
        return self._example

    def openapi_components(self) -> dict[str, dict[str, Any]]:
        """Named schemas that :meth:`openapi_schema` refers to (``#/components/schemas/...``)."""
        return {}

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI ``requestBody.content`` map, the preferred media type first."""
        return {self.media_type: openapi_media(self.openapi_schema(), self.openapi_example())}

    def openapi_response_content(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI ``content`` map of a 200 response."""
        return {self.media_type: {"schema": self.openapi_schema()}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def openapi_media(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    """An OpenAPI media type object; the example is left out when there is none."""
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return media
