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

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from bentotui.exceptions import BuildError

F = TypeVar("F", bound=Callable[..., Any])

_TAG = "__bentotui_method__"


@dataclass(frozen=True)
class MethodConfig:
    """How one runnable method is called: batchable ones go through the adaptive batcher.

    ``batch_dim`` is the axis along which inputs are concatenated and outputs split
    (``input_dim`` and ``output_dim`` differ only when a tuple was given, as in BentoML).
    ``input_spec``/``output_spec`` are BentoML's optional type hints for a method; they are kept
    for the reader and not checked.
    """

    batchable: bool = False
    input_dim: int = 0
    output_dim: int = 0
    input_spec: Any = None
    output_spec: Any = None


def _batch_dims(batch_dim: Any) -> tuple[int, int]:
    """``0`` or ``(in, out)`` as ``(in, out)``; anything else is a mistake in the service code."""
    if isinstance(batch_dim, tuple) and len(batch_dim) == 2:
        dims = batch_dim
    else:
        dims = (batch_dim, batch_dim)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise BuildError(f"batch_dim must be an axis (int >= 0) or (input_axis, output_axis), got {batch_dim!r}")
    return dims[0], dims[1]


class Runnable:
    """Base class of everything a :class:`~bentotui.runner.runner.Runner` runs."""

    SUPPORTED_RESOURCES: tuple[str, ...] = ("cpu",)
    # True: the library uses several threads itself (one worker is enough); False: one worker
    # per core.
    SUPPORTS_CPU_MULTI_THREADING: bool = False
    #: the stored model a framework-built class serves (``Model.to_runnable()``); a Runner of that
    #: very class (not of a subclass) passes it as ``model_tag``, so a worker rebuilds the class
    #: from the model
    bentotui_model_tag: ClassVar[str | None] = None

    @staticmethod
    def method(
        fn: F | None = None,
        *,
        batchable: bool = False,
        batch_dim: int | tuple[int, int] = 0,
        input_spec: Any = None,
        output_spec: Any = None,
    ) -> Any:
        """Mark a method as callable through a runner (usable bare or with options).

        A ``batch_dim`` that is not an axis or an ``(input, output)`` pair is a BuildError when
        the class is defined, not a failure on the first request.
        """
        input_dim, output_dim = _batch_dims(batch_dim)
        config = MethodConfig(
            batchable=bool(batchable),
            input_dim=input_dim,
            output_dim=output_dim,
            input_spec=input_spec,
            output_spec=output_spec,
        )

        def mark(func: F) -> F:
            setattr(func, _TAG, config)
            return func

        return mark(fn) if fn is not None else mark

    @classmethod
    def add_method(
        cls,
        method: Callable[..., Any],
        name: str,
        *,
        batchable: bool = False,
        batch_dim: int | tuple[int, int] = 0,
        input_spec: Any = None,
        output_spec: Any = None,
    ) -> None:
        """Add ``method`` as runner method ``name`` after the class was defined (BentoML's API,
        what framework code uses to build a runnable from a model's signatures)."""
        if not name.isidentifier():
            raise BuildError(f"runnable method name {name!r} is not a Python identifier")

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return method(self, *args, **kwargs)

        # a wrapper of its own, so one function added under two names or configs keeps both
        functools.update_wrapper(call, method)
        call.__name__ = name
        call.__qualname__ = f"{cls.__qualname__}.{name}"
        marked = Runnable.method(
            call, batchable=batchable, batch_dim=batch_dim, input_spec=input_spec, output_spec=output_spec
        )
        setattr(cls, name, marked)

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
