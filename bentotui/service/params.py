"""Typed method parameters of ``@service`` classes -> a pydantic request model, and return type -> output.

pydantic already validates str, int, dict, lists and user models (with ``Field``/``Gt`` constraints)
and names the bad field in its errors; what it does not know are numpy arrays, torch tensors and
pandas DataFrames, which 1.2 services take as parameters.  They get an ``Annotated`` stand-in that
converts the JSON value after validation, applying the :mod:`bentotui.validators` next to the type
(``Shape``, ``DType``, ``DataframeSchema``): a conversion failure is a validation error, so still a
400 naming the parameter and the rule, and the stand-in carries a JSON schema for ``/docs.json``.
numpy, pandas and torch are imported only when a signature uses them.  A method with
``pathlib.Path`` or ``PIL.Image.Image`` parameters takes ``multipart/form-data`` instead
(:class:`FormParams`), as BentoML 1.2 clients send files; ``ContentType`` restricts what they may be.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import json
import re
import tempfile
import types
import typing
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, media_type_of
from bentotui.io.multipart import MULTIPART, FormPart, parse_form
from bentotui.validators import ContentType, DataframeSchema, DType, Shape

if TYPE_CHECKING:
    from pydantic import BaseModel

_VALIDATORS = (Shape, DType, DataframeSchema, ContentType)
_FRAMES = frozenset({"pandas.DataFrame", "pandas.core.frame.DataFrame"})
# An upload's extension is kept on its temporary file (loaders often go by it); nothing else of
# the client's file name is.
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")
_PLACEHOLDER = {"number": 0.0, "integer": 0, "boolean": False, "string": ""}
_FRAME_FORMS = {
    None: "a list of records or an object of columns",
    "records": "a list of records (orient 'records')",
    "columns": "an object of columns (orient 'columns')",
}


def _qualified(annotation: Any) -> str:
    return f"{getattr(annotation, '__module__', '')}.{getattr(annotation, '__qualname__', '')}"


def _split(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, a, b]`` -> ``(T, [a, b])``; anything else -> ``(annotation, [])``."""
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, metadata
    return annotation, []


def _unalias(base: Any) -> Any:
    """``NDArray[np.float32]`` as the generic it stands for: on Python 3.12+ numpy declares
    ``NDArray`` with a ``type`` statement, so its origin is the alias, not ``np.ndarray``."""
    value = getattr(typing.get_origin(base), "__value__", None)
    if value is None:
        return base
    args = typing.get_args(base)
    try:
        return value[args] if args else value
    except TypeError:  # an alias without type parameters
        return value


def _tensor_framework(base: Any) -> str | None:
    """``"numpy"`` for ``np.ndarray`` (``NDArray[np.float32]`` too), ``"torch"`` for ``torch.Tensor``."""
    base = _unalias(base)
    name = _qualified(typing.get_origin(base) or base)
    return {"numpy.ndarray": "numpy", "torch.Tensor": "torch"}.get(name)


def _take(metadata: list[Any], kind: type, where: str) -> Any:
    """The one validator of ``kind`` among ``metadata`` (removed from it), or None."""
    found = [m for m in metadata if isinstance(m, kind)]
    if len(found) > 1:
        raise BuildError(f"{where}: more than one {kind.__name__}")
    for m in found:
        metadata.remove(m)
    return found[0] if found else None


def _annotated(validators: tuple[Any, ...], metadata: list[Any]) -> Any:
    """``Annotated[Any, *validators, *metadata]``: built from a tuple (star in a subscript is 3.11+)."""
    args = (Any, *validators, *metadata)
    return Annotated[args]  # a tuple value subscripts as its items do


# --- arrays and tensors ---------------------------------------------------------------------------


def _numpy_dtype(base: Any, dtype: DType | None, where: str) -> Any:
    """The dtype ``DType`` or ``NDArray[np.float32]`` asks for (None: whatever numbers were sent)."""
    import numpy as np

    names = []
    args = typing.get_args(_unalias(base))
    if len(args) == 2 and typing.get_args(args[1]):  # NDArray[np.float32] = ndarray[Any, dtype[float32]]
        names.append(typing.get_args(args[1])[0])
    if dtype is not None:
        names.append(dtype.dtype)
    try:
        dtypes = {np.dtype(name) for name in names if name is not typing.Any}
    except TypeError as exc:
        raise BuildError(f"{where}: {dtype} is not a numpy dtype: {exc}") from None
    if len(dtypes) > 1:
        raise BuildError(f"{where}: conflicting dtypes {sorted(map(str, dtypes))}")
    return dtypes.pop() if dtypes else None


