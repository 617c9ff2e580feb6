"""How BentoML's own clients see a service: ``/schema.json`` and the 1.x IO descriptor specs.

BentoML 1.4's ``SyncHTTPClient``/``AsyncHTTPClient`` read ``GET /schema.json`` -- the service's
name and one route per API with its input and output as JSON schema, extended with BentoML's
types (``tensor``, ``dataframe``, ``file``) -- and encode each call from it: an API whose input is
an object of ``properties`` is called with keyword arguments (a 1.2 ``@service`` method's
parameters), one marked ``root_input`` with a single positional value (a 1.x/0.x IO descriptor's
whole body).  BentoML 1.x's ``bentoml.client.Client.from_url`` instead reads ``/docs.json`` and
rebuilds each API's descriptors from ``x-bentoml-io-descriptor`` (:func:`io_descriptor_spec`).

One API that cannot be described (a parameter type pydantic has no JSON schema for) must not take
the whole document down: :func:`described` gives that API a permissive description and logs a
warning once, for both documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from bentotui.io import JSON, File, Image, NumpyNdarray, PandasDataFrame, Text
from bentotui.io.base import media_type_of
from bentotui.service import params

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from bentotui.io.base import IODescriptor
    from bentotui.service.service import APISpec, Service

logger = logging.getLogger("bentotui.server")

T = TypeVar("T")

# The APIs already warned about, per service: /docs.json and /schema.json share one warning.
_warned: WeakKeyDictionary[Service, set[str]] = WeakKeyDictionary()

# A BentoML 1.x client that meets this id skips the API (and logs why) instead of failing.
NO_DESCRIPTOR: dict[str, Any] = {"id": None}


def described(service: Service, api: APISpec, build: Callable[[], T], fallback: T) -> T:
    """``build()``, or ``fallback`` (a permissive description) when the API cannot be described."""
    try:
        return build()
    except Exception as exc:  # any library's schema failure; the API itself still serves
        warned = _warned.setdefault(service, set())
        if api.name not in warned:
            warned.add(api.name)
            logger.warning(
                "API %r of service %r has no describable schema (%s: %s); documents show it as taking any body",
                api.name,
                service.name,
                type(exc).__name__,
                next(iter(str(exc).splitlines()), ""),
            )
        return fallback


def service_schema(service: Service) -> dict[str, Any]:
    """The ``/schema.json`` document, in BentoML 1.4's format (``Service.schema()``)."""
    return {
        "name": service.name,
        "type": "service",
        "routes": [
            described(service, api, partial(route_schema, api), _permissive_route(api))
            for api in service.apis.values()
        ],
    }


def route_schema(api: APISpec) -> dict[str, Any]:
    """One API's route entry: ``name``, ``route``, ``batchable``, ``input``, ``output``, ``is_task``.

    ``is_task`` is True for a 1.2 ``@task`` method: BentoML's clients then give it ``.submit()``.
    ``batchable`` is True for a 1.2 ``@api(batchable=True)`` method, whose body is a batch; a 1.x or
    0.x API takes one request (its runner batches across requests, which a client need not know).
    A streaming API's output is the schema of one item plus ``is_stream: true`` and its
    ``media_type``, as BentoML 1.4 writes it: its clients then iterate the response.
    """
    if takes_keywords(api.input):
        input_schema = value_schema(api.input)
    else:
        input_schema = {**value_schema(api.input), "root_input": True}
    route: dict[str, Any] = {
        "name": api.name,
        "route": api.route,
        "batchable": api.batchable,
        "input": input_schema,
        "output": stream_schema(api) if api.stream_type is not None else value_schema(api.output),
        "is_task": api.is_task,
    }
    if api.doc:
        route["description"] = api.doc
    return route


def stream_schema(api: APISpec) -> dict[str, Any]:
    """A streaming API's output: one item's schema (bytes items are binary strings, which
    BentoML's clients hand back as bytes), ``is_stream`` and the response's media type."""
    binary = {"type": "string", "format": "binary"}
    item = binary if isinstance(api.output, File) else value_schema(api.output)
    return {**item, "is_stream": True, "media_type": stream_media_type(api)}


def stream_media_type(api: APISpec) -> str:
    """The media type a streaming API answers, without its charset."""
    assert api.stream_type is not None
    return media_type_of(api.stream_type)


def _permissive_route(api: APISpec) -> dict[str, Any]:
    """What an undescribable API gets: any value per parameter (their names are known without a
    schema), or any one body."""
    input_schema: dict[str, Any] = {"root_input": True}
    if takes_keywords(api.input) and isinstance(api.input, JSON) and api.input.pydantic_model is not None:
        fields = api.input.pydantic_model.model_fields
        input_schema = {
            "type": "object",
            "properties": {name: {} for name in fields},
            "required": [name for name, field in fields.items() if field.is_required()],
        }
    output = {"is_stream": True, "media_type": stream_media_type(api)} if api.stream_type else {}
    return {
        "name": api.name, "route": api.route, "batchable": api.batchable, "input": input_schema, "output": output,
        "is_task": api.is_task,
    }


def takes_keywords(descriptor: IODescriptor) -> bool:
    """True for the request model of a 1.2 ``@service`` method (its parameters, by name), which
    ``bentotui.service.params`` builds from the method's signature."""
    if isinstance(descriptor, params.FormParams):
        return True
    model = descriptor.pydantic_model if isinstance(descriptor, JSON) else None
    return model is not None and model.__module__ == params.__name__


