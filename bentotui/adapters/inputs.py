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
    usually sent: ``[[5.1, 3.5, 1.4, 0.2]]``), an object with ``data`` is split, any other object
    is columns.  Everything else (CSV, column checks, dtypes, errors) is PandasDataFrame's.
    """

    def _from_json(self, obj: Any) -> Any:
        if isinstance(obj, list):
            orient = "values" if obj and all(isinstance(row, list) for row in obj) else "records"
        elif isinstance(obj, dict):
            orient = "split" if "data" in obj else "columns"
        else:
            raise BadInput("expected a table: a JSON array of rows or an object of columns")
        return PandasDataFrame(orient, self.columns, self.dtype)._from_json(obj)


class DataframeInput(BaseInputAdapter):
    """A pandas DataFrame from JSON (records, values, columns, split) or CSV."""

    BATCH_BY_ROWS = True

    def __init__(self, columns: list[str] | None = None, dtype: Any = None, orient: str | None = None) -> None:
        frame = _AnyOrientFrame(columns=columns, dtype=dtype) if orient is None else PandasDataFrame(
            orient, columns, dtype
        )
        super().__init__(frame)


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