def _torch_dtype(dtype: DType | None, where: str) -> Any:
    import torch

    if dtype is None:
        return None
    found = getattr(torch, dtype.dtype, None)
    if not isinstance(found, torch.dtype):
        raise BuildError(f"{where}: {dtype} is not a torch dtype (float32, int64, bool, ...)")
    return found


def _to_numpy(dtype: Any, shape: tuple[int, ...] | None, value: Any) -> Any:
    import numpy as np

    try:
        array = np.asarray(value, dtype=dtype)
    except (ValueError, TypeError) as exc:  # ragged lists, "a" as float32
        raise ValueError(f"not an array{f' of {dtype}' if dtype is not None else ''}: {exc}") from None
    if dtype is None and array.dtype.kind not in "biufc":
        raise ValueError("expected a numeric array (nested lists of numbers)")
    if shape is None:
        return array
    try:
        return array.reshape(shape)
    except ValueError:
        raise ValueError(f"an array of shape {array.shape} does not fit Shape({shape})") from None


def _to_torch(dtype: Any, shape: tuple[int, ...] | None, value: Any) -> Any:
    import torch

    try:
        tensor = torch.tensor(value, dtype=dtype)
    except (ValueError, TypeError, RuntimeError) as exc:  # ragged lists, strings
        raise ValueError(f"not a tensor{f' of {dtype}' if dtype is not None else ''}: {exc}") from None
    if shape is None:
        return tensor
    try:
        return tensor.reshape(shape)
    except RuntimeError:
        raise ValueError(f"a tensor of shape {tuple(tensor.shape)} does not fit Shape({shape})") from None


def _tensor_schema(dtype: Any, shape: tuple[int, ...] | None) -> dict[str, Any]:
    """Nested arrays, one per axis; a fixed shape also gets an example of that shape."""
    from bentotui.io.ndarray import array_schema, json_type_of

    item_type = json_type_of(str(dtype).removeprefix("torch.")) if dtype is not None else "number"
    schema = array_schema(item_type, shape if shape is not None else (-1,))
    if shape is not None:
        example: Any = _PLACEHOLDER.get(item_type or "number")
        for size in reversed(shape):
            example = [example] * max(size, 1)
        schema["examples"] = [example]
    return schema


def _tensor_field(framework: str, base: Any, metadata: list[Any], where: str) -> Any:
    from pydantic import AfterValidator, WithJsonSchema

    shape = _take(metadata, Shape, where)
    dims = shape.dimensions if shape is not None else None
    dtype = _take(metadata, DType, where)
    if framework == "numpy":
        resolved, convert = _numpy_dtype(base, dtype, where), _to_numpy
    else:
        resolved, convert = _torch_dtype(dtype, where), _to_torch
    validators = (
        AfterValidator(functools.partial(convert, resolved, dims)),
        WithJsonSchema(_tensor_schema(resolved, dims)),
    )
    return _annotated(validators, metadata)


# --- DataFrames -----------------------------------------------------------------------------------


def _to_frame(schema: DataframeSchema | None, value: Any) -> Any:
    import pandas as pd

    orient = schema.orient if schema is not None else None
    columns = list(schema.columns) if schema is not None and schema.columns else None
    try:
        if isinstance(value, list) and orient != "columns" and all(isinstance(row, dict) for row in value):
            frame = pd.DataFrame.from_records(value)
        elif isinstance(value, list) and columns and all(isinstance(row, list) for row in value):
            frame = pd.DataFrame(value, columns=columns)  # rows of values, named by the schema
        elif (
            isinstance(value, dict)
            and orient != "records"
            and all(isinstance(c, list | dict) for c in value.values())
        ):
            frame = pd.DataFrame(value)
        else:
            raise ValueError(f"expected a DataFrame as {_FRAME_FORMS[orient]}")
    except TypeError as exc:
        raise ValueError(f"not a table: {exc}") from None
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"missing columns {', '.join(missing)} (DataframeSchema columns: {', '.join(columns)})"
        )
    return frame[columns]


