"""Typed method parameters of ``@service`` classes -> a pydantic request model, and return type -> output.

pydantic already validates str, int, dict, lists and user models and names the bad field in its
errors; what it does not know are numpy arrays and pandas DataFrames, which 1.2 services take as
parameters.  They get an ``Annotated`` stand-in that converts the JSON value after validation (a
conversion failure is a validation error, so still a 400 naming the parameter) and a JSON schema
for ``/docs.json``.  numpy and pandas are imported only when a signature uses them.  A method with
``pathlib.Path`` or ``PIL.Image.Image`` parameters takes ``multipart/form-data`` instead
(:class:`FormParams`), as BentoML 1.2 clients send files.
"""

from __future__ import annotations

import inspect
import io
import json
import tempfile
import types
import typing
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, content_type_param

if TYPE_CHECKING:
    from pydantic import BaseModel


def _qualified(annotation: Any) -> str:
    return f"{getattr(annotation, '__module__', '')}.{getattr(annotation, '__qualname__', '')}"


def _to_array(value: Any) -> Any:
    import numpy as np

    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"not an array: {exc}") from None
    if array.dtype.kind not in "biufc":
        raise ValueError("expected a numeric array (nested lists of numbers)")
    return array


def _to_frame(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return pd.DataFrame.from_records(value)
    if isinstance(value, dict) and all(isinstance(col, (list, dict)) for col in value.values()):
        return pd.DataFrame(value)
    raise ValueError("expected a DataFrame as a list of records or an object of columns")


def _special(annotation: Any) -> Any:
    """The pydantic-ready stand-in for numpy/pandas annotations, or None for everything else."""
    from pydantic import AfterValidator, WithJsonSchema

    name = _qualified(annotation)
    if name == "numpy.ndarray":
        return Annotated[Any, AfterValidator(_to_array), WithJsonSchema({"type": "array", "items": {}})]
    if name == "pandas.DataFrame" or name == "pandas.core.frame.DataFrame":
        return Annotated[
            Any, AfterValidator(_to_frame), WithJsonSchema({"type": "array", "items": {"type": "object"}})
        ]
    return None


def file_kind(annotation: Any) -> str | None:
    """``"image"`` for ``PIL.Image.Image``, ``"path"`` for ``pathlib.Path``, else None."""
    name = _qualified(annotation)
    if name == "PIL.Image.Image":
        return "image"
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return "path"
    return None


def _pydantic_type(annotation: Any) -> Any:
    """``annotation`` with numpy/pandas types replaced, inside ``X | None`` and ``Annotated`` too."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:  # keep the user's constraints unless the base type needs a stand-in
        base = typing.get_args(annotation)[0]
        converted = _pydantic_type(base)
        return annotation if converted is base else converted
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_pydantic_type(arg) for arg in typing.get_args(annotation))]  # noqa: UP007
    return _special(annotation) or annotation


def input_descriptor(model_name: str, params: list[inspect.Parameter], hints: dict[str, Any]) -> IODescriptor:
    """JSON mapping parameter names to values, or multipart/form-data when a parameter is a file."""
    from bentotui.io import JSON

    files = {p.name: kind for p in params if (kind := file_kind(hints.get(p.name)))}
    model = _input_model(model_name, [p for p in params if p.name not in files], hints)
    return FormParams(JSON(pydantic_model=model), files) if files else JSON(pydantic_model=model)


def _input_model(model_name: str, params: list[inspect.Parameter], hints: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model with one field per parameter (defaults kept, unknown fields refused)."""
    from pydantic import ConfigDict, create_model

    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise BuildError(f"{model_name}: *{param.name} parameters cannot be mapped from a request body")
        annotation = _pydantic_type(hints.get(param.name, Any))
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model: type[BaseModel] = create_model(
        model_name, __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **fields
    )
    return model


def output_descriptor(annotation: Any) -> IODescriptor:
    """``-> str`` answers text/plain, ``-> PIL.Image.Image`` an image and ``-> Path`` the file, as
    in BentoML 1.2; every other result is JSON."""
    from bentotui.io import JSON, File, Image, Text

    if annotation is str:
        return Text()
    kind = file_kind(annotation)
    if kind == "image":
        return Image(mime_type="image/png")
    return File() if kind == "path" else JSON()


class FormParams(IODescriptor):
    """``multipart/form-data`` for methods with file parameters, as BentoML 1.2 clients send them.

    One part per parameter: file parts for ``Path`` (saved to a temporary file, which
    :func:`remove_uploads` deletes after the call) and ``PIL.Image.Image`` (decoded by
    :class:`bentotui.io.Image`, so a broken image is a 400), text parts for the others, read as
    JSON when they parse and validated by the same request model as JSON bodies.
    """

    media_type = "multipart/form-data"

    def __init__(self, fields: Any, files: dict[str, str]) -> None:
        super().__init__()
        self.fields = fields
        self.files = files

    async def from_http(self, req: HTTPRequest) -> dict[str, Any]:
        from werkzeug.formparser import MultiPartParser

        boundary = content_type_param(req.content_type, "boundary")
        if req.media_type != "multipart/form-data" or not boundary:
            raise BadInput(f"this API takes files ({', '.join(self.files)}): send multipart/form-data")
        try:
            form, uploads = MultiPartParser(max_form_parts=100).parse(
                io.BytesIO(req.body), boundary.encode("latin-1"), len(req.body)
            )
        except ValueError as exc:
            raise BadInput(f"malformed multipart/form-data body: {exc}") from None
        body = json.dumps({key: _form_value(value) for key, value in form.items()}).encode()
        values = dict(await self.fields.from_http(HTTPRequest(body, "application/json")))
        try:
            for name, kind in self.files.items():
                upload = uploads.get(name)
                if upload is None:
                    raise BadInput(f"body.{name}: missing file part {name!r}")
                values[name] = await _file_value(name, kind, upload.read(), upload.mimetype or "")
        except BaseException:
            remove_uploads(values, self.files)
            raise
        return values

    def to_http(self, value: Any) -> HTTPResponse:
        raise TypeError("FormParams only decodes requests")

    def openapi_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {name: {"type": "string", "format": "binary"} for name in self.files}
        properties.update(self.fields.pydantic_model.model_json_schema().get("properties", {}))
        return {"type": "object", "properties": properties, "required": list(self.files)}


def _form_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def _file_value(name: str, kind: str, data: bytes, content_type: str) -> Any:
    if kind == "image":
        from bentotui.io import Image

        try:
            return await Image().from_http(HTTPRequest(data, content_type))
        except BadInput as exc:
            raise BadInput(f"body.{name}: {exc.message}") from None
    with tempfile.NamedTemporaryFile(prefix="bentotui-upload-", delete=False) as fh:
        fh.write(data)
    return Path(fh.name)


def remove_uploads(values: dict[str, Any], files: dict[str, str]) -> None:
    """Delete the temporary files of ``Path`` parameters once the call is over."""
    for name, kind in files.items():
        if kind == "path" and isinstance(values.get(name), Path):
            values[name].unlink(missing_ok=True)
