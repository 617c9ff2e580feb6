"""``bentotui.api``: the one method decorator shared by 0.x ``BentoService`` and 1.2 ``@service`` classes.

BentoML spelled both front-ends ``@bentoml.api``, so porting code must keep that name.  The two
styles are told apart by their arguments: ``input=``/``output=``/``batch=`` are 0.x (adapters),
``batchable=``/``batch_dim=``/``max_batch_size=``/``max_latency_ms=`` are 1.2 (typed parameters);
mixing them is an error.  A bare ``@bentotui.api`` or one with only ``route``/``name`` is 1.2 style.
``@bentotui.task`` (BentoML 1.2's ``@bentoml.task``) is the 1.2 style of ``@api`` with ``task`` set:
the method is served as an API and also as a background task (``/<route>/submit`` and friends).

The decorator only records an :class:`APIConfig` on the function and returns the function itself,
so the method stays an ordinary method: callable in tests, from ``depends`` handles, and by the
runner worker that hosts the class instance.  Compilation to a :class:`~bentotui.service.Service`
happens later (``legacy.py`` and ``classes.py``), when the owning class is known.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any, Literal

from bentotui.exceptions import BuildError

ATTR = "__bentotui_api__"

#: which front-end compiles an ``@api`` method: 0.x ``BentoService`` or 1.2 ``@service`` class
Style = Literal["legacy", "class"]

_LEGACY_KEYS = frozenset({"input", "output", "batch"})
_CLASS_KEYS = frozenset({"batchable", "batch_dim", "max_batch_size", "max_latency_ms"})


@dataclass(frozen=True)
class APIConfig:
    """What ``@api`` recorded; ``style`` decides which front-end may compile it."""

    style: Style
    route: str | None = None
    name: str | None = None
    doc: str | None = None
    # 0.x
    input: Any = None
    output: Any = None
    batch: bool = False
    # 1.2
    batchable: bool = False
    batch_dim: int = 0
    max_batch_size: int | None = None
    max_latency_ms: int | None = None
    #: ``@task``: the server also runs it in the background (:mod:`bentotui.server.tasks`)
    task: bool = False


def _check_method(fn: Any) -> None:
    """Refuse what cannot be a method of a class: the runner worker calls it on an instance."""
    if isinstance(fn, (staticmethod, classmethod)):
        raise BuildError(f"@bentotui.api cannot decorate a {type(fn).__name__}: use a plain method")
    if not inspect.isfunction(fn):
        raise BuildError(f"@bentotui.api decorates methods, not {type(fn).__name__} {fn!r}")
    parts = fn.__qualname__.split(".")
    params = list(inspect.signature(fn).parameters)
    if len(parts) < 2 or parts[-2] == "<locals>" or not params or params[0] != "self":
        raise BuildError(
            f"@bentotui.api on {fn.__qualname__!r}: it decorates methods (first parameter 'self') of a "
            "BentoService subclass or a @bentotui.service class; for a 1.x Service use @svc.api"
        )


def _config(kwargs: dict[str, Any]) -> APIConfig:
    legacy = _LEGACY_KEYS & kwargs.keys()
    modern = _CLASS_KEYS & kwargs.keys()
    if legacy and modern:
        raise BuildError(
            f"@bentotui.api mixes 0.x arguments ({', '.join(sorted(legacy))}) with 1.2 arguments "
            f"({', '.join(sorted(modern))}); use one style"
        )
    if legacy and "input" not in kwargs:
        raise BuildError("@bentotui.api in 0.x style needs input=, e.g. input=DataframeInput()")
    style: Style = "legacy" if legacy else "class"
    config = APIConfig(style=style, **kwargs)
    if config.batch_dim < 0:
        raise BuildError(f"@bentotui.api batch_dim must be >= 0, got {config.batch_dim}")
    for key in ("max_batch_size", "max_latency_ms"):
        value = getattr(config, key)
        if value is not None and value <= 0:
            raise BuildError(f"@bentotui.api {key} must be positive, got {value}")
    return config


def api(fn: Any = None, /, **kwargs: Any) -> Any:
    """Mark a method as an HTTP API (``@api``, ``@api(...)``); see the module docstring."""
    return _mark(fn, kwargs, task=False)


def task(fn: Any = None, /, **kwargs: Any) -> Any:
    """Mark a method of a 1.2 ``@service`` class as a task (``@task``, ``@task(route=...,
    batchable=...)``): BentoML's async task queue, submitted now and fetched later."""
    legacy = _LEGACY_KEYS & kwargs.keys()
    if legacy:
        raise BuildError(
            f"@bentotui.task takes 1.2 arguments (route, name, batchable, ...), not {', '.join(sorted(legacy))}"
        )
    return _mark(fn, kwargs, task=True)


def _mark(fn: Any, kwargs: dict[str, Any], *, task: bool) -> Any:
    allowed = _LEGACY_KEYS | _CLASS_KEYS | {"route", "name"}
    unknown = kwargs.keys() - allowed
    if unknown:
        raise BuildError(
            f"@bentotui.api got unknown argument(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )

    # argument mistakes surface at the decorator line, before any method exists
    config = replace(_config(kwargs), task=task)

    def decorate(func: Any) -> Any:
        _check_method(func)
        setattr(func, ATTR, replace(config, doc=inspect.getdoc(func)))
        return func

    return decorate if fn is None else decorate(fn)


def api_methods(cls: type, style: Style, *, allow_none: bool = False) -> dict[str, tuple[str, APIConfig]]:
    """The ``@api`` methods of ``cls`` (inherited ones too), as ``{api_name: (attr, config)}``.

    Methods marked in the other style are an error, so a 1.2 decorator on a BentoService (or the
    reverse) is reported at build time instead of serving something half-configured.
    """
    found: dict[str, tuple[str, APIConfig]] = {}
    for attr in dir(cls):
        config = getattr(getattr(cls, attr, None), ATTR, None)
        if not isinstance(config, APIConfig):
            continue
        if config.style != style:
            wanted = "input=..., batch=..." if style == "legacy" else "batchable=..., batch_dim=..."
            raise BuildError(f"{cls.__name__}.{attr}: @bentotui.api here takes {wanted}")
        found[config.name or attr] = (attr, config)
    if not found and not allow_none:
        raise BuildError(f"{cls.__name__} has no @bentotui.api methods")
    return found
