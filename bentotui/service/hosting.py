"""The Runnable that hosts a user's service instance in a runner worker (0.x and 1.2 alike).

Both front-ends keep the user's object -- with its loaded models -- in worker processes and turn
each ``@api`` method into a runner method, so batchable ones go through the same adaptive
dispatcher as 1.x runners.  Only how the instance is made differs, hence ``make_instance``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from bentotui.exceptions import BadInput


def instance_runnable(
    class_name: str, make_instance: Callable[[], Any], methods: dict[str, tuple[bool, int]]
) -> type:
    """A Runnable class whose ``__init__`` calls ``make_instance`` and whose methods
    (``{attr: (batchable, batch_dim)}``) forward to the instance's methods of the same name."""
    from bentotui.runner.runnable import Runnable

    namespace: dict[str, Any] = {
        "SUPPORTED_RESOURCES": ("cpu",),
        "SUPPORTS_CPU_MULTI_THREADING": True,
        "__init__": lambda self: setattr(self, "instance", make_instance()),
    }
    for attr, (batchable, batch_dim) in methods.items():
        namespace[attr] = Runnable.method(_forward(attr), batchable=batchable, batch_dim=batch_dim)
    return type(f"{class_name}Runnable", (Runnable,), namespace)


def _forward(attr: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = getattr(self.instance, attr)(*args, **kwargs)
        except ValueError as exc:
            raise _bad_input(attr, exc) from exc
        # an ``async def`` method: the worker awaits what a runner method returns
        return _awaited(attr, result) if inspect.isawaitable(result) else result

    call.__name__ = attr
    return call


async def _awaited(attr: str, awaitable: Any) -> Any:
    try:
        return await awaitable
    except ValueError as exc:
        raise _bad_input(attr, exc) from exc


def _bad_input(attr: str, exc: ValueError) -> BadInput:
    """What model libraries raise for input they cannot take ("X has 2 features, but ... is
    expecting 4") is the caller's to fix: a 400 in the library's words, not a 500.  Batches only
    merge calls of the same shape, so one bad request fails alone."""
    return BadInput(f"{attr}: {exc}")
