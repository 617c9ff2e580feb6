"""0.x input adapters: each holds the :mod:`bentotui.io` descriptor that decodes its requests."""

from __future__ import annotations

from typing import Any

from bentotui.exceptions import BadInput
from bentotui.io import JSON, File, Image, PandasDataFrame, Text


class BaseInputAdapter:
    """An adapter names its descriptor; see the package docstring for ``BATCH_BY_ROWS``."""

    BATCH_BY_ROWS = False

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _AnyOrientFrame(PandasDataFrame):
    """0.x's DataframeInput guessed the JSON layout instead of fixing one orient.

    A JSON array of objects is records, an array of arrays is rows of values (what 0.x clients
    usually sent: ``[[5.1, 3.5, 1.4, 0.2]]``), an array of plain values is one column (0.x's
    ``bentoml run Svc:latest predict --input '["the acting was a bit lacking."]'``), an object
    with ``data`` is split, any other object is columns.  Everything else (CSV, column checks,
    dtypes, errors) is PandasDataFrame's.
    """

    def _from_json(self, obj: Any) -> Any:
        if isinstance(obj, list) and obj and not any(isinstance(row, (list, dict)) for row in obj):
            obj, orient = [[value] for value in obj], "values"
        elif isinstance(obj, list):
            orient = "values" if obj and all(isinstance(row, list) for row in obj) else "records"
        elif isinstance(obj, dict):
            orient = "split" if "data" in obj else "columns"
        else:
            raise BadInput("expected a table: a JSON array of rows or an object of columns")
        return PandasDataFrame(orient)._from_json(obj)  # only the layout; from_http checks columns and dtypes


class DataframeInput(BaseInputAdapter):
    """A pandas DataFrame from JSON (records, values, columns, split) or CSV."""

    BATCH_BY_ROWS = True

    def __init__(self, columns: list[str] | None = None, dtype: Any = None, orient: str | None = None) -> None:
        # a dtype the values cannot take is a 400 naming the column (0.x's bool dtype: pandas infers)
        options = {"columns": columns, "dtype": dtype, "enforce_dtype": dtype is not None and not isinstance(dtype, bool)}
        super().__init__(_AnyOrientFrame(**options) if orient is None else PandasDataFrame(orient, **options))


class JsonInput(BaseInputAdapter):
    """The parsed JSON body."""

    def __init__(self) -> None:
        super().__init__(JSON())


class StringInput(BaseInputAdapter):
    """The body as text."""

    def __init__(self) -> None:
        super().__init__(Text())


class FileInput(BaseInputAdapter):
    """A file (raw body or one multipart part)."""

    def __init__(self, mime_type: str | None = None) -> None:
        super().__init__(File(mime_type=mime_type))


class ImageInput(BaseInputAdapter):
    """A PIL image."""

    def __init__(self, pilmode: str | None = None) -> None:
        super().__init__(Image(pilmode=pilmode))
