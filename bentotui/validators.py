"""``bentoml.validators``: constraints on the typed parameters of 1.2 ``@service`` APIs.

They go in ``Annotated`` next to the type, as in BentoML::

    def predict(self, x: Annotated[np.ndarray, Shape((-1, 4)), DType("float32")]) -> np.ndarray: ...
    def scan(self, photo: Annotated[Path, ContentType("image/*")]) -> dict: ...
    def score(self, df: Annotated[pd.DataFrame, DataframeSchema(orient="records", columns=["a", "b"])]): ...

They are plain records, so importing this module costs nothing; ``bentotui.service.params`` reads
them when it builds an API's request model, and a request that breaks one is a 400 naming the
parameter and the rule.  Arguments that cannot be right are a ``BuildError`` where they are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bentotui.exceptions import BuildError

DATAFRAME_ORIENTS = ("records", "columns")


@dataclass(frozen=True)
class Shape:
    """The shape an array or tensor parameter is reshaped to (BentoML reshapes; it does not only
    compare), ``-1`` standing for one free axis.  An input whose size does not fit is a 400."""

    dimensions: tuple[int, ...]

    def __post_init__(self) -> None:
        dims = self.dimensions
        if not isinstance(dims, Iterable) or not all(isinstance(n, int) and n >= -1 for n in dims):
            raise BuildError(f"Shape takes a tuple of sizes (ints, -1 for a free axis), got {dims!r}")
        dims = tuple(dims)
        if dims.count(-1) > 1:
            raise BuildError(f"Shape{dims}: at most one axis can be -1")
        object.__setattr__(self, "dimensions", dims)


@dataclass(frozen=True)
class DType:
    """The element type an array or tensor parameter is converted to (``"float32"``, ``"int64"``):
    a numpy dtype name for ``np.ndarray``, a ``torch`` attribute name for ``torch.Tensor``."""

    dtype: str

    def __post_init__(self) -> None:
        if not isinstance(self.dtype, str) or not self.dtype:
            raise BuildError(f"DType takes a dtype name such as 'float32', got {self.dtype!r}")


@dataclass(frozen=True)
class ContentType:
    """The media type a file parameter must be sent as (``"image/jpeg"``, patterns like
    ``"image/*"``); on a return annotation, the media type of the response."""

    content_type: str

    def __post_init__(self) -> None:
        if not isinstance(self.content_type, str) or "/" not in self.content_type:
            raise BuildError(
                f"ContentType takes a media type such as 'image/jpeg', got {self.content_type!r}"
            )


@dataclass(frozen=True)
class DataframeSchema:
    """How a DataFrame parameter is sent (``orient``: ``"records"`` rows or ``"columns"`` lists) and
    the columns it must have: they are put in this order, extra ones dropped."""

    orient: str = "records"
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.orient not in DATAFRAME_ORIENTS:
            raise BuildError(
                f"DataframeSchema orient must be one of {', '.join(DATAFRAME_ORIENTS)}; got {self.orient!r}"
            )
        columns: Any = self.columns
        if columns is not None:
            if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
                raise BuildError(f"DataframeSchema columns must be a list of column names, got {columns!r}")
            object.__setattr__(self, "columns", tuple(columns) or None)


__all__ = ["ContentType", "DType", "DataframeSchema", "Shape"]