def _frame_schema(schema: DataframeSchema | None) -> dict[str, Any]:
    columns = list(schema.columns) if schema is not None and schema.columns else None
    if schema is not None and schema.orient == "columns":
        result: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "array"}}
        if columns:
            result.update(properties={c: {"type": "array"} for c in columns}, required=columns)
        return result
    row: dict[str, Any] = {"type": "object"}
    if columns:
        row.update(properties={c: {} for c in columns}, required=columns)
    return {"type": "array", "items": row}


def _frame_field(metadata: list[Any], where: str) -> Any:
    from pydantic import AfterValidator, WithJsonSchema

    schema = _take(metadata, DataframeSchema, where)
    return _annotated(
        (AfterValidator(functools.partial(_to_frame, schema)), WithJsonSchema(_frame_schema(schema))),
        metadata,
    )


# --- the request model ----------------------------------------------------------------------------


def file_kind(annotation: Any) -> str | None:
    """``"image"`` for ``PIL.Image.Image``, ``"path"`` for ``pathlib.Path`` (``Annotated`` too), else None."""
    base, _ = _split(annotation)
    if _qualified(base) == "PIL.Image.Image":
        return "image"
    if isinstance(base, type) and issubclass(base, PurePath):
        return "path"
    return None


def _refuse_misplaced(metadata: list[Any], where: str, base: Any) -> None:
    misplaced = [m for m in metadata if isinstance(m, _VALIDATORS)]
    if misplaced:
        names = ", ".join(sorted({type(m).__name__ for m in misplaced}))
        raise BuildError(
            f"{where}: {names} does not apply to {getattr(base, '__name__', base)!r} "
            "(Shape/DType: np.ndarray or torch.Tensor; DataframeSchema: pd.DataFrame; ContentType: Path or Image)"
        )


def _pydantic_type(annotation: Any, where: str) -> Any:
    """``annotation`` with numpy/torch/pandas types replaced, inside ``X | None`` and ``Annotated`` too."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.Union[tuple(_pydantic_type(arg, where) for arg in typing.get_args(annotation))]  # noqa: UP007
    base, metadata = _split(annotation)
    framework = _tensor_framework(base)
    if framework is not None:
        return _tensor_field(framework, base, metadata, where)
    if _qualified(base) in _FRAMES:
        return _frame_field(metadata, where)
    _refuse_misplaced(metadata, where, base)
    return annotation


def input_descriptor(model_name: str, params: list[inspect.Parameter], hints: dict[str, Any]) -> IODescriptor:
    """JSON mapping parameter names to values, or multipart/form-data when a parameter is a file."""
    from bentotui.io import JSON

    files: dict[str, str] = {}
    content_types: dict[str, str] = {}
    for param in params:
        annotation = hints.get(param.name)
        kind = file_kind(annotation)
        if kind is None:
            continue
        files[param.name] = kind
        base, metadata = _split(annotation)
        content_type = _take(metadata, ContentType, f"{model_name}.{param.name}")
        if content_type is not None:
            content_types[param.name] = content_type.content_type
        _refuse_misplaced(metadata, f"{model_name}.{param.name}", base)
    model = _input_model(model_name, [p for p in params if p.name not in files], hints)
    if files:
        return FormParams(JSON(pydantic_model=model), files, content_types)
    return JSON(pydantic_model=model)


def _input_model(model_name: str, params: list[inspect.Parameter], hints: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model with one field per parameter (defaults kept, unknown fields refused)."""
    from pydantic import ConfigDict, create_model

    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise BuildError(f"{model_name}: *{param.name} parameters cannot be mapped from a request body")
        annotation = _pydantic_type(hints.get(param.name, Any), f"{model_name}.{param.name}")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model: type[BaseModel] = create_model(
        model_name, __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **fields
    )
    return model


