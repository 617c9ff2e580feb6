"""``Runnable``: the class a user (or a framework module) writes to say how a model is called.

BentoML 1.x style::

    class MyRunnable(bentotui.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True

        @bentotui.Runnable.method(batchable=True, batch_dim=0)
        def predict(self, x): ...

The decorator only tags the function with a :class:`MethodConfig`; the runner and the worker read
the tags, so a runnable stays a plain class that is cheap to import and to build in a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_TAG = "__bentotui_method__"


@dataclass(frozen=True)
class MethodConfig:
    """How one runnable method is called: batchable ones go through the adaptive batcher.

    ``batch_dim`` is the axis along which inputs are concatenated and outputs split
    (``input_dim`` and ``output_dim`` differ only when a tuple was given, as in BentoML).
    """

    batchable: bool = False
    input_dim: int = 0
    output_dim: int = 0


class Runnable:
    """Base class of everything a :class:`~bentotui.runner.runner.Runner` runs."""

    SUPPORTED_RESOURCES: tuple[str, ...] = ("cpu",)
    # True: the library uses several threads itself (one worker is enough); False: one worker
    # per core.
    SUPPORTS_CPU_MULTI_THREADING: bool = False

    @staticmethod
    def method(fn: F | None = None, *, batchable: bool = False, batch_dim: int | tuple[int, int] = 0) -> Any:
        """Mark a method as callable through a runner (usable bare or with options)."""
        if isinstance(batch_dim, tuple):
            input_dim, output_dim = batch_dim
        else:
            input_dim = output_dim = batch_dim
        config = MethodConfig(batchable=batchable, input_dim=input_dim, output_dim=output_dim)

        def mark(func: F) -> F:
            setattr(func, _TAG, config)
            return func

        return mark(fn) if fn is not None else mark

    @classmethod
    def runnable_methods(cls) -> dict[str, MethodConfig]:
        """Every method marked with :meth:`method`, by name (inherited ones included)."""
        found: dict[str, MethodConfig] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                config = getattr(value, _TAG, None)
                if isinstance(config, MethodConfig):
                    found[name] = config
        return found
