"""``NumpyNdarray``: the body is a JSON (nested) list, the value a numpy array.

This is the hot path of the serving benchmark (one iris row per request), so decoding is
``np.asarray(json.loads(body))`` plus two attribute checks; no pydantic, no copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import _json
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor

if TYPE_CHECKING:
    import numpy as np

_JSON_TYPE_OF_KIND = {
    "f": "number",
    "i": "integer",
    "u": "integer",
    "b": "boolean",
    "U": "string",
    "S": "string",
}


class NumpyNdarray(IODescriptor):
    """BentoML semantics: ``dtype``/``shape`` are applied when they can be; ``enforce_*`` makes a
    mismatch a 400 instead.  ``-1`` in ``shape`` matches any size along that axis.
    """

    media_type = "application/json"

    def __init__(
        self,
        dtype: Any = None,
        shape: tuple[int, ...] | None = None,
        enforce_dtype: bool = False,
        enforce_shape: bool = False,
        example: Any = None,
    ) -> None:
        import numpy as np

        super().__init__(example)
        self.dtype: np.dtype | None = None if dtype is None else np.dtype(dtype)
        self.shape = None if shape is None else tuple(int(n) for n in shape)
        self.enforce_dtype = enforce_dtype
        self.enforce_shape = enforce_shape
        if (enforce_dtype and self.dtype is None) or (enforce_shape and self.shape is None):
            raise TypeError("enforce_dtype/enforce_shape need a dtype/shape to enforce")

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        """Dtype and shape of a real input, its first (batch) axis left free: a one-row sample
        accepts any number of rows, also with ``enforce_shape=True``."""
        import numpy as np

        if isinstance(sample, np.generic):
            raise BuildError("NumpyNdarray.from_sample() needs an array, not a numpy scalar")
        try:
            arr = np.asarray(sample)
        except ValueError as exc:
            raise BuildError(f"NumpyNdarray.from_sample(): the sample is not an array: {exc}") from None
        if arr.dtype.kind == "O":
            raise BuildError("NumpyNdarray.from_sample(): the sample is not a rectangular array of numbers")
        shape = (-1, *arr.shape[1:]) if arr.ndim else ()
        return {"dtype": arr.dtype, "shape": shape, "example": arr}

    async def from_http(self, req: HTTPRequest) -> np.ndarray:
        import numpy as np

        obj = _json.decode(req.body, req.content_type)
        try:
            arr = np.asarray(obj, dtype=self.dtype)
        except (ValueError, TypeError) as exc:
            arr = self._convert_failed(obj, exc)
        if arr.dtype.kind == "O":
            raise BadInput(
                "request body must be a JSON array of numbers, booleans or strings (a rectangular one)"
            )
        if self.shape is not None and not _shape_matches(self.shape, arr.shape):
            arr = self._reshape(arr)
        return arr

    def _convert_failed(self, obj: Any, exc: Exception) -> np.ndarray:
        import numpy as np

        if self.dtype is None or self.enforce_dtype:
            what = f"an array of {self.dtype}" if self.dtype is not None else "an array"
            raise BadInput(f"request body cannot be read as {what}: {exc}") from None
        try:
            return np.asarray(obj)
        except ValueError as again:  # ragged lists
            raise BadInput(f"request body cannot be read as an array: {again}") from None

    def _reshape(self, arr: np.ndarray) -> np.ndarray:
        if self.enforce_shape:
            raise BadInput(f"expected an array of shape {self.shape}, got {arr.shape}")
        try:
            return arr.reshape(self.shape)
        except ValueError:  # not enforced: the API function sees what was sent
            return arr

    def to_http(self, value: Any) -> HTTPResponse:
        """The array as a JSON (nested) list; NaN and the infinities become ``null``, as in ``JSON``."""
        data = value.tolist() if hasattr(value, "tolist") else value
        return HTTPResponse(_json.encode(data), self.media_type)

    def openapi_schema(self) -> dict[str, Any]:
        return array_schema(json_type_of(self.dtype), self.shape)

    def openapi_example(self) -> Any:
        if self._example is not None:
            return _json.to_jsonable(self._example) if hasattr(self._example, "tolist") else self._example
        import numpy as np

        # no shape: one row of one value, not ``[]``: an empty batch is refused by the models a
        # shapeless array usually feeds (a 2-D batch of rows), so ``[]`` is an example that fails
        shape = (1, 1) if self.shape is None else [max(n, 1) for n in self.shape]
        return np.zeros(shape, dtype=self.dtype).tolist()

    def __repr__(self) -> str:
        return f"NumpyNdarray(dtype={self.dtype}, shape={self.shape})"


def _shape_matches(expected: tuple[int, ...], got: tuple[int, ...]) -> bool:
    return len(expected) == len(got) and all(e in (-1, g) for e, g in zip(expected, got, strict=True))


def json_type_of(dtype: Any) -> str | None:
    """The JSON schema type of an array's items (``"number"`` for float32), None when JSON has none."""
    import numpy as np

    if dtype is None:
        return None
    try:
        kind = np.dtype(dtype).kind
    except TypeError:  # a dtype numpy does not know (torch's bfloat16)
        return "number"
    return _JSON_TYPE_OF_KIND.get(kind)


def array_schema(item_type: str | None, shape: tuple[int, ...] | None) -> dict[str, Any]:
    """JSON schema of a (nested) array: one level per axis, fixed sizes as min/maxItems, ``-1`` free."""
    item: dict[str, Any] = {} if item_type is None else {"type": item_type}
    if shape is None:
        return {"type": "array", "items": item}
    schema = item
    for size in reversed(shape):
        schema = {"type": "array", "items": schema}
        if size >= 0:
            schema.update(minItems=size, maxItems=size)
    return schema
