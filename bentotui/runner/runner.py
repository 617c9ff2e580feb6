"""``Runner``: a named handle on a runnable, whose calls go to a *backend*.

Outside a server a runner is unbound: its first ``run``/``async_run`` builds the runnable
in-process (:meth:`Runner.init_local`), so a plain script just works.  Inside a server the
:class:`~bentotui.runner.pool.RunnerPool` binds it to worker processes, and the same calls in API
handlers go there, batched.

The default method (``runner.run`` / ``runner.async_run``): ``__call__`` when the runnable marks
it, else its only method, else ``predict``; any other method is ``runner.<name>.run / async_run``.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any, Protocol

from bentotui.exceptions import InvalidArgument
from bentotui.runner.runnable import MethodConfig, Runnable

if TYPE_CHECKING:
    from bentotui.runner.spec import WorkerSpec

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class Backend(Protocol):
    """Where a runner's calls go: in-process or worker processes."""

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    def call_sync(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


class LocalBackend:
    """Calls the runnable in the caller's thread: no batching, no processes (scripts, tests)."""

    def __init__(self, runnable: Runnable) -> None:
        self.runnable = runnable

    def call_sync(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return getattr(self.runnable, method)(*args, **kwargs)

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = self.call_sync(method, args, kwargs)
        return await result if inspect.isawaitable(result) else result


class RunnerMethod:
    """``runner.<method>``: ``run`` (blocking) and ``async_run`` for one runnable method."""

    def __init__(self, runner: Runner, name: str, config: MethodConfig) -> None:
        self.runner = runner
        self.name = name
        self.config = config

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.runner.backend.call_sync(self.name, args, kwargs)

    async def async_run(self, *args: Any, **kwargs: Any) -> Any:
        return await self.runner.backend.call(self.name, args, kwargs)

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
        max_batch_size: int = 100,
        max_latency_ms: float = 10_000,
        python: str | None = None,
        worker_spec: WorkerSpec | None = None,
        workers: int | None = None,
    ) -> None:
        if not (isinstance(runnable_class, type) and issubclass(runnable_class, Runnable)):
            raise InvalidArgument(f"a Runner needs a Runnable subclass, got {runnable_class!r}")
        self.name = name if name is not None else runnable_class.__name__.lower()
        if not _NAME.match(self.name):
            raise InvalidArgument(
                f"runner name {self.name!r} must be 1-63 chars of letters, digits, '.', '_', '-'"
            )
        if max_batch_size < 1 or max_latency_ms <= 0:
            raise InvalidArgument("max_batch_size must be >= 1 and max_latency_ms > 0")
        if workers is not None and workers < 1:
            raise InvalidArgument(f"runner workers must be >= 1, got {workers}")
        self.runnable_class = runnable_class
        self.runnable_init_params = dict(runnable_init_params or {})
        self.models = list(models or [])
        self.max_batch_size = int(max_batch_size)
        self.max_latency_ms = float(max_latency_ms)
        #: an external interpreter for this runner's workers (``python -m bentotui _worker``)
        self.python = python
        #: an explicit recipe for workers; None derives one (see ``WorkerSpec.for_runner``)
        self.worker_spec = worker_spec
        #: worker processes for this runner; None: the pool's setting or the runnable's default
        self.workers = workers
        self.methods = {
            method: RunnerMethod(self, method, config)
            for method, config in runnable_class.runnable_methods().items()
        }
        if not self.methods:
            raise InvalidArgument(f"{runnable_class.__qualname__} has no method marked with @Runnable.method")
        self._backend: Backend | None = None

    # -- backends ----------------------------------------------------------------------------
    def init_local(self) -> None:
        """Build the runnable in this process and send every call to it."""
        self.bind(LocalBackend(self.runnable_class(**self.runnable_init_params)))

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
