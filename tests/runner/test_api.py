"""Runnable / Runner API, local execution and worker recipes (no processes)."""

from __future__ import annotations

import pytest

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.runner import Runnable, Runner
from bentotui.runner.runner import LocalBackend
from bentotui.runner.spec import WorkerSpec, ref_of
from tests.runner.runnables import Doubler


def test_methods_are_discovered_with_their_config():
    methods = Doubler.runnable_methods()
    assert set(methods) == {"predict", "width4", "pid", "fail", "threads"}
    assert methods["predict"].batchable and methods["predict"].input_dim == 0
    assert not methods["pid"].batchable


def test_batch_dim_tuple_sets_input_and_output_axes():
    class T(Runnable):
        @Runnable.method(batchable=True, batch_dim=(1, 0))
        def predict(self, x):
            return x

    config = T.runnable_methods()["predict"]
    assert (config.input_dim, config.output_dim) == (1, 0)


def test_unbound_runner_runs_locally_like_a_script():
    runner = Runner(Doubler)
    assert runner.name == "doubler"
    assert runner.run([1, 2]) == [2, 4]  # default method: predict
    assert runner.predict.run([3], scale=10) == [30]
    assert isinstance(runner.backend, LocalBackend)


async def test_async_run_locally():
    runner = Runner(Doubler, name="d2")
    runner.init_local()
    assert await runner.async_run([1]) == [2]


async def test_async_run_local_errors_propagate():
    runner = Runner(Doubler)
    with pytest.raises(ValueError, match="boom"):
        await runner.fail.async_run("x")


def test_default_method_rule():
    class Call(Runnable):
        @Runnable.method
        def __call__(self, x):
            return "call"

        @Runnable.method
        def predict(self, x):
            return "predict"

    class Only(Runnable):
        @Runnable.method
        def classify(self, x):
            return "only"

    class Many(Runnable):
        @Runnable.method
        def a(self):
            return "a"

        @Runnable.method
        def b(self):
            return "b"

    assert Runner(Call).run(1) == "call"
    assert Runner(Only).run(1) == "only"
    assert Runner(Many).a.run() == "a"
    with pytest.raises(InvalidArgument, match=r"several methods \(a, b\)"):
        Runner(Many).run()


def test_runner_rejects_bad_arguments():
    class NoMethods(Runnable):
        pass

    with pytest.raises(InvalidArgument, match="no method marked"):
        Runner(NoMethods)
    with pytest.raises(InvalidArgument, match="Runnable subclass"):
        Runner(object)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="runner name"):
        Runner(Doubler, name="bad name!")
    with pytest.raises(InvalidArgument, match="max_batch_size"):
        Runner(Doubler, max_batch_size=0)
    with pytest.raises(AttributeError, match="no method 'nope'"):
        Runner(Doubler).nope  # noqa: B018


def test_worker_spec_by_class_reference_round_trips():
    runner = Runner(Doubler, runnable_init_params={"delay_s": 0.5})
    spec = WorkerSpec.for_runner(runner)
    assert spec == WorkerSpec("class", "tests.runner.runnables:Doubler", {"delay_s": 0.5})
    assert WorkerSpec.from_json(spec.to_json()) == spec
    built = spec.build()
    assert isinstance(built, Doubler) and built.delay_s == 0.5


def test_worker_spec_for_a_dynamic_model_runnable_is_a_model_recipe():
    def get_runnable():
        class ModelRunnable(Runnable):
            def __init__(self, model_tag: str) -> None:
                self.tag = model_tag

            @Runnable.method
            def predict(self, x):
                return x

        return ModelRunnable

    runner = Runner(get_runnable(), runnable_init_params={"model_tag": "iris:abc"})
    assert ref_of(runner.runnable_class) is None
    assert WorkerSpec.for_runner(runner) == WorkerSpec("model", "iris:abc", {})


def test_worker_spec_factory_builds_an_instance():
    spec = WorkerSpec("factory", "tests.runner.runnables:make_doubler", {"delay_s": 0.25})
    assert spec.build().delay_s == 0.25


def test_worker_spec_errors_are_clear():
    class Local(Runnable):
        @Runnable.method
        def predict(self, x):
            return x

    with pytest.raises(BuildError, match="define it at module level"):
        WorkerSpec.for_runner(Runner(Local))
    with pytest.raises(BuildError, match="JSON values"):
        WorkerSpec.for_runner(Runner(Doubler, runnable_init_params={"delay_s": object()})).to_json()
    with pytest.raises(BuildError, match="cannot import"):
        WorkerSpec("class", "tests.runner.runnables:Nope").build()
    with pytest.raises(BuildError, match="expected 'module:qualname'"):
        WorkerSpec("class", "no_colon").build()
    with pytest.raises(BuildError, match="did not build a Runnable"):
        WorkerSpec("factory", "os:getcwd").build()
    with pytest.raises(BuildError, match="unknown worker spec kind"):
        WorkerSpec.from_json('{"kind": "evil", "ref": "x"}')


def test_worker_count_rule(monkeypatch):
    from bentotui.runner.pool import worker_count
    from tests.runner.runnables import Broken

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert worker_count(Runner(Doubler), None) == 1  # threads by itself
    assert worker_count(Runner(Broken), None) == 8  # one per core
    assert worker_count(Runner(Broken, workers=3), None) == 3
    assert worker_count(Runner(Broken, workers=3), 2) == 2  # --runner-workers wins
    with pytest.raises(InvalidArgument, match="workers must be >= 1"):
        Runner(Doubler, workers=0)
