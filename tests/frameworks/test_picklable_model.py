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


class _Locked:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, x):
        return x


def test_unpicklable_object_is_a_clear_error_and_saves_nothing():
    with pytest.raises(InvalidArgument, match="cannot pickle _Locked: cannot pickle '_thread.lock'"):
        bpm.save_model("bad", _Locked())
    assert bentotui.models.list() == []


def test_save_refuses_a_signature_the_object_lacks():
    with pytest.raises(InvalidArgument, match="signature 'predict': Scaler has no method 'predict'"):
        bpm.save_model("scaler", Scaler(1.0), signatures={"predict": {}})


def test_runner_of_to_runnable_serves_the_model_as_bentoml_writes_it():
    """``bentoml.Runner(model.to_runnable(), models=[model])``: the class knows its model."""
    from bentotui.runner.runner import Runner
    from bentotui.runner.spec import WorkerSpec

    model = bpm.save_model("scaler", Scaler(3.0), signatures={"__call__": {"batchable": True}})
    runner = Runner(model.to_runnable(), name="scaler", models=[model])
    assert runner.runnable_init_params == {"model_tag": str(model.tag)}
    assert WorkerSpec.for_runner(runner) == WorkerSpec("model", str(model.tag), {})
    assert runner.run([1, 2]) == [3.0, 6.0]
    assert model.to_runnable()().model_tag == str(model.tag)  # built as BentoML does: no arguments


def test_a_subclass_of_to_runnable_builds_without_arguments():
    from bentotui.runner.runnable import Runnable
    from bentotui.runner.runner import Runner

    model = bpm.save_model("scaler", Scaler(3.0), signatures={"__call__": {"batchable": True}})
    builtin = model.to_runnable()

    class Custom(builtin):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        @Runnable.method(batchable=True)
        def __call__(self, values):
            self.calls += 1
            return super().__call__(values)

    runner = Runner(Custom, name="custom")
    assert runner.runnable_init_params == {}
    assert runner.run([1]) == [3.0]
