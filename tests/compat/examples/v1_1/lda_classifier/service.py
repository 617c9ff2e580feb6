"""BentoML 1.1 examples/custom_python_model/lda_classifier/service.py."""

import typing

import numpy as np

import bentotui as bentoml
from bentotui.io import JSON, NumpyNdarray

iris_clf_runner = bentoml.picklable_model.get("iris_clf_lda:latest").to_runner()

svc = bentoml.Service("iris_classifier_lda", runners=[iris_clf_runner])


@svc.api(input=NumpyNdarray(dtype="float", shape=(-1, 4)), output=JSON())
async def classify(input_series: np.ndarray) -> typing.List[float]:  # noqa: UP006
    return await iris_clf_runner.predict.async_run(input_series)