def value_schema(descriptor: IODescriptor) -> dict[str, Any]:
    """The JSON schema of one body, with BentoML's ``tensor``/``dataframe``/``file`` types."""
    if isinstance(descriptor, Text):
        return {"type": "string"}
    if isinstance(descriptor, NumpyNdarray):
        return _tensor(descriptor)
    if isinstance(descriptor, PandasDataFrame):
        return _drop_none({"type": "dataframe", "orient": descriptor.orient, "columns": descriptor.columns})
    if isinstance(descriptor, Image):
        return {"type": "file", "format": "image", "pil": True}
    if isinstance(descriptor, File):
        return _file(descriptor.mime_type)
    if isinstance(descriptor, params.FormParams):
        schema = _model_schema(descriptor.fields.pydantic_model)
        files = {name: _FILE_PARAMS[kind] for name, kind in descriptor.files.items()}
        schema["properties"] = {**files, **schema.get("properties", {})}
        schema["required"] = [*files, *schema.get("required", [])]
        return schema
    if isinstance(descriptor, JSON) and descriptor.pydantic_model is not None:
        return _model_schema(descriptor.pydantic_model)
    return {}  # JSON without a model, or a descriptor of the user's own: any JSON value


_FILE_PARAMS = {"image": {"type": "file", "format": "image", "pil": True}, "path": {"type": "file", "format": "binary"}}
# BentoML's tensor dtypes are numpy attribute names; these kinds always have one.
_TENSOR_KINDS = "biuf"


def _tensor(descriptor: NumpyNdarray) -> dict[str, Any]:
    dtype = descriptor.dtype
    return _drop_none(
        {
            "type": "tensor",
            "format": "numpy-array",
            "dtype": dtype.name if dtype is not None and dtype.kind in _TENSOR_KINDS else None,
            "shape": list(descriptor.shape) if descriptor.shape is not None else None,
        }
    )


def _file(mime_type: str | None) -> dict[str, Any]:
    if mime_type is None:
        return {"type": "file", "format": "binary"}
    return {"type": "file", "format": mime_type.split("/")[0], "content_type": mime_type}


# What the converters of bentotui.service.params's numpy/torch/pandas parameter stand-ins are to
# BentoML (its clients encode a numpy array for a "tensor" and a DataFrame for a "dataframe").
_STAND_INS: dict[Any, dict[str, Any]] = {
    params._to_numpy: {"type": "tensor", "format": "numpy-array"},
    params._to_torch: {"type": "tensor", "format": "torch-tensor"},
    params._to_frame: {"type": "dataframe", "orient": "records"},
}


def _stand_in(field: FieldInfo) -> dict[str, Any] | None:
    """BentoML's type of a request model field that is one of those stand-ins, else None."""
    for item in field.metadata:
        convert = getattr(item, "func", None)  # an AfterValidator of functools.partial(converter, ...)
        kind = _STAND_INS.get(getattr(convert, "func", convert))
        if kind is not None:
            return kind
    return None


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A pydantic model's JSON schema with its ``$defs`` inlined (BentoML's clients do not follow
    ``$ref``) and numpy/torch/pandas parameters marked as BentoML's tensor and dataframe types."""
    raw = model.model_json_schema()
    schema: dict[str, Any] = _inline(raw, raw.pop("$defs", {}), frozenset())
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        kind = _stand_in(field)
        if kind is not None and name in properties:
            plain = {k: v for k, v in properties[name].items() if k not in ("items", "examples")}
            properties[name] = {**plain, **kind}
    return schema


def _inline(node: Any, defs: dict[str, Any], seen: frozenset[str]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition; a recursive model keeps
    its ``$ref`` at the second visit (a client cannot expand it anyway)."""
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in defs and name not in seen:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**_inline(defs[name], defs, seen | {name}), **_inline(rest, defs, seen)}
        return {"type": "object"}
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def io_descriptor_spec(descriptor: IODescriptor) -> dict[str, Any]:
    """BentoML 1.x's ``IODescriptor.to_spec()`` of ``descriptor``: what ``Client.from_url``
    rebuilds the descriptor from (``x-bentoml-io-descriptor`` in ``/docs.json``)."""
    if isinstance(descriptor, Text):
        return {"id": "bentoml.io.Text"}
    if isinstance(descriptor, JSON):
        has_model = descriptor.pydantic_model is not None
        return {"id": "bentoml.io.JSON", "args": {"has_pydantic_model": has_model, "has_json_encoder": False}}
    if isinstance(descriptor, NumpyNdarray):
        tensor = _tensor(descriptor)
        args = {
            "dtype": tensor.get("dtype"),
            "shape": tensor.get("shape"),
            "enforce_dtype": descriptor.enforce_dtype,
            "enforce_shape": descriptor.enforce_shape,
        }
        return {"id": "bentoml.io.NumpyNdarray", "args": args}
    if isinstance(descriptor, PandasDataFrame):
        args = {
            "orient": descriptor.orient,
            "columns": descriptor.columns,
            "dtype": None,  # the client only encodes; the server converts and checks the types
            "shape": list(descriptor.shape) if descriptor.shape is not None else None,
            "enforce_dtype": False,
            "enforce_shape": descriptor.enforce_shape,
            "default_format": "json",
        }
        return {"id": "bentoml.io.PandasDataFrame", "args": args}
    if isinstance(descriptor, Image):
        args = {"pilmode": descriptor.pilmode, "mime_type": descriptor.mime_type, "allowed_mime_types": ["image/*"]}
        return {"id": "bentoml.io.Image", "args": args}
    if isinstance(descriptor, File):
        return {"id": "bentoml.io.File", "args": {"kind": "binaryio", "mime_type": descriptor.mime_type}}
    return NO_DESCRIPTOR  # multipart 1.2 parameters, or a descriptor of the user's own


def _drop_none(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if value is not None}
