"""``multipart/form-data``: the one parser and encoder of form bodies, and ``Multipart(**fields)``.

Every descriptor that reads a form (``File``/``Image`` uploads, the file parameters of 1.2 typed
APIs, ``Multipart``) goes through :func:`parse_form`, so the limits on an untrusted form (its
size is already bounded by the server's body limit; at most :data:`MAX_PARTS` parts) live in one
place.  Parsing uses Werkzeug's sans-io decoder, encoding httpx's form encoder: both are imported
when a form is actually read or written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bentotui.exceptions import BadInput, BuildError, PayloadTooLarge
from bentotui.io.base import (
    HTTPRequest,
    HTTPResponse,
    IODescriptor,
    content_type_param,
    openapi_media,
)

MULTIPART = "multipart/form-data"
# More parts than any real form has; each part costs a dict entry and a decode, so cap them.
MAX_PARTS = 100


@dataclass(frozen=True)
class FormPart:
    """One part of a form: its name, raw bytes, content type (``""`` for a plain field) and headers."""

    name: str
    data: bytes
    content_type: str = ""
    filename: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_request(self) -> HTTPRequest:
        """The part seen as a request of its own, so any descriptor can decode it."""
        return HTTPRequest(self.data, self.content_type, self.headers)

    def text(self) -> str:
        """The part as text (form fields are UTF-8 unless their content type says otherwise)."""
        charset = content_type_param(self.content_type, "charset") or "utf-8"
        try:
            return self.data.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc:
            raise BadInput(f"form field {self.name!r} is not valid {charset} text: {exc}") from None


def parse_form(req: HTTPRequest) -> dict[str, FormPart]:
    """The parts of a ``multipart/form-data`` body by name (the first part of a repeated name wins).

    A body without a boundary, a truncated or malformed one is a 400; more than
    :data:`MAX_PARTS` parts a 413.
    """
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

    boundary = content_type_param(req.content_type, "boundary")
    if not boundary:
        raise BadInput("multipart/form-data request without a boundary in its content type")
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_parts=MAX_PARTS)
    parts: dict[str, FormPart] = {}
    current: Field | File | None = None
    chunks: list[bytes] = []
    try:
        decoder.receive_data(req.body)
        decoder.receive_data(None)
        while not isinstance(event := decoder.next_event(), Epilogue):
            if isinstance(event, NeedData):  # cannot happen once the decoder has the whole body
                raise ValueError("unexpected end of body")
            if isinstance(event, (Field, File)):
                current, chunks = event, []
            elif isinstance(event, Data) and current is not None:
                chunks.append(event.data)
                if not event.more_data and current.name not in parts:
                    headers = {key.lower(): value for key, value in current.headers.items()}
                    filename = current.filename if isinstance(current, File) else None
                    parts[current.name] = FormPart(
                        current.name, b"".join(chunks), headers.get("content-type", ""), filename, headers
                    )
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"multipart/form-data body has more than {MAX_PARTS} parts") from None
    except ValueError as exc:
        raise BadInput(f"malformed multipart/form-data body: {exc}") from None
    return parts


def encode_form(parts: list[FormPart]) -> HTTPResponse:
    """A ``multipart/form-data`` response body with one part per entry, each with its content type."""
    import httpx

    files = {part.name: (part.filename, part.data, part.content_type or None) for part in parts}
    request = httpx.Request("POST", "http://localhost/", files=files)
    return HTTPResponse(request.read(), request.headers["content-type"])


class Multipart(IODescriptor):
    """BentoML 1.x's ``Multipart(image=Image(), annotations=JSON())``: a form whose named parts are
    decoded by the given descriptors; the API function receives them as keyword arguments.

    Parts the descriptors do not name are ignored, as in BentoML; a missing part is a 400 naming
    it, and a part a descriptor refuses is that descriptor's 400 prefixed with the part's name.  As
    an output, the function returns a dict with one value per field and each part is encoded by its
    descriptor.
    """

    media_type = MULTIPART

    def __init__(self, **fields: IODescriptor) -> None:
        if not fields:
            raise BuildError(
                "Multipart() needs at least one field, e.g. Multipart(image=Image(), meta=JSON())"
            )
        for name, descriptor in fields.items():
            if isinstance(descriptor, Multipart):
                raise BuildError(f"Multipart field {name!r}: a Multipart cannot contain another Multipart")
            if not isinstance(descriptor, IODescriptor):
                raise BuildError(
                    f"Multipart field {name!r} must be an IO descriptor such as bentotui.io.JSON(), got {descriptor!r}"
                )
        super().__init__()
        self.fields = fields

    async def from_http(self, req: HTTPRequest) -> dict[str, Any]:
        if req.media_type != MULTIPART:
            raise BadInput(
                f"this API takes multipart/form-data with the parts {', '.join(self.fields)}; "
                f"got {req.media_type or 'no content type'}"
            )
        parts = parse_form(req)
        missing = [name for name in self.fields if name not in parts]
        if missing:
            raise BadInput(f"missing form parts: {', '.join(missing)}", detail={"missing": missing})
        values: dict[str, Any] = {}
        for name, descriptor in self.fields.items():
            try:
                values[name] = await descriptor.from_http(parts[name].as_request())
            except BadInput as exc:
                raise BadInput(f"part {name!r}: {exc.message}", detail=exc.detail) from None
        return values

    def to_http(self, value: Any) -> HTTPResponse:
        if not isinstance(value, dict) or set(value) != set(self.fields):
            got = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise TypeError(f"a Multipart output needs a dict with the keys {sorted(self.fields)}, got {got}")
        parts = []
        for name, descriptor in self.fields.items():
            response = descriptor.to_http(value[name])
            parts.append(FormPart(name, response.body, response.content_type))
        return encode_form(parts)

    def openapi_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: d.openapi_schema() for name, d in self.fields.items()},
            "required": list(self.fields),
        }

    def openapi_example(self) -> Any:
        examples = {name: d.openapi_example() for name, d in self.fields.items()}
        return {name: example for name, example in examples.items() if example is not None}

    def openapi_components(self) -> dict[str, dict[str, Any]]:
        components: dict[str, dict[str, Any]] = {}
        for descriptor in self.fields.values():
            components.update(descriptor.openapi_components())
        return components

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        media = openapi_media(self.openapi_schema(), self.openapi_example())
        media["encoding"] = {name: {"contentType": d.media_type} for name, d in self.fields.items()}
        return {MULTIPART: media}

    def __repr__(self) -> str:
        return f"Multipart({', '.join(f'{name}={d!r}' for name, d in self.fields.items())})"
