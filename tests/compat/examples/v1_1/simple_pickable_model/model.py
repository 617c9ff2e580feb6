"""BentoML 1.1 examples/custom_python_model/simple_pickable_model/model.py: save a plain function."""

from typing import List  # noqa: UP035 - as the example writes it

import numpy as np

import bentotui as bentoml


def my_python_model(input_list: List[int]) -> List[int]:  # noqa: UP006
    return np.square(np.array(input_list))


if __name__ == "__main__":
    # `save_model` saves a given python object or function
    saved_model = bentoml.picklable_model.save_model(
        "my_python_model", my_python_model, signatures={"__call__": {"batchable": True}}
    )
    print(f"Model saved: {saved_model}")
