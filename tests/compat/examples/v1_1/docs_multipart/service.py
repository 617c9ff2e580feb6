"""BentoML 1.1 docs/source/concepts/service.rst, "Composite IO descriptors": Multipart."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel

import bentotui as bentoml
from bentotui.io import JSON, Multipart, NumpyNdarray

runner = bentoml.sklearn.get("iris_clf:latest").to_runner()
svc = bentoml.Service("iris_multipart", runners=[runner])


class IrisFeatures(BaseModel):
    sepal_length: float
    sepal_width: float
    petal_length: float
    petal_width: float


output_descriptor_numpy = NumpyNdarray.from_sample(np.array([2]))


@svc.api(
    input=Multipart(
        arr=NumpyNdarray(
            shape=(-1, 4),
            dtype=np.float32,
            enforce_dtype=True,
            enforce_shape=True,
        ),
        json=JSON(pydantic_model=IrisFeatures),
    ),
    output=output_descriptor_numpy,
)
def multi_part_predict(arr: np.ndarray, json: dict[str, Any]) -> np.ndarray:
    # the docs leave the body out ("..."): classify the array's rows, then the JSON's flower
    row = np.array(
        [[json.sepal_length, json.sepal_width, json.petal_length, json.petal_width]], dtype=np.float32
    )
    return runner.predict.run(np.concatenate([arr, row]))
