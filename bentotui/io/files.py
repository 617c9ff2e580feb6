"""``File`` and ``Image``: a raw body or one file in a ``multipart/form-data`` upload."""

from __future__ import annotations

import io
import mimetypes
import os
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io.base import (
    HTTPRequest,
    HTTPResponse,
    IODescriptor,
    content_type_param,
    openapi_media,
)
from bentotui.io.multipart import MULTIPART, parse_form

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
    if kind == MULTIPART:
        uploads = [part for part in parse_form(req).values() if part.filename is not None]
        if len(uploads) != 1:
            raise BadInput(f"expected exactly one file in the multipart/form-data body, got {len(uploads)}")
        (upload,) = uploads
        return FileObject(upload.data, upload.filename, upload.content_type or "application/octet-stream")
    if not req.body:
        raise BadInput("request body is empty; expected a file")
    return FileObject(req.body, _disposition_filename(req.headers), kind or "application/octet-stream")


def _disposition_filename(headers: Any) -> str | None:
    disposition = headers.get("content-disposition") or headers.get("Content-Disposition")
    return content_type_param(disposition, "filename") if disposition else None


def _file_content(mime_type: str | None, example: Any) -> dict[str, dict[str, Any]]:
    return {
        mime_type or "application/octet-stream": openapi_media(_BINARY, example),
        MULTIPART: {"schema": _MULTIPART},
    }


class File(IODescriptor):
    """Any file.  The API receives a :class:`FileObject`; it may return bytes, a file object,
    or a path, sent back as ``mime_type`` (or the file object's own content type).
    """

    def __init__(self, mime_type: str | None = None, example: Any = None) -> None:
        super().__init__(example)
        self.mime_type = mime_type
        self.media_type = mime_type or "application/octet-stream"

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        """The media type guessed from the sample's file name (a path or an open file); the
        bytes are not an example, as ``/docs.json`` cannot hold binary."""
        if isinstance(sample, (str, os.PathLike)):
            if not os.path.isfile(sample):
                raise BuildError(f"File.from_sample(): no file at {os.fspath(sample)!r}")
            name = os.fspath(sample)
        elif isinstance(sample, (bytes, bytearray)) or hasattr(sample, "read"):
            name = getattr(sample, "name", None)
        else:
            raise BuildError(
                f"File.from_sample() needs a path, bytes or a file object, got {type(sample).__name__}"
            )
        mime_type = mimetypes.guess_type(name)[0] if isinstance(name, str) else None
        return {"mime_type": mime_type} if mime_type else {}

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

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        """The media type of a sample image (a path, a PIL image or an array) when Pillow can
        both read it and write it back; the pixels are not an example, as ``/docs.json`` holds none."""
        from PIL import Image as PIL
        from PIL import UnidentifiedImageError

        if isinstance(sample, (str, os.PathLike)):
            try:
                with PIL.open(sample) as opened:
                    image_format = opened.format
            except (OSError, UnidentifiedImageError) as exc:
                raise BuildError(
                    f"Image.from_sample(): cannot read {os.fspath(sample)!r} as an image: {exc}"
                ) from None
        elif isinstance(sample, PIL.Image):
            image_format = sample.format
        elif hasattr(sample, "__array_interface__"):
            image_format = None
        else:
            raise BuildError(
                f"Image.from_sample() needs a path, a PIL image or an array, got {type(sample).__name__}"
            )
        mime_type = PIL.MIME.get(image_format or "")
        return {"mime_type": mime_type} if mime_type in _FORMATS else {}

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
