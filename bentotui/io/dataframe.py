"""``PandasDataFrame``: JSON (records, columns, values, split, index orients), CSV or Parquet in and out.

BentoML's parameters and what they do here:

* ``columns``: the columns the API needs.  Without ``apply_column_names`` they are checked (a 400
  lists the missing ones), put in that order and extra ones dropped, so a model sees the layout
  it was trained on; unnamed columns (``orient="values"``) are named by them, in order.
* ``apply_column_names=True``: the incoming columns are renamed to ``columns`` by position,
  whatever they were called (BentoML's semantics); a different number of columns is a 400.
* ``dtype`` (one type or a ``{column: type}`` dict): columns are converted when they can be;
  with ``enforce_dtype=True`` a value that cannot be converted is a 400 naming the column.
* ``shape`` with ``enforce_shape=True``: the table as sent must have that shape, ``-1`` matching
  any size (BentoML's check); otherwise a 400 giving both shapes.
* ``default_format`` (``json``, ``csv``, ``parquet``): how a body without a specific content type
  is read, and how responses are written (as in BentoML).  JSON and CSV bodies are always
  understood; Parquet needs ``pyarrow`` or ``fastparquet`` on the server.

A parameter that cannot work (``enforce_shape`` without a shape, an unknown dtype...) is a
:class:`~bentotui.exceptions.BuildError` when the service is defined.  pandas is imported on first
use, not when the module is.
"""

from __future__ import annotations

import importlib.util
import io
import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput, BuildError, MissingDependencyException
from bentotui.io import _json
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, openapi_media

if TYPE_CHECKING:
    import pandas as pd

ORIENTS = ("records", "columns", "values", "split", "index")
#: default_format -> the media type of its bodies (BentoML 1.4's parquet type)
FORMATS = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
PARQUET_ENGINES = ("pyarrow", "fastparquet")
_CSV_TYPES = frozenset({"text/csv", "application/csv"})
_PARQUET_TYPES = frozenset({"application/vnd.apache.parquet", "application/octet-stream"})
# What curl and browsers send when nobody set a content type: read as the default format.
_UNSPECIFIED_TYPES = frozenset({"", "application/x-www-form-urlencoded", "text/plain"})


def parquet_engine() -> str | None:
    """The installed Parquet engine pandas would use, or None."""
    return next((e for e in PARQUET_ENGINES if importlib.util.find_spec(e) is not None), None)