def output_descriptor(annotation: Any) -> IODescriptor:
    """``-> str`` answers text/plain, ``-> PIL.Image.Image`` an image and ``-> Path`` the file, as
    in BentoML 1.2, with the media type ``ContentType`` names; every other result is JSON (arrays,
    tensors and DataFrames as lists, described as tensor/dataframe in /schema.json)."""
    from bentotui.io import JSON, File, Image, NumpyNdarray, PandasDataFrame, Text

    base, metadata = _split(annotation)
    content_type = _take(metadata, ContentType, "return annotation")
    media_type = content_type.content_type if content_type is not None else None
    if base is str:
        return Text()
    kind = file_kind(base)
    if kind == "image":
        try:
            return Image(mime_type=media_type or "image/png")
        except ValueError as exc:
            raise BuildError(f"return annotation: {exc}") from None
    if kind == "path":
        return File(mime_type=media_type)
    # the same JSON bytes, but /schema.json then says tensor/dataframe, so BentoML's clients
    # hand back an ndarray/DataFrame as they do against BentoML
    if _qualified(base) == "numpy.ndarray":
        return NumpyNdarray()
    if _qualified(base) in _FRAMES:
        return PandasDataFrame()
    return JSON()


class FormParams(IODescriptor):
    """``multipart/form-data`` for methods with file parameters, as BentoML 1.2 clients send them.

    One part per parameter: file parts for ``Path`` (saved to a temporary file, which
    :func:`remove_uploads` deletes after the call) and ``PIL.Image.Image`` (decoded by
    :class:`bentotui.io.Image`, so a broken image is a 400), checked against their
    ``ContentType`` when they have one; text parts for the others, read as JSON when they parse and
    validated by the same request model as JSON bodies.
    """

    media_type = MULTIPART

    def __init__(
        self, fields: Any, files: dict[str, str], content_types: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.fields = fields
        self.files = files
        self.content_types = content_types or {}

    async def from_http(self, req: HTTPRequest) -> dict[str, Any]:
        if req.media_type != MULTIPART:
            raise BadInput(f"this API takes files ({', '.join(self.files)}): send multipart/form-data")
        parts = parse_form(req)
        form = {name: _form_value(part.text()) for name, part in parts.items() if name not in self.files}
        values = dict(await self.fields.from_http(HTTPRequest(json.dumps(form).encode(), "application/json")))
        try:
            for name, kind in self.files.items():
                part = parts.get(name)
                if part is None:
                    raise BadInput(f"body.{name}: missing file part {name!r}")
                values[name] = await _file_value(kind, part, self.content_types.get(name))
        except BaseException:
            remove_uploads(values, self.files)
            raise
        return values

    def to_http(self, value: Any) -> HTTPResponse:
        raise TypeError("FormParams only decodes requests")

    def openapi_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for name in self.files:
            properties[name] = {"type": "string", "format": "binary"}
            if name in self.content_types:
                properties[name]["contentMediaType"] = self.content_types[name]
        properties.update(self.fields.pydantic_model.model_json_schema().get("properties", {}))
        return {"type": "object", "properties": properties, "required": list(self.files)}

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        content = super().openapi_request_content()
        if self.content_types:
            content[MULTIPART]["encoding"] = {
                name: {"contentType": pattern} for name, pattern in self.content_types.items()
            }
        return content


def _form_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def _file_value(kind: str, part: FormPart, pattern: str | None) -> Any:
    sent = media_type_of(part.content_type)
    if pattern is not None and sent and not fnmatch.fnmatch(sent, pattern):
        raise BadInput(f"body.{part.name}: content type {sent} does not match ContentType({pattern!r})")
    if kind == "image":
        from bentotui.io import Image

        try:
            return await Image().from_http(part.as_request())
        except BadInput as exc:
            raise BadInput(f"body.{part.name}: {exc.message}") from None
    suffix = PurePath(part.filename).suffix if part.filename else ""
    with tempfile.NamedTemporaryFile(
        prefix="bentotui-upload-", suffix=suffix if _SUFFIX.fullmatch(suffix) else "", delete=False
    ) as fh:
        fh.write(part.data)
    return Path(fh.name)


def remove_uploads(values: dict[str, Any], files: dict[str, str]) -> None:
    """Delete the temporary files of ``Path`` parameters once the call is over."""
    for name, kind in files.items():
        if kind == "path" and isinstance(values.get(name), Path):
            values[name].unlink(missing_ok=True)
