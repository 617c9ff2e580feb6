"""``File`` and ``Image``: a raw body or one file in a ``multipart/form-data`` upload."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput
from bentotui.io.base import (
    HTTPRequest,
    HTTPResponse,
    IODescriptor,
    content_type_param,
    openapi_media,
)

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

_BINARY = {"type": "string", "format": "binary"}
_MULTIPART = {"type": "object", "properties": {"file": _BINARY}, "required": ["file"]}


class FileObject(io.BytesIO):
    """An uploaded file: readable like an open file, with the ``name`` and ``content_type`` sent."""

    def __init__(self, data: bytes, name: str | None, content_type: str) -> None:
        super().__init__(data)
        self.name = name
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"FileObject(name={self.name!r}, content_type={self.content_type!r}, {self.getbuffer().nbytes} bytes)"


def read_upload(req: HTTPRequest) -> FileObject:
    """The one file a request carries: the raw body, or the single file part of a form upload."""
    kind = req.media_type
    if kind == "multipart/form-data":
        return _single_part(req)
    if not req.body:
        raise BadInput("request body is empty; expected a file")
    return FileObject(req.body, _disposition_filename(req.headers), kind or "application/octet-stream")


def _single_part(req: HTTPRequest) -> FileObject:
    from werkzeug.formparser import MultiPartParser

    boundary = content_type_param(req.content_type, "boundary")
    if not boundary:
        raise BadInput("multipart/form-data request without a boundary in its content type")
    try:
        _form, files = MultiPartParser(max_form_parts=100).parse(
            io.BytesIO(req.body), boundary.encode("latin-1"), len(req.body)
        )
    except ValueError as exc:
        raise BadInput(f"malformed multipart/form-data body: {exc}") from None
    uploads = list(files.items(multi=True))
    if len(uploads) != 1:
        raise BadInput(f"expected exactly one file in the multipart/form-data body, got {len(uploads)}")
    _field, upload = uploads[0]
    return FileObject(upload.read(), upload.filename, upload.mimetype or "application/octet-stream")


def _disposition_filename(headers: Any) -> str | None:
    disposition = headers.get("content-disposition") or headers.get("Content-Disposition")
    return content_type_param(disposition, "filename") if disposition else None


def _file_content(mime_type: str | None, example: Any) -> dict[str, dict[str, Any]]:
    return {
        mime_type or "application/octet-stream": openapi_media(_BINARY, example),
        "multipart/form-data": {"schema": _MULTIPART},
    }


class File(IODescriptor):
    """Any file.  The API receives a :class:`FileObject`; it may return bytes, a file object,
    or a path, sent back as ``mime_type`` (or the file object's own content type).
    """

    def __init__(self, mime_type: str | None = None, example: Any = None) -> None:
        super().__init__(example)
        self.mime_type = mime_type
        self.media_type = mime_type or "application/octet-stream"

    async def from_http(self, req: HTTPRequest) -> FileObject:
        return read_upload(req)

    def to_http(self, value: Any) -> HTTPResponse:
        content_type = self.mime_type or getattr(value, "content_type", None) or "application/octet-stream"
        if isinstance(value, (str, os.PathLike)):
            with open(value, "rb") as fh:
                return HTTPResponse(fh.read(), content_type)
        if hasattr(value, "read"):
            return HTTPResponse(value.read(), content_type)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return HTTPResponse(bytes(value), content_type)
        raise TypeError(
            f"a File() output needs bytes, a file object or a path, the API returned {type(value).__name__}"
        )

    def openapi_schema(self) -> dict[str, Any]:
        return dict(_BINARY)

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        return _file_content(self.mime_type, self.openapi_example())


# Pillow format names of the image types an Image() output can be sent as.
_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
}
# Modes JPEG cannot store; an RGB copy is sent instead.
_NOT_JPEG = frozenset({"RGBA", "LA", "P", "PA", "I", "F", "I;16"})


class Image(IODescriptor):
    """An image decoded with Pillow (``pilmode`` converts it, e.g. ``"RGB"``).

    The image is fully decoded on arrival so a truncated or fake file is a 400 here, not an
    exception inside the model.  Output: a PIL image or a numpy array, encoded as ``mime_type``.
    """

    def __init__(
        self, pilmode: str | None = None, mime_type: str = "image/jpeg", example: Any = None
    ) -> None:
        if mime_type not in _FORMATS:
            raise ValueError(f"mime_type must be one of {', '.join(_FORMATS)}; got {mime_type!r}")
        super().__init__(example)
        self.pilmode = pilmode
        self.mime_type = mime_type
        self.media_type = mime_type

    async def from_http(self, req: HTTPRequest) -> PILImage:
        from PIL import Image as PIL
        from PIL import UnidentifiedImageError

        upload = read_upload(req)
        try:
            image: PILImage = PIL.open(upload)
            image.load()
        except UnidentifiedImageError:
            raise BadInput(
                f"request body is not an image Pillow can read (sent as {upload.content_type})"
            ) from None
        except (OSError, SyntaxError, ValueError, PIL.DecompressionBombError) as exc:
            raise BadInput(f"request body is a broken or oversized image: {exc}") from None
        if self.pilmode is not None and image.mode != self.pilmode:
            image = image.convert(self.pilmode)
        return image

    def to_http(self, value: Any) -> HTTPResponse:
        from PIL import Image as PIL

        image = value if isinstance(value, PIL.Image) else PIL.fromarray(value)
        fmt = _FORMATS[self.mime_type]
        if fmt == "JPEG" and image.mode in _NOT_JPEG:
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=fmt)
        return HTTPResponse(out.getvalue(), self.mime_type)

    def openapi_schema(self) -> dict[str, Any]:
        return dict(_BINARY)

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        return _file_content("image/*", self.openapi_example())

    def __repr__(self) -> str:
        return f"Image(pilmode={self.pilmode!r}, mime_type={self.mime_type!r})"
