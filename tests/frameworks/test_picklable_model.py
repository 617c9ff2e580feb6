"""bentotui.picklable_model: functions and callable objects, by value through cloudpickle."""

from __future__ import annotations

import threading

import pytest

import bentotui
from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import picklable_model as bpm


class Scaler:
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, values):
        return [v * self.factor for v in values]

    def describe(self) -> str:
        return f"x{self.factor}"


def test_function_round_trip_with_default_signature():
    offset = 10
    model = bpm.save_model("adder", lambda v: v + offset)  # a closure: only cloudpickle can
    assert model.info.signatures == {"__call__": {"batchable": False, "batch_dim": 0}}
    assert model.info.options == {"pickler": "cloudpickle"}
    assert bpm.load_model(model)(5) == 15
    runnable_class = bpm.get_runnable(model)
    assert not runnable_class.SUPPORTS_CPU_MULTI_THREADING
    assert runnable_class(model_tag=str(model.tag))(1) == 11


def test_object_with_custom_signatures():
    model = bpm.save_model(
        "scaler", Scaler(2.0), signatures={"__call__": {"batchable": True}, "describe": {"batchable": False}}
    )
    runnable = bpm.get_runnable(model)(model_tag=str(model.tag))
    assert runnable([1, 2, 3]) == [2.0, 4.0, 6.0]
    assert runnable.describe() == "x2.0"
    runner = model.to_runner()
    runner.init_local()
    assert runner.run([1]) == [2.0]
    assert runner.describe.run() == "x2.0"


def test_unpicklable_object_is_a_clear_error_and_saves_nothing():
    with pytest.raises(InvalidArgument, match="cannot pickle lock"):
        bpm.save_model("bad", threading.Lock())
    assert bentotui.models.list() == []


def test_save_refuses_a_signature_the_object_lacks():
    with pytest.raises(InvalidArgument, match="signature 'predict': Scaler has no method 'predict'"):
        bpm.save_model("scaler", Scaler(1.0), signatures={"predict": {}})
