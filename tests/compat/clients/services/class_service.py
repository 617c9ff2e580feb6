"""A BentoML 1.2 ``@service`` class: an iris model from the store, an array and a typed pydantic
parameter, a task and a streaming method."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from pydantic import BaseModel, Field

import bentotui as bentoml


class Flower(BaseModel):
    sepal_length: float = Field(gt=0)
    sepal_width: float = Field(gt=0)
    petal_length: float = Field(gt=0)
    petal_width: float = Field(gt=0)


@bentoml.service(name="iris_class")
class IrisClassifier:
    def __init__(self) -> None:
        self.model = bentoml.sklearn.load_model("iris:latest")

    @bentoml.api(batchable=True)
    def classify(self, input: np.ndarray) -> np.ndarray:
        """Classes of a batch of rows."""
        return self.model.predict(input)

    @bentoml.api
    def describe(self, flower: Flower, note: str = "") -> dict:
        row = [[flower.sepal_length, flower.sepal_width, flower.petal_length, flower.petal_width]]
        return {"class": int(self.model.predict(np.array(row))[0]), "note": note}

    @bentoml.api
    def greet(self, name: str) -> str:
        return f"hello {name}"

    @bentoml.task
    def count_words(self, text: str) -> dict:
        """A background task (BentoML's ``client.count_words.submit(...)``)."""
        return {"words": len(text.split())}

    @bentoml.api
    def spell(self, word: str) -> Generator[str, None, None]:
        """A streaming method: one letter per item."""
        yield from word
