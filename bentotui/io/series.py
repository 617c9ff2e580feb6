"""``PandasSeries``: one column as a JSON array (BentoML 1.x's ``bentoml.io.PandasSeries``).

The body is a JSON array of values (or an object of index -> value, pandas' ``orient="index"``);
``dtype`` converts it, and with ``enforce_dtype`` a value that does not convert is a 400 naming
the dtype; ``shape`` with ``enforce_shape`` checks the length (``-1`` matches any).  The response
is the series as a JSON array.  pandas is imported per call, never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import _json
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, require_body

if TYPE_CHECKING:
    import pandas as pd

_ORIENTS = ("records", "index", "values", "columns", "split", "table")


class PandasSeries(IODescriptor):
    """A pandas Series in and out as JSON (see the module docstring)."""

    media_type = "application/json"

    def __init__(
        self,
        orient: str = "records",
        dtype: Any = None,
        enforce_dtype: bool = False,
        shape: tuple[int, ...] | None = None,
        enforce_shape: bool = False,
        example: Any = None,
    ) -> None:
        super().__init__(example=example)
        if orient not in _ORIENTS:
            raise BuildError(f"PandasSeries orient must be one of {', '.join(_ORIENTS)}, got {orient!r}")
        if (enforce_dtype and dtype is None) or (enforce_shape and shape is None):
            raise BuildError("PandasSeries: enforce_dtype needs dtype= and enforce_shape needs shape=")
        self.orient = orient
        self.dtype = dtype
        self.enforce_dtype = enforce_dtype
        self.shape = tuple(shape) if shape is not None else None
        self.enforce_shape = enforce_shape

    @classmethod
    def _sample_options(cls, sample: Any) -> dict[str, Any]:
        import pandas as pd

        if not isinstance(sample, pd.Series):
            raise BuildError(f"PandasSeries.from_sample() takes a pandas Series, got {type(sample).__name__}")
        return {"dtype": sample.dtype, "shape": (-1,), "example": sample.tolist()}

    async def from_http(self, req: HTTPRequest) -> pd.Series:
        import pandas as pd

        value = _json.decode(require_body(req, "a JSON array"), req.content_type)
        if not isinstance(value, (list, dict)):
            raise BadInput(f"expected a JSON array (or an object of index to value), got {type(value).__name__}")
        try:
            series = pd.Series(value, dtype=self.dtype if self.enforce_dtype else None)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"values do not convert to dtype {self.dtype}: {exc}") from None
        if self.dtype is not None and not self.enforce_dtype:
            try:
                series = series.astype(self.dtype)
            except (TypeError, ValueError):
                pass  # only enforced dtypes are the caller's mistake, as in BentoML
        if self.enforce_shape and self.shape is not None and self.shape[0] not in (-1, len(series)):
            raise BadInput(f"expected a series of shape {self.shape}, got ({len(series)},)")
        return series

    def to_http(self, value: Any) -> HTTPResponse:
        import pandas as pd

        series = value if isinstance(value, pd.Series) else pd.Series(value)
        return HTTPResponse(series.to_json(orient="records").encode(), self.media_type)

    def openapi_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {}}