class PandasDataFrame(IODescriptor):
    """A DataFrame from the request body; see the module docstring for the parameters."""

    def __init__(
        self,
        orient: str = "records",
        columns: list[str] | None = None,
        apply_column_names: bool = False,
        dtype: Any = None,
        enforce_dtype: bool = False,
        shape: tuple[int, ...] | None = None,
        enforce_shape: bool = False,
        default_format: str = "json",
        example: Any = None,
    ) -> None:
        if orient not in ORIENTS:
            raise BuildError(f"PandasDataFrame: orient must be one of {', '.join(ORIENTS)}; got {orient!r}")
        if default_format not in FORMATS:
            raise BuildError(
                f"PandasDataFrame: default_format must be one of {', '.join(FORMATS)}; got {default_format!r}"
            )
        if default_format == "parquet" and parquet_engine() is None:
            raise MissingDependencyException(
                "PandasDataFrame(default_format='parquet') needs pyarrow or fastparquet: pip install pyarrow"
            )
        if apply_column_names and not columns:
            raise BuildError("PandasDataFrame: apply_column_names=True needs columns=[...] to apply")
        if enforce_dtype and (dtype is None or isinstance(dtype, bool)):
            raise BuildError("PandasDataFrame: enforce_dtype=True needs a dtype (a type or {column: type})")
        if enforce_shape and shape is None:
            raise BuildError("PandasDataFrame: enforce_shape=True needs a shape, e.g. shape=(-1, 4)")
        super().__init__(example)
        self.orient = orient
        self.columns = list(columns) if columns is not None else None
        self.apply_column_names = apply_column_names
        # dtype=True/False is BentoML's "let pandas infer" switch: nothing to convert here
        self.dtype = None if isinstance(dtype, bool) else _checked_dtype(dtype)
        self.enforce_dtype = enforce_dtype
        self.shape = _checked_shape(shape)
        self.enforce_shape = enforce_shape
        self.default_format = default_format
        self.media_type = FORMATS[default_format]

    @classmethod
    def from_sample(cls, sample: pd.DataFrame, **options: Any) -> PandasDataFrame:
        """Columns, dtypes, width and example taken from a real input, as in BentoML.

        The shape taken is ``(-1, width)``: any number of rows.  ``options`` are the
        constructor's (``orient=``, ``enforce_shape=True``...).
        """
        options.setdefault("columns", [str(c) for c in sample.columns])
        options.setdefault("dtype", {str(c): str(t) for c, t in sample.dtypes.items()})
        options.setdefault("shape", (-1, sample.shape[1]))
        return cls(example=sample, **options)

    # -- requests ----------------------------------------------------------------------------
    async def from_http(self, req: HTTPRequest) -> pd.DataFrame:
        kind = req.media_type
        if kind in _UNSPECIFIED_TYPES:
            kind = self.media_type
        if kind in _CSV_TYPES:
            frame = _read_csv(req.body)
        elif kind in _PARQUET_TYPES:
            frame = _read_parquet(req.body)
        elif kind == "application/json" or kind.endswith("+json"):
            frame = self._from_json(_json.decode(req.body, req.content_type))
        else:
            raise BadInput(
                f"unsupported content type {kind!r}; send application/json, text/csv or "
                "application/vnd.apache.parquet",
                error_code=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            )
        return self._conform(frame)

    def _from_json(self, obj: Any) -> pd.DataFrame:
        import pandas as pd

        try:
            if self.orient == "records":
                if not isinstance(obj, list) or not all(isinstance(row, (dict, list)) for row in obj):
                    raise BadInput(
                        "orient 'records' expects a JSON array of rows (objects or arrays), e.g. [{\"a\": 1}]"
                    )
                return pd.DataFrame(obj)
            if self.orient == "values":
                if not isinstance(obj, list) or not all(isinstance(row, list) for row in obj):
                    raise BadInput("orient 'values' expects a JSON array of arrays, e.g. [[1, 2]]")
                return pd.DataFrame(obj)
            if not isinstance(obj, dict):
                raise BadInput(f"orient {self.orient!r} expects a JSON object")
            if self.orient == "split":
                if "data" not in obj:
                    raise BadInput("orient 'split' expects an object with 'columns' and 'data'")
                return pd.DataFrame(obj["data"], columns=obj.get("columns"), index=obj.get("index"))
            return pd.DataFrame.from_dict(obj, orient=self.orient)
        except (ValueError, TypeError) as exc:
            raise BadInput(f"request body is not a table in orient {self.orient!r}: {exc}") from None

    def _conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The checks and conversions the parameters ask for, in BentoML's order."""
        if self.enforce_shape:
            self._check_shape(frame)
        if self.apply_column_names:
            frame = self._apply_names(frame)
        elif self.columns is not None:
            frame = self._select_columns(frame)
        if self.dtype is not None:
            frame = self._convert(frame)
        return frame

    def _check_shape(self, frame: pd.DataFrame) -> None:
        assert self.shape is not None
        if not all(want in (-1, got) for want, got in zip(self.shape, frame.shape, strict=True)):
            raise BadInput(
                f"expected a table of shape {self.shape}, got {frame.shape}",
                detail={"expected": list(self.shape), "got": list(frame.shape)},
            )

    def _apply_names(self, frame: pd.DataFrame) -> pd.DataFrame:
        assert self.columns is not None
        if frame.shape[1] != len(self.columns):
            raise BadInput(
                f"expected {len(self.columns)} columns ({', '.join(self.columns)}), got {frame.shape[1]}",
                detail={"expected": self.columns, "got": [str(c) for c in frame.columns]},
            )
        return frame.set_axis(self.columns, axis=1)

    def _select_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        assert self.columns is not None
        if isinstance(frame.columns, pd.RangeIndex):  # unnamed columns: name them in order
            frame = self._apply_names(frame)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise BadInput(f"missing columns: {', '.join(map(str, missing))}", detail={"missing": missing})
        return frame if list(frame.columns) == self.columns else frame[self.columns]

    def _convert(self, frame: pd.DataFrame) -> pd.DataFrame:
        types = self.dtype if isinstance(self.dtype, dict) else dict.fromkeys(frame.columns, self.dtype)
        converted = {}
        for column, kind in types.items():
            if column not in frame.columns:
                continue
            try:
                converted[column] = frame[column].astype(kind)
            except (ValueError, TypeError) as exc:
                if self.enforce_dtype:
                    raise BadInput(
                        f"column {column!r}: cannot convert to {kind}: {exc}", detail={"column": column}
                    ) from None
        return frame.assign(**converted) if converted else frame

    # -- responses ---------------------------------------------------------------------------
    def to_http(self, value: Any) -> HTTPResponse:
        """JSON (``orient``), CSV or Parquet; pandas writes NaN and the infinities as JSON ``null``,
        as :mod:`bentotui.io._json` does for ``JSON`` and ``NumpyNdarray`` outputs."""
        import pandas as pd

        if not isinstance(value, (pd.DataFrame, pd.Series)):
            value = pd.DataFrame(value)
        if self.default_format == "csv":
            return HTTPResponse(value.to_csv().encode(), self.media_type)  # with the index, as BentoML
        if self.default_format == "parquet":
            frame = value.to_frame() if isinstance(value, pd.Series) else value
            return HTTPResponse(frame.to_parquet(), self.media_type)
        orient = self.orient if isinstance(value, pd.DataFrame) else "records"
        return HTTPResponse(value.to_json(orient=orient, date_format="iso").encode(), self.media_type)

    # -- OpenAPI -----------------------------------------------------------------------------
    def openapi_schema(self) -> dict[str, Any]:
        """The JSON body's schema (in every format the JSON form is the one documented in full)."""
        row: dict[str, Any] = {"type": "object"}
        if self.columns is not None:
            row["properties"] = {c: {} for c in self.columns}
            row["required"] = list(self.columns)
        if self.orient == "records":
            return {"type": "array", "items": row}
        if self.orient == "values":
            return {"type": "array", "items": {"type": "array"}}
        if self.orient == "split":
            return {
                "type": "object",
                "properties": {
                    "columns": {"type": "array"},
                    "data": {"type": "array"},
                    "index": {"type": "array"},
                },
                "required": ["data"],
            }
        return {"type": "object"}

    def openapi_example(self) -> Any:
        if self._example is not None:
            return self._as_json(self._example) if hasattr(self._example, "to_json") else self._example
        if self.columns is None:
            return []
        import pandas as pd

        return self._as_json(pd.DataFrame(dict.fromkeys(self.columns, [0])))

    def _csv_example(self) -> str | None:
        if self._example is not None and hasattr(self._example, "to_csv"):
            return str(self._example.to_csv(index=False))
        if self.columns is not None:
            return ",".join(self.columns) + "\n" + ",".join("0" for _ in self.columns) + "\n"
        return None

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        """Every format a request may use, the default one first."""
        content = {
            "application/json": openapi_media(self.openapi_schema(), self.openapi_example()),
            "text/csv": openapi_media({"type": "string"}, self._csv_example()),
        }
        if self.default_format == "parquet":
            content[self.media_type] = {"schema": {"type": "string", "format": "binary"}}
        return {self.media_type: content[self.media_type], **content}

    def openapi_response_content(self) -> dict[str, dict[str, Any]]:
        schemas = {
            "json": self.openapi_schema(),
            "csv": {"type": "string"},
            "parquet": {"type": "string", "format": "binary"},
        }
        return {self.media_type: {"schema": schemas[self.default_format]}}

    def _as_json(self, frame: pd.DataFrame) -> Any:
        return json.loads(frame.to_json(orient=self.orient, date_format="iso"))

    def __repr__(self) -> str:
        return f"PandasDataFrame(orient={self.orient!r}, columns={self.columns})"


