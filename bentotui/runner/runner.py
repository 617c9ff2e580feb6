"""``Runner``: a named handle on a runnable, whose calls go to a *backend*.

Outside a server a runner is unbound: its first ``run``/``async_run`` builds the runnable
in-process (:meth:`Runner.init_local`), so a plain script or a notebook just works, with or
without BentoML's explicit ``runner.init_local()``.  Inside a server the
:class:`~bentotui.runner.pool.RunnerPool` binds it to worker processes, and the same calls in API
handlers go there, batched.

The default method (``runner.run`` / ``runner.async_run``): ``__call__`` when the runnable marks
it, else its only method, else ``predict``; any other method is ``runner.<name>.run / async_run``.
A method that yields (a generator) is read with ``runner.<name>.async_stream(...)``, BentoML's
name: an async generator of its items, produced in the worker as they are read.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.runner import containers
from bentotui.runner.runnable import MethodConfig, Runnable
from bentotui.runner.stream import ItemStream, aiterate

if TYPE_CHECKING:
    from bentotui.runner.spec import WorkerSpec

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
DEFAULT_MAX_BATCH_SIZE = 100
DEFAULT_MAX_LATENCY_MS = 10_000.0
_METHOD_LIMITS = frozenset({"max_batch_size", "max_latency_ms"})


class Backend(Protocol):
    """Where a runner's calls go: in-process or worker processes."""

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    def call_sync(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    async def open_stream(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ItemStream:
        """Start a method that yields; its items come as the stream is read."""
        ...


class LocalBackend:
    """Calls the runnable in this process: no batching, no worker processes (scripts, notebooks).

    As BentoML's local runner: the inputs of a batchable method must agree on their batch size,
    and ``async_run`` of a synchronous method runs it in a thread, one call at a time, so that an
    event loop (a notebook's, an API handler's) keeps serving while the model computes.
    """

    def __init__(self, runnable: Runnable) -> None:
        self.runnable = runnable
        self.configs = type(runnable).runnable_methods()
        self._lock = threading.Lock()

    def _method(self, method: str, args: tuple[Any, ...]) -> Any:
        config = self.configs.get(method)
        if config is not None and config.batchable:
            containers.describe_call(args, config.input_dim)  # BadInput when batch sizes differ
        return getattr(self.runnable, method)

    def _call_locked(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            return func(*args, **kwargs)

    def call_sync(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._method(method, args)(*args, **kwargs)

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        func = self._method(method, args)
        if inspect.iscoroutinefunction(func):
            return await func(*args, **kwargs)
        result = await asyncio.to_thread(self._call_locked, func, args, kwargs)
        return await result if inspect.isawaitable(result) else result

    async def open_stream(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ItemStream:
        result = self._method(method, args)(*args, **kwargs)  # a generator runs nothing until read
        return aiterate(await result if inspect.isawaitable(result) else result)


class RunnerMethod:
    """``runner.<method>``: ``run`` (blocking) and ``async_run`` for one runnable method.

    ``max_batch_size``/``max_latency_ms``: this method's batching limits (the runner's unless
    ``method_configs`` set its own, as in BentoML).
    """

    def __init__(
        self, runner: Runner, name: str, config: MethodConfig, max_batch_size: int, max_latency_ms: float
    ) -> None:
        self.runner = runner
        self.name = name
        self.config = config
        self.max_batch_size = max_batch_size
        self.max_latency_ms = max_latency_ms

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.runner.backend.call_sync(self.name, args, kwargs)

    async def async_run(self, *args: Any, **kwargs: Any) -> Any:
        return await self.runner.backend.call(self.name, args, kwargs)

    async def async_stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """The items of a method that yields, as they are produced (BentoML's ``async_stream``);
        closing the generator early stops the method's generator (its ``finally:`` runs)."""
        stream = await self.runner.backend.open_stream(self.name, args, kwargs)
        try:
            async for item in stream:
                yield item
        finally:
            await stream.aclose()

    def __repr__(self) -> str:
        return f"<RunnerMethod {self.runner.name}.{self.name} batchable={self.config.batchable}>"


class Runner:
    """A runnable class plus how to build and batch it; see the module docstring."""

    def __init__(
        self,
        runnable_class: type[Runnable],
        *,
        name: str | None = None,
        runnable_init_params: dict[str, Any] | None = None,
        models: list[Any] | None = None,
        max_batch_size: int | None = None,
        max_latency_ms: float | None = None,
        method_configs: Mapping[str, Mapping[str, Any]] | None = None,
        scheduling_strategy: Any = None,
        embedded: bool = False,
        python: str | None = None,
        worker_spec: WorkerSpec | None = None,
        workers: int | None = None,
    ) -> None:
        """BentoML's signature plus bentotui's ``python``, ``worker_spec`` and ``workers``.

        ``max_batch_size``/``max_latency_ms`` default to 100 and 10 s; ``method_configs`` sets
        them per method (``{"predict": {"max_batch_size": 8}}``).  ``scheduling_strategy`` and
        ``embedded`` are accepted for BentoML code: the number of workers comes from
        ``workers`` (or ``SUPPORTS_CPU_MULTI_THREADING``) and runners always run in workers.
        A mistake here is a BuildError when the service module is imported.
        """
        if not (isinstance(runnable_class, type) and issubclass(runnable_class, Runnable)):
            raise BuildError(f"a Runner needs a Runnable subclass, got {runnable_class!r}")
        self.name = name if name is not None else runnable_class.__name__.lower()
        if not _NAME.match(self.name):
            raise BuildError(f"runner name {self.name!r} must be 1-63 chars of letters, digits, '.', '_', '-'")
        self.max_batch_size, self.max_latency_ms = _limits(
            f"runner {self.name!r}",
            DEFAULT_MAX_BATCH_SIZE if max_batch_size is None else max_batch_size,
            DEFAULT_MAX_LATENCY_MS if max_latency_ms is None else max_latency_ms,
        )
        if workers is not None and workers < 1:
            raise BuildError(f"runner workers must be >= 1, got {workers}")
        self.runnable_class = runnable_class
        self.runnable_init_params = dict(runnable_init_params or {})
        # Runner(model.to_runnable()); a user's subclass has its own __init__ and name instead
        model_tag = vars(runnable_class).get("bentotui_model_tag")
        if model_tag is not None:
            self.runnable_init_params.setdefault("model_tag", model_tag)
        self.models = list(models or [])
        #: an external interpreter for this runner's workers (``python -m bentotui _worker``)
        self.python = python
        #: an explicit recipe for workers; None derives one (see ``WorkerSpec.for_runner``)
        self.worker_spec = worker_spec
        #: worker processes for this runner; None: the pool's setting or the runnable's default
        self.workers = workers
        #: GPUs each server of it hands its workers (``{"gpu": N}``: a 1.2 ``@service``'s
        #: ``resources``); ``serve --gpus`` sets it for runners that support GPUs and ask for none
        self.resources: dict[str, Any] = {}
        self.scheduling_strategy = scheduling_strategy
        self.embedded = embedded
        self.methods = self._make_methods(dict(method_configs or {}))
        self._backend: Backend | None = None

    def _make_methods(self, method_configs: dict[str, Mapping[str, Any]]) -> dict[str, RunnerMethod]:
        configs = self.runnable_class.runnable_methods()
        if not configs:
            raise BuildError(f"{self.runnable_class.__qualname__} has no method marked with @Runnable.method")
        unknown = sorted(set(method_configs) - set(configs))
        if unknown:
            raise BuildError(
                f"runner {self.name!r}: method_configs names no runnable method: {', '.join(unknown)} "
                f"(methods: {', '.join(sorted(configs))})"
            )
        methods = {}
        for method, config in configs.items():
            own = dict(method_configs.get(method, {}))
            extra = sorted(set(own) - _METHOD_LIMITS)
            if extra:
                raise BuildError(
                    f"runner {self.name!r}: method_configs[{method!r}] may set only max_batch_size "
                    f"and max_latency_ms, not {', '.join(extra)}"
                )
            size, latency = _limits(
                f"runner {self.name!r} method {method!r}",
                own.get("max_batch_size", self.max_batch_size),
                own.get("max_latency_ms", self.max_latency_ms),
            )
            methods[method] = RunnerMethod(self, method, config, size, latency)
        return methods

    # -- backends ----------------------------------------------------------------------------
    def init_local(self, quiet: bool = False) -> None:
        """Build the runnable in this process and send every call to it.

        BentoML requires this call in scripts and notebooks; here the first call does it too.
        Calling it again rebuilds the runnable (a notebook cell re-run reloads the model).
        ``quiet`` is BentoML's switch for its "for debugging only" warning, which bentotui does
        not print: running in-process is the intended way to use a runner outside a server.
        """
        self.bind(LocalBackend(self.runnable_class(**self.runnable_init_params)))

    def destroy(self) -> None:
        """Drop the backend (and with a local one, the runnable and its model), as BentoML's."""
        self.bind(None)

    def bind(self, backend: Backend | None) -> None:
        """Route calls to ``backend`` (the pool does this); None unbinds."""
        self._backend = backend

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self.init_local()
        assert self._backend is not None
        return self._backend

    # -- calls -------------------------------------------------------------------------------
    @property
    def default_method(self) -> RunnerMethod:
        if "__call__" in self.methods:
            return self.methods["__call__"]
        if len(self.methods) == 1:
            return next(iter(self.methods.values()))
        if "predict" in self.methods:
            return self.methods["predict"]
        raise InvalidArgument(
            f"runner {self.name!r} has several methods ({', '.join(sorted(self.methods))}): "
            "call runner.<method>.run(...)"
        )

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.default_method.run(*args, **kwargs)

    async def async_run(self, *args: Any, **kwargs: Any) -> Any:
        return await self.default_method.async_run(*args, **kwargs)

    def __getattr__(self, name: str) -> RunnerMethod:
        methods: dict[str, RunnerMethod] = self.__dict__.get("methods", {})
        if name in methods:
            return methods[name]
        raise AttributeError(f"runner {self.__dict__.get('name')!r} has no method {name!r}")

    def __repr__(self) -> str:
        return f"<Runner {self.name} ({self.runnable_class.__qualname__})>"


def _limits(what: str, max_batch_size: Any, max_latency_ms: Any) -> tuple[int, float]:
    """Checked batching limits: a batch of at least one call, a positive latency budget."""
    if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
        raise BuildError(f"{what}: max_batch_size must be an integer >= 1, got {max_batch_size!r}")
    if isinstance(max_latency_ms, bool) or not isinstance(max_latency_ms, (int, float)) or max_latency_ms <= 0:
        raise BuildError(f"{what}: max_latency_ms must be a number > 0, got {max_latency_ms!r}")
    return max_batch_size, float(max_latency_ms)
