"""FastAPI routes written as methods of a ``@service`` class (``@app.get("/hello") def hello(self)``).

BentoML 1.2's ASGI guide allows it: the route's ``self`` is filled in by FastAPI's dependency
injection with :func:`~bentotui.service.current.get_current_service`.  FastAPI analyses a route's
signature when the route is added, so the routes are taken out and added again through a router
once ``self`` has that default (the other parameters become keyword-only, since ``self`` is no
longer positional).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from bentotui.exceptions import BuildError


def bind_class_views(cls: type, app: Any) -> None:
    """Give the FastAPI routes defined in ``cls``'s body their ``self`` (no-op for other apps)."""
    if "fastapi" not in sys.modules:  # a FastAPI app imported it already
        return
    from fastapi import Depends, FastAPI
    from fastapi.routing import APIRoute, APIRouter, APIWebSocketRoute

    from bentotui.service.current import get_current_service

    if not isinstance(app, FastAPI):
        return
    methods = [value for value in vars(cls).values() if callable(value)]
    routes = [r for r in app.routes if isinstance(r, (APIRoute, APIWebSocketRoute)) and r.endpoint in methods]
    if not routes:
        return
    router = APIRouter()
    for route in routes:
        app.routes.remove(route)
        signature = inspect.signature(route.endpoint)
        if not signature.parameters:
            raise BuildError(f"{cls.__name__}.{route.endpoint.__name__}: a route method takes self")
        first, *rest = signature.parameters.values()
        parameters = [
            first.replace(default=Depends(get_current_service)),
            *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in rest),
        ]
        route.endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        router.routes.append(route)
    app.include_router(router)
