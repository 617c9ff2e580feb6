"""What ``self.other`` is for ``other = bentoml.depends(Other)``: the instance, plus BentoML's views.

BentoML hands a dependency as a remote handle whose methods can be called as they are,
``handle.to_async.method(...)`` (awaitable whatever the method is) or ``handle.to_sync.method(...)``.
Here the dependency is an instance in the same worker, so the handle forwards attribute access to it
and the two views adapt the calling convention: a sync method awaited through ``to_async`` runs in a
thread (the event loop keeps serving), an async method called through ``to_sync`` runs to
completion on a loop of its own.  As through BentoML's client, whose request model ignores extra
fields, keyword arguments an ``@api`` method does not take are dropped (BentoML's inference-graph
example passes ``max_length=`` to a ``generate(self, sentence)``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any


def _api_method(instance: Any, name: str) -> Any:
    """``instance.name``; an ``@api`` method is wrapped to drop keyword arguments it does not take."""
    from bentotui.service.decorators import ATTR

    method = getattr(instance, name)
    if getattr(method, ATTR, None) is None:
        return method
    parameters = inspect.signature(method).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return method

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            return await method(*args, **{k: v for k, v in kwargs.items() if k in parameters})

        return call_async

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **{k: v for k, v in kwargs.items() if k in parameters})

    return call


class DependencyHandle:
    """Forwards to the dependency instance; ``to_async`` and ``to_sync`` are BentoML's views."""

    def __init__(self, instance: Any) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Any:
        return _api_method(self._instance, name)

    def __repr__(self) -> str:
        return f"<dependency {type(self._instance).__name__}>"

    @property
    def to_async(self) -> _AsyncView:
        return _AsyncView(self._instance)

    @property
    def to_sync(self) -> _SyncView:
        return _SyncView(self._instance)


class _AsyncView:
    def __init__(self, instance: Any) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = _api_method(self._instance, name)
        if inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        @functools.wraps(method)
        async def in_thread(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return in_thread


class _SyncView:
    def __init__(self, instance: Any) -> None:
        self._instance = instance

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = _api_method(self._instance, name)
        if not inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        @functools.wraps(method)
        def to_completion(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(method(*args, **kwargs))
            raise RuntimeError(
                f"{name} is async and this code runs in an event loop: await it (or use .to_async.{name})"
            )

        return to_completion
