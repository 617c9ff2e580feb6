"""A BentoML 1.x ``Service``: a runner of the stored iris model, NumpyNdarray and JSON IO."""

from __future__ import annotations

import numpy as np

import bentotui as bentoml
from bentotui.io import JSON, NumpyNdarray, Text

runner = bentoml.models.get("iris:latest").to_runner()
svc = bentoml.Service("iris_v1", runners=[runner])


@svc.api(input=NumpyNdarray(dtype="float64", shape=(-1, 4)), output=NumpyNdarray())
async def predict(rows: np.ndarray) -> np.ndarray:
    """Classes of a batch of rows."""
    return await runner.predict.async_run(rows)


@svc.api(input=JSON(), output=JSON())
def total(body: dict) -> dict:
    return {"sum": sum(body["values"])}


@svc.api(input=Text(), output=Text())
def shout(text: str) -> str:
    return text.upper()
