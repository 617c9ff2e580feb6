"""``JSON``: any JSON body, optionally validated into a pydantic model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import _json
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

_REF_TEMPLATE = "#/components/schemas/{model}"


class JSON(IODescriptor):
    """JSON in, JSON out.

    With ``pydantic_model`` the API receives a model instance and an invalid body is a 400 whose
    message names each bad field (``body.age: Input should be a valid integer``), so a caller can
    fix the request without reading server logs.  Output encodes numpy, pandas, pydantic and
    dataclass values, with NaN and the infinities written as ``null`` (see :mod:`bentotui.io._json`).
    """

    media_type = "application/json"

    def __init__(self, pydantic_model: type[BaseModel] | None = None, example: Any = None) -> None:
        if pydantic_model is not None and not hasattr(pydantic_model, "model_validate_json"):
            raise TypeError(f"pydantic_model must be a pydantic BaseModel class, got {pydantic_model!r}")
        super().__init__(example)
        self.pydantic_model = pydantic_model

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        """A pydantic instance gives its model class; a JSON string or bytes is parsed first."""
        if hasattr(type(sample), "model_validate_json"):
            return {"pydantic_model": type(sample), "example": sample}
        if isinstance(sample, (str, bytes)):
            try:
                sample = json.loads(sample)
            except ValueError as exc:
                raise BuildError(f"JSON.from_sample(): the sample is not valid JSON: {exc}") from None
        if not isinstance(sample, (dict, list)):
            raise BuildError(
                f"JSON.from_sample() needs a dict, a list, a JSON string or a pydantic model, got {type(sample).__name__}"
            )
        return {"example": sample}

    async def from_http(self, req: HTTPRequest) -> Any:
        if self.pydantic_model is None:
            return _json.decode(req.body, req.content_type)
        from pydantic import ValidationError

        try:
            return self.pydantic_model.model_validate_json(_json.text_of(req.body, req.content_type))
        except ValidationError as exc:
            raise _bad_fields(exc) from None

    def to_http(self, value: Any) -> HTTPResponse:
        if hasattr(value, "model_dump_json"):
            return HTTPResponse(value.model_dump_json().encode(), self.media_type)
        return HTTPResponse(_json.encode(value), self.media_type)

    def openapi_schema(self) -> dict[str, Any]:
        if self.pydantic_model is None:
            return {}
        return {"$ref": _REF_TEMPLATE.format(model=self.pydantic_model.__name__)}

    def openapi_components(self) -> dict[str, dict[str, Any]]:
        if self.pydantic_model is None:
            return {}
        schema = self.pydantic_model.model_json_schema(ref_template=_REF_TEMPLATE)
        components: dict[str, dict[str, Any]] = schema.pop("$defs", {})
        components[self.pydantic_model.__name__] = schema
        return components

    def openapi_example(self) -> Any:
        if self._example is not None:
            return _json.to_jsonable(self._example) if hasattr(self._example, "model_dump") else self._example
        if self.pydantic_model is None:
            return {}
        schema = self.pydantic_model.model_json_schema()
        return _example_of(schema, schema)

    def __repr__(self) -> str:
        model = self.pydantic_model.__name__ if self.pydantic_model else ""
        return f"JSON({model})" if model else "JSON()"


def _bad_fields(exc: ValidationError) -> BadInput:
    errors = [
        {
            "loc": "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]),
            "msg": e["msg"],
        }
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return BadInput("; ".join(f"{e['loc']}: {e['msg']}" for e in errors), detail=errors)


_PLACEHOLDERS = {"string": "string", "integer": 0, "number": 0.0, "boolean": False, "array": [], "object": {}}


def _example_of(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A body that fits ``schema``: declared examples and defaults first, else placeholders.

    Good enough to pre-fill the TUI's request panel; a model that wants a realistic example
    gives one (``example=`` or ``json_schema_extra``).
    """
    if "$ref" in schema:
        return _example_of(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _example_of(schema[key][0], root)
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return {name: _example_of(sub, root) for name, sub in schema["properties"].items()}
    if kind == "array" and isinstance(schema.get("items"), dict):
        return [_example_of(schema["items"], root)]
    return _PLACEHOLDERS.get(kind) if isinstance(kind, str) else None
