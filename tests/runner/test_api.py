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
    assert set(methods) == {"predict", "width4", "pid", "fail", "threads", "count"}
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

    with pytest.raises(BuildError, match="no method marked"):
        Runner(NoMethods)
    with pytest.raises(BuildError, match="Runnable subclass"):
        Runner(object)  # type: ignore[arg-type]
    with pytest.raises(BuildError, match="runner name"):
        Runner(Doubler, name="bad name!")
    with pytest.raises(BuildError, match="max_batch_size must be an integer >= 1, got 0"):
        Runner(Doubler, max_batch_size=0)
    with pytest.raises(BuildError, match="max_latency_ms must be a number > 0, got -1"):
        Runner(Doubler, max_latency_ms=-1)
    with pytest.raises(BuildError, match="runner workers must be >= 1"):
        Runner(Doubler, workers=0)
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


def test_method_configs_set_limits_per_method():
    runner = Runner(Doubler, max_batch_size=32, method_configs={"predict": {"max_batch_size": 4, "max_latency_ms": 50}})
    assert (runner.predict.max_batch_size, runner.predict.max_latency_ms) == (4, 50.0)
    assert (runner.width4.max_batch_size, runner.width4.max_latency_ms) == (32, 10_000.0)
    assert Runner(Doubler, max_batch_size=None, max_latency_ms=None).max_batch_size == 100  # BentoML's Nones
    with pytest.raises(BuildError, match="method_configs names no runnable method: nope"):
        Runner(Doubler, method_configs={"nope": {}})
    with pytest.raises(BuildError, match=r"method_configs\['predict'\] may set only .* not batchable"):
        Runner(Doubler, method_configs={"predict": {"batchable": False}})
    with pytest.raises(BuildError, match="method 'predict': max_batch_size must be an integer >= 1, got 0"):
        Runner(Doubler, method_configs={"predict": {"max_batch_size": 0}})


def test_bentoml_only_arguments_are_accepted():
    runner = Runner(Doubler, scheduling_strategy=object, embedded=True)
    assert runner.embedded and runner.scheduling_strategy is object


def test_add_method_and_method_options():
    class Model(Runnable):
        @Runnable.method(batchable=True, input_spec=list, output_spec=list)
        def predict(self, x):
            return x

    def triple(self, x):
        return [v * 3 for v in x]

    Model.add_method(triple, "triple", batchable=True, batch_dim=(0, 1))
    Model.add_method(triple, "triple_one")
    methods = Model.runnable_methods()
    assert methods["predict"].input_spec is list and methods["predict"].output_spec is list
    assert (methods["triple"].batchable, methods["triple"].input_dim, methods["triple"].output_dim) == (True, 0, 1)
    assert not methods["triple_one"].batchable  # one function, two configs
    assert Runner(Model).triple_one.run([1]) == [3]
    with pytest.raises(BuildError, match="'two words' is not a Python identifier"):
        Model.add_method(triple, "two words")


@pytest.mark.parametrize("batch_dim", [-1, "0", (0, 1, 2), 1.5, True])
def test_bad_batch_dim_fails_where_the_class_is_defined(batch_dim):
    with pytest.raises(BuildError, match="batch_dim must be an axis"):

        class Model(Runnable):
            @Runnable.method(batchable=True, batch_dim=batch_dim)
            def predict(self, x):
                return x


def test_init_local_as_in_scripts_and_notebooks():
    runner = Runner(Doubler)
    runner.init_local(quiet=True)
    first = runner.backend
    runner.init_local()  # a re-run notebook cell rebuilds the runnable
    assert runner.backend is not first
    runner.destroy()
    assert runner._backend is None
    assert runner.run([4]) == [8]  # the next call builds it again


def test_local_batchable_call_checks_batch_sizes():
    from bentotui.exceptions import BadInput

    runner = Runner(Doubler)
    with pytest.raises(BadInput, match=r"different lengths: \[1, 2\]"):
        runner.predict.run([1], [1, 2])


async def test_local_async_run_keeps_the_event_loop_free():
    """A synchronous method runs in a thread: other coroutines go on while it computes."""
    import asyncio
    import threading

    class Slow(Runnable):
        @Runnable.method
        def work(self):
            import time

            time.sleep(0.3)
            return threading.get_ident()

        @Runnable.method
        async def native(self):
            return threading.get_ident()

    runner = Runner(Slow)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    worker_thread = await runner.work.async_run()
    ticker.cancel()
    assert ticks >= 10 and worker_thread != threading.get_ident()
    assert await runner.native.async_run() == threading.get_ident()  # coroutines stay on the loop