def _checked_dtype(dtype: Any) -> Any:
    """``dtype`` as given, once pandas has understood every type in it (a typo fails at build)."""
    if dtype is None:
        return None
    from pandas.api.types import pandas_dtype

    for column, kind in (dtype.items() if isinstance(dtype, dict) else [(None, dtype)]):
        try:
            pandas_dtype(kind)
        except TypeError as exc:
            where = f" of column {column!r}" if column is not None else ""
            raise BuildError(f"PandasDataFrame: dtype{where} {kind!r} is not a pandas dtype: {exc}") from None
    return dtype


def _checked_shape(shape: tuple[int, ...] | None) -> tuple[int, int] | None:
    """A table's ``(rows, columns)``, each a size or -1 for any."""
    if shape is None:
        return None
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= -1 for n in shape)
    ):
        raise BuildError(f"PandasDataFrame: shape must be (rows, columns), each a size or -1, got {shape!r}")
    return shape[0], shape[1]


def _read_csv(body: bytes) -> pd.DataFrame:
    import pandas as pd

    if not body:
        raise BadInput("request body is empty; expected CSV with a header row")
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"request body is not valid CSV: {exc}") from None


def _read_parquet(body: bytes) -> pd.DataFrame:
    import pandas as pd

    engine = parquet_engine()
    if engine is None:
        raise BadInput(
            "this server cannot read Parquet (neither pyarrow nor fastparquet is installed); "
            "send application/json or text/csv",
            error_code=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        )
    if not body:
        raise BadInput("request body is empty; expected a Parquet file")
    try:
        return pd.read_parquet(io.BytesIO(body), engine=engine)
    except Exception as exc:  # each engine raises its own types for a corrupt file
        raise BadInput(f"request body is not a valid Parquet file: {exc}") from None
