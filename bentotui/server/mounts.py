"""What a service plugs into its server besides APIs: mounted ASGI/WSGI apps and ASGI middleware.

``svc.mount_asgi_app(app, path="/v1")`` (and ``mount_wsgi_app``, and 1.2's ``@bentoml.asgi_app``)
put a FastAPI, Starlette or Flask app next to the APIs.  :class:`MountedApps` sits between
:class:`~bentotui.server.app.ServerCore` and the Quart app, so mounted apps get the server's request
ids, metrics and access log like every other route, while the API fast path never sees them.  A
request under a mount prefix goes to the longest matching prefix with ``root_path`` extended, as
Starlette's ``Mount`` does (``path`` stays whole); a mount at ``/`` gets whatever the server does
not answer itself.  Each mounted app's ASGI lifespan (FastAPI startup/shutdown events, ``lifespan=``)
runs with the server's: a failed startup stops the server.

``svc.add_asgi_middleware(cls, **options)`` wraps the whole server app as ``cls(app, **options)``,
the first added outermost, as BentoML 1.x composes them (outside its metrics and access log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError
from bentotui.routes import INFRA_ROUTES
from bentotui.server.keepalive import CloseUnlessRead
from bentotui.service.service import STATIC_PREFIX

if TYPE_CHECKING:
    from quart import Quart

    from bentotui.service.service import ASGIApp, Service

logger = logging.getLogger("bentotui.server")


def mount_prefix(path: str, prefixes: list[str]) -> str | None:
    """The longest of ``prefixes`` (sorted longest first, "/" excluded) that ``path`` is under."""
    for prefix in prefixes:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def mount_prefixes(service: Service) -> list[str]:
    """The service's mount paths, longest first, without the fallback mount at ``/``."""
    return sorted((path for _, path, _ in service.mount_apps if path != "/"), key=len, reverse=True)


class _Lifespan:
    """Drives one mounted app through the ASGI lifespan protocol, as a server would."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path
        self.state: dict[str, Any] = {}  # what the app's lifespan yields; copied into its requests
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except Exception as exc:
            await self.outbox.put({"type": "app.raised", "error": exc})
        else:
            await self.outbox.put({"type": "app.returned"})

    async def startup(self) -> None:
        self.task = asyncio.create_task(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        if message["type"] == "lifespan.startup.failed":
            reason = str(message.get("message") or "").strip()  # Starlette sends the traceback
            logger.error("the app mounted at %s failed to start:\n%s", self.path, reason)
            last_line = reason.splitlines()[-1] if reason else "no reason given"
            raise BentotuiError(f"the app mounted at {self.path} failed to start: {last_line}")
        if message["type"] != "lifespan.startup.complete":
            # raising or returning at once is how an app says it has no lifespan (uvicorn's "auto")
            logger.debug("the app mounted at %s has no lifespan: %s", self.path, message.get("error"))
            self.task = None

    async def shutdown(self) -> None:
        if self.task is None:
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        message = await self.outbox.get()
        if message["type"] != "lifespan.shutdown.complete":
            logger.warning(
                "the app mounted at %s failed to shut down: %s",
                self.path, message.get("message") or message.get("error"),
            )
        await self.task


#: where Swagger UI is served when an app is mounted at "/" (0.x served its UI at /docs too)
DOCS_UNDER_ROOT_MOUNT = "/docs"


class MountedApps:
    """ASGI: requests under a mount prefix go to the mounted app, everything else to ``inner``."""

    def __init__(self, inner: ASGIApp, service: Service) -> None:
        self.inner = inner
        self.lifespans = {path: _Lifespan(app, path) for app, path, _ in service.mount_apps}
        self.prefixes = mount_prefixes(service)
        self.has_root = "/" in self.lifespans

    def _target(self, path: str) -> str | None:
        prefix = mount_prefix(path, self.prefixes)
        if prefix is not None:
            return prefix
        # a root mount (0.x's @web_static_content) also takes "/"; Swagger UI moves to /docs
        if self.has_root and path != DOCS_UNDER_ROOT_MOUNT and (path == "/" or path not in INFRA_ROUTES) \
                and not _is_static(path):
            return "/"
        return None

    async def __call__(self, scope: Any, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        prefix = self._target(scope["path"]) if scope["type"] in ("http", "websocket") else None
        if prefix is None:
            await self.inner(scope, receive, send)
            return
        mounted = self.lifespans[prefix]
        root_path = scope.get("root_path", "") + ("" if prefix == "/" else prefix)
        await mounted.app({**scope, "root_path": root_path, "state": dict(mounted.state)}, receive, send)

    async def startup(self) -> None:
        started: list[_Lifespan] = []
        try:
            for lifespan in self.lifespans.values():
                await lifespan.startup()
                started.append(lifespan)
        except BaseException:
            for lifespan in reversed(started):
                await lifespan.shutdown()
            raise

    async def shutdown(self) -> None:
        for lifespan in reversed(self.lifespans.values()):
            await lifespan.shutdown()


def _is_static(path: str) -> bool:
    return path == STATIC_PREFIX or path.startswith(STATIC_PREFIX + "/")


def install_mounts(app: Quart, service: Service) -> None:
    """Route the mount prefixes in front of the Quart app; their lifespans run with Quart's."""
    if not service.mount_apps:
        return
    mounted = MountedApps(app.asgi_app, service)
    app.before_serving(mounted.startup)
    app.after_serving(mounted.shutdown)
    app.asgi_app = mounted  # type: ignore[method-assign]  # Quart's documented way to wrap it


def install_middlewares(app: Quart, service: Service) -> None:
    """Wrap the finished server app in the service's middleware, the first added outermost."""
    for middleware_cls, options in reversed(service.middlewares):
        app.asgi_app = middleware_cls(app.asgi_app, **options)  # type: ignore[method-assign]
    if service.middlewares:  # one of them may answer without reading the body
        app.asgi_app = CloseUnlessRead(app.asgi_app)  # type: ignore[method-assign]
