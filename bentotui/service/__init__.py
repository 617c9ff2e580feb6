"""Services: the 1.x ``Service`` (and, compiled onto it, 0.x and 1.2 service styles)."""

from __future__ import annotations

import sys
import types
from typing import Any

from bentotui.service.service import RESERVED_ROUTES, APISpec, Service

__all__ = ["RESERVED_ROUTES", "APISpec", "Service"]


class _CallablePackage(types.ModuleType):
    """``bentotui.service`` is both this package and BentoML 1.2's ``@bentoml.service`` decorator.

    Once this package is imported, Python binds ``bentotui.service`` to it, shadowing the lazy
    public decorator (a server imports the package before the user's module runs
    ``@bentoml.service(...)``), so calling the package forwards to the decorator.
    """

    def __call__(
        self,
        cls: type | None = None,
        /,
        *,
        name: str | None = None,
        workers: int | None = None,
        resources: dict[str, Any] | None = None,
        traffic: dict[str, Any] | None = None,
    ) -> object:  # the signature of classes.service, which it forwards to
        from bentotui.service.classes import service

        return service(cls, name=name, workers=workers, resources=resources, traffic=traffic)


sys.modules[__name__].__class__ = _CallablePackage
