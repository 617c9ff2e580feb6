"""0.x output adapters; ``output=None`` on ``@api`` means :class:`JsonOutput`, as 0.x's default."""

from __future__ import annotations

from typing import Any

from bentotui.io import JSON, PandasDataFrame


class BaseOutputAdapter:
    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class JsonOutput(BaseOutputAdapter):
    """The result as JSON (numpy arrays, DataFrames and pydantic models included)."""

    def __init__(self) -> None:
        super().__init__(JSON())


class DataframeOutput(BaseOutputAdapter):
    """The result as a JSON table in the given orient."""

    def __init__(self, orient: str = "records") -> None:
        super().__init__(PandasDataFrame(orient))
