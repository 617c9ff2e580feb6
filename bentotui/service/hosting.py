"""The Runnable that hosts a user's service instance in a runner worker (0.x and 1.2 alike).

Both front-ends keep the user's object -- with its loaded models -- in worker processes and turn
each ``@api`` method into a runner method, so batchable ones go through the same adaptive
dispatcher as 1.x runners.  Only how the instance is made differs, hence ``make_instance``.

A 1.2 instance also brings what BentoML gives it in the process that hosts it: a
:class:`~bentotui.service.context.Context` (one per instance, its ``state`` shared by hooks and
methods), ``@on_startup`` hooks run right after the instance is made and ``@on_shutdown`` hooks
run by :meth:`close`.  A method that takes a context gets the request snapshot the API side sent
as that keyword argument, runs inside it, and returns ``(result, response changes)`` for the API
side to apply (:meth:`Context.adopt_response`); a batchable method gets the context without a
request, since one call serves many.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bentotui.exceptions import BadInput
from bentotui.service.context import Context, Request, takes_context


@dataclass(frozen=True)
class Hosted:
    """What a hosting Runnable does besides forwarding: context parameters (``{attr: param}``)
    and the instance's lifecycle hook methods, by name, in order."""

    context_params: Mapping[str, str]
    startup: Sequence[str] = ()
    shutdown: Sequence[str] = ()


_PLAIN = Hosted(context_params={})


def instance_runnable(
    class_name: str,
    make_instance: Callable[[], Any],
    methods: dict[str, tuple[bool, int]],
    hosted: Hosted = _PLAIN,
) -> type:
    """A Runnable class whose ``__init__`` calls ``make_instance`` and whose methods
    (``{attr: (batchable, batch_dim)}``) forward to the instance's methods of the same name."""
    from bentotui.runner.runnable import Runnable

    def __init__(self: Any) -> None:
        self.instance = make_instance()
        self.context = Context()
        run_hooks(self.instance, hosted.startup, self.context)

    def close(self: Any) -> None:
        """Run the instance's shutdown hooks (the worker does at exit)."""
        run_hooks(self.instance, hosted.shutdown, self.context)

    namespace: dict[str, Any] = {
        "SUPPORTED_RESOURCES": ("cpu",),
        "SUPPORTS_CPU_MULTI_THREADING": True,
        "__init__": __init__,
        "close": close,
    }
    for attr, (batchable, batch_dim) in methods.items():
        param = hosted.context_params.get(attr)
        if param is None:
            forward = _forward(attr)
        elif batchable:
            forward = _forward_with_context(attr, param)
        else:
            forward = _forward_in_request(attr, param)
        namespace[attr] = Runnable.method(forward, batchable=batchable, batch_dim=batch_dim)
    return type(f"{class_name}Runnable", (Runnable,), namespace)


def run_hooks(instance: Any, names: Sequence[str], context: Context) -> None:
    """Call the instance's hook methods in order, each with the context if it takes one; an
    ``async`` hook runs to completion on an event loop of its own (the worker's is not running
    yet when the instance is made, nor any longer when it exits)."""
    for name in names:
        hook = getattr(instance, name)
        result = hook(context) if takes_context(hook, name) else hook()
        if inspect.isawaitable(result):
            asyncio.run(_completed(result))


async def _completed(awaitable: Any) -> Any:
    return await awaitable


def _forward(attr: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _call(attr, getattr(self.instance, attr), args, kwargs)

    call.__name__ = attr
    return call


def _forward_with_context(attr: str, param: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _call(attr, getattr(self.instance, attr), args, {**kwargs, param: self.context})

    call.__name__ = attr
    return call


def _forward_in_request(attr: str, param: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs.pop(param)
        method = getattr(self.instance, attr)
        kwargs[param] = self.context
        if inspect.iscoroutinefunction(method):
            return _awaited_in_request(attr, self.context, request, method, args, kwargs)
        with self.context.in_request(request) as changes:
            result = _call(attr, method, args, kwargs)
        return result, changes

    call.__name__ = attr
    return call


async def _awaited_in_request(
    attr: str, context: Context, request: Request, method: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
) -> Any:
    with context.in_request(request) as changes:  # inside the coroutine: its body runs here
        result = await _awaited(attr, method(*args, **kwargs))
    return result, changes


def _call(attr: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        result = method(*args, **kwargs)
    except ValueError as exc:
        raise _bad_input(attr, exc) from exc
    # an ``async def`` method: the worker awaits what a runner method returns
    return _awaited(attr, result) if inspect.isawaitable(result) else result


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
