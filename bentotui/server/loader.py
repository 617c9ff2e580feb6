"""Turns what ``bentotui serve`` was given into a :class:`~bentotui.service.service.Service`.

``TARGET`` goes through :data:`RESOLVERS` in order; each returns a Service, or None when the
target is not its kind.  ``module:attr`` (a service object importable from the working folder) is
built in, then bento tags and folders (:mod:`bentotui.bento.serving`); more kinds can be added
with :func:`register_resolver`.  ``--model TAG`` gets an automatic service instead: one API per model
signature, NumpyNdarray (JSON for text models) in, JSON out.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound

Resolver = Callable[[str, Path], Any]

RESOLVERS: list[Resolver] = []


def register_resolver(resolver: Resolver, *, first: bool = False) -> None:
    """Add a TARGET resolver (``(target, working_dir) -> Service | None``)."""
    RESOLVERS.insert(0, resolver) if first else RESOLVERS.append(resolver)


def as_service(obj: Any, where: str) -> Any:
    """A Service from a Service or a 1.2 ``@service`` class (0.x bentos import a generated Service)."""
    from bentotui.service.classes import is_service_class, to_service
    from bentotui.service.service import Service

    if isinstance(obj, Service):
        return obj
    if is_service_class(obj):
        return to_service(obj)
    raise InvalidArgument(f"{where} is a {type(obj).__name__}, not a bentotui Service")


def _module_attr(target: str, working_dir: Path) -> Any:
    """``module:attr`` (or a bare ``module`` holding exactly one Service), imported from working_dir."""
    module_name, _, attr = target.partition(":")
    if not module_name.replace(".", "").replace("_", "").isalnum():
        return None
    if str(working_dir) not in sys.path:
        sys.path.insert(0, str(working_dir))
    try:
        module = importlib.import_module(module_name)
    except BentotuiError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name == module_name.split(".")[0]:
            return None  # not a module here: perhaps a bento tag for a later resolver
        raise BentotuiError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise BentotuiError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    if attr:
        try:
            obj = getattr(module, attr)
        except AttributeError:
            raise NotFound(f"module {module_name!r} has no attribute {attr!r}") from None
        return as_service(obj, target)
    from bentotui.service.service import Service

    found = [v for v in vars(module).values() if isinstance(v, Service)]
    if len(found) != 1:
        raise InvalidArgument(f"module {module_name!r} holds {len(found)} services; name one as {module_name}:ATTR")
    return found[0]


def _bento(target: str, working_dir: Path) -> Any:
    """A bento tag or folder (``bentotui.bento.serving``); the service it returns carries the
    bento's ``working_dir`` (its ``src/``) and ``default_port``."""
    from bentotui.bento.serving import resolve

    return resolve(target, working_dir)


register_resolver(_module_attr)
register_resolver(_bento)


def load_target(target: str, working_dir: Path) -> Any:
    """The Service named by ``target``; NotFound naming what was tried when no resolver knows it."""
    for resolver in RESOLVERS:
        service = resolver(target, working_dir)
        if service is not None:
            return service
    raise NotFound(f"cannot find {target!r}: no such module in {working_dir} (expected module:attribute)")


def _forward(bound: Any) -> Callable[[Any], Any]:
    async def handler(value: Any) -> Any:
        return await bound.async_run(value)

    return handler


def model_service(tag: str) -> Any:
    """An automatic service for one stored model: ``POST /<method>`` per signature.

    ``__call__`` is published as ``/predict`` (what a user of such a model would call it), and
    each API carries a valid example so the TUI's pre-filled request works as it is.
    """
    import bentotui
    from bentotui import io
    from bentotui.service.service import Service

    model = bentotui.models.get(tag)
    runner = model.to_runner()
    service = Service(name=model.tag.name, runners=[runner])
    signatures = model.info.signatures
    for method in signatures:
        handler = _forward(getattr(runner, method))
        name = method
        if method == "__call__":
            name = "call" if "predict" in signatures else "predict"
        handler.__name__ = name
        handler.__doc__ = f"{method} of model {model.tag}"
        service.api(input=_model_input(model), output=io.JSON(), name=name)(handler)
    return service


def _model_input(model: Any) -> Any:
    """The request descriptor of an automatic API, with an example that the model accepts."""
    from bentotui import io

    if model.info.module.endswith("transformers"):
        return io.JSON(example="The striker scored twice as the home side won the cup final")
    width = model.info.options.get("n_features_in")
    if isinstance(width, int):
        return io.NumpyNdarray(example=[[0.0] * width])
    return io.NumpyNdarray()
