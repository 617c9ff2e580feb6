"""``PandasDataFrame``: JSON (records, columns, values, split, index orients) or CSV in, JSON out."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BadInput
from bentotui.io import _json
from bentotui.io.base import HTTPRequest, HTTPResponse, IODescriptor, openapi_media

if TYPE_CHECKING:
    import pandas as pd

ORIENTS = ("records", "columns", "values", "split", "index")
_CSV_TYPES = frozenset({"text/csv", "application/csv"})
# What curl and browsers send for a JSON body when nobody set a content type.
_JSON_TYPES = frozenset({"", "application/json", "application/x-www-form-urlencoded", "text/plain"})


class PandasDataFrame(IODescriptor):
    """A DataFrame from the request body.

    ``columns`` names the columns the API needs: they are checked (a 400 lists the missing ones),
    put in that order and extra ones dropped, so a model sees the layout it was trained on.
    Unnamed columns (``orient="values"``, CSV aside) are named by them, in order.  ``dtype`` (one type or a
    ``{column: type}`` dict) converts columns; a value that cannot be converted is a 400 naming
    the column.  ``text/csv`` bodies are read with a header row whatever the orient.
    """

    media_type = "application/json"

    def __init__(
        self,
        orient: str = "records",
        columns: list[str] | None = None,
        dtype: Any = None,
        example: Any = None,
    ) -> None:
        if orient not in ORIENTS:
            raise ValueError(f"orient must be one of {', '.join(ORIENTS)}; got {orient!r}")
        super().__init__(example)
        self.orient = orient
        self.columns = list(columns) if columns is not None else None
        self.dtype = dtype

    @classmethod
    def from_sample(cls, sample: pd.DataFrame, orient: str = "records") -> PandasDataFrame:
        """Columns, dtypes and example taken from a real input, as in BentoML."""
        return cls(
            orient, list(sample.columns), {c: str(t) for c, t in sample.dtypes.items()}, example=sample
        )

    async def from_http(self, req: HTTPRequest) -> pd.DataFrame:
        kind = req.media_type
        if kind in _CSV_TYPES:
            frame = _read_csv(req.body)
        elif kind in _JSON_TYPES or kind.endswith("+json"):
            frame = self._from_json(_json.decode(req.body, req.content_type))
        else:
            raise BadInput(f"unsupported content type {kind!r}; send application/json or text/csv")
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
        import pandas as pd

        if self.columns is not None:
            if isinstance(frame.columns, pd.RangeIndex):  # unnamed columns: name them in order
                if frame.shape[1] != len(self.columns):
                    raise BadInput(
                        f"expected {len(self.columns)} columns ({', '.join(self.columns)}), got {frame.shape[1]}"
                    )
                frame.columns = self.columns
            missing = [c for c in self.columns if c not in frame.columns]
            if missing:
                raise BadInput(
                    f"missing columns: {', '.join(map(str, missing))}", detail={"missing": missing}
                )
            if list(frame.columns) != self.columns:
                frame = frame[self.columns]
        if self.dtype is not None:
            frame = self._convert(frame)
        return frame

    def _convert(self, frame: pd.DataFrame) -> pd.DataFrame:
        types = self.dtype if isinstance(self.dtype, dict) else dict.fromkeys(frame.columns, self.dtype)
        converted = {}
        for column, kind in types.items():
            if column not in frame.columns:
                continue
            try:
                converted[column] = frame[column].astype(kind)
            except (ValueError, TypeError) as exc:
                raise BadInput(f"column {column!r}: cannot convert to {kind}: {exc}") from None
        return frame.assign(**converted) if converted else frame

    def to_http(self, value: Any) -> HTTPResponse:
        import pandas as pd

        if not isinstance(value, (pd.DataFrame, pd.Series)):
            value = pd.DataFrame(value)
        orient = self.orient if isinstance(value, pd.DataFrame) else "records"
        return HTTPResponse(value.to_json(orient=orient, date_format="iso").encode(), self.media_type)

    def openapi_schema(self) -> dict[str, Any]:
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

    def openapi_request_content(self) -> dict[str, dict[str, Any]]:
        content = super().openapi_request_content()
        csv_example = None
        if self._example is not None and hasattr(self._example, "to_csv"):
            csv_example = self._example.to_csv(index=False)
        elif self.columns is not None:
            csv_example = ",".join(self.columns) + "\n" + ",".join("0" for _ in self.columns) + "\n"
        content["text/csv"] = openapi_media({"type": "string"}, csv_example)
        return content

    def _as_json(self, frame: pd.DataFrame) -> Any:
        return json.loads(frame.to_json(orient=self.orient, date_format="iso"))

    def __repr__(self) -> str:
        return f"PandasDataFrame(orient={self.orient!r}, columns={self.columns})"


def _read_csv(body: bytes) -> pd.DataFrame:
    import pandas as pd

    if not body:
        raise BadInput("request body is empty; expected CSV with a header row")
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"request body is not valid CSV: {exc}") from None
