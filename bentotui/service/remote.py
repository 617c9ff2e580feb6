"""What ``self.other`` is for ``other = bentoml.depends(url="http://...")``: BentoML's ``RemoteProxy``.

A dependency served elsewhere is called over HTTP with bentotui's BentoML-style clients
(:class:`~bentotui.client.SyncHTTPClient`, :class:`~bentotui.client.AsyncHTTPClient`).  As in
BentoML: ``handle.to_sync.method(...)`` and ``await handle.to_async.method(...)`` always work;
``handle.method(...)`` needs the service class (``depends(Other, url=...)``), whose method says
whether the call is awaited (an ``async def`` API) or not.  The clients are made on first use, so
a worker starts while the other service is still coming up, and a call waits for nothing but its
answer (``server_ready_timeout=0``, as BentoML's proxy).

``bentotui start-http-server --depends NAME=URL`` (BentoML 1.4's flag) sends every
``depends(Other)`` whose service is named NAME to URL: the server puts the mapping in
:data:`DEPENDS_ENV` before its workers start, and they read it here.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError, InvalidArgument

if TYPE_CHECKING:
    from bentotui.client import AsyncHTTPClient, SyncHTTPClient

DEPENDS_ENV = "BENTOTUI_DEPENDS"
DEFAULT_TIMEOUT_S = 60.0


def remote_urls() -> dict[str, str]:
    """Service name -> URL, from ``--depends`` (through the environment)."""
    raw = os.environ.get(DEPENDS_ENV)
    if not raw:
        return {}
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"${DEPENDS_ENV} is not a JSON object of service names to URLs") from None
    if not isinstance(mapping, dict):
        raise InvalidArgument(f"${DEPENDS_ENV} is not a JSON object of service names to URLs")
    return {str(name): str(url) for name, url in mapping.items()}


def check_url(url: str, what: str) -> str:
    """``url`` if it is an http(s) URL with a host."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("http", "https") or not sep or not rest.split("/")[0]:
        raise InvalidArgument(f"{what}: {url!r} is not an http:// or https:// URL")
    return url.rstrip("/")


class RemoteService:
    """A handle on a service at ``url``; ``service`` (its ``@service`` class, optional) types it."""

    def __init__(self, url: str, service: type | None = None, timeout: float | None = None) -> None:
        self.url = check_url(url, "bentotui.depends(url=...)")
        self._service = service
        self._timeout = timeout or _service_timeout(service)
        self._sync: SyncHTTPClient | None = None
        self._async: AsyncHTTPClient | None = None

    @property
    def to_sync(self) -> SyncHTTPClient:
        if self._sync is None:
            from bentotui.client import SyncHTTPClient

            self._sync = SyncHTTPClient(self.url, server_ready_timeout=0, timeout=self._timeout)
        return self._sync

    @property
    def to_async(self) -> AsyncHTTPClient:
        if self._async is None:
            from bentotui.client import AsyncHTTPClient

            self._async = AsyncHTTPClient(self.url, server_ready_timeout=0, timeout=self._timeout)
        return self._async

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call API ``name`` as the service class declares it: awaitable for an async one."""
        if self._service is None:
            raise BentotuiError(
                f"the dependency at {self.url} was given no service class: call it through "
                "`.to_async` or `.to_sync`, or write depends(TheService, url=...)"
            )
        from bentotui.service.decorators import ATTR

        method = inspect.getattr_static(self._service, name, None)
        if method is None or getattr(method, ATTR, None) is None:
            raise BentotuiError(f"{self._service.__name__}.{name} is not an API: only APIs are called remotely")
        if inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method):
            return self.to_async.call(name, *args, **kwargs)
        return self.to_sync.call(name, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    async def close(self) -> None:
        if self._async is not None:
            await self._async.close()
        if self._sync is not None:
            self._sync.close()

    def __repr__(self) -> str:
        name = self._service.__name__ if self._service is not None else "service"
        return f"<remote {name} at {self.url}>"


def _service_timeout(service: type | None) -> float:
    """The other service's ``traffic.timeout`` plus 1 % (BentoML's margin), else 60 s."""
    from bentotui.service.classes import service_config

    timeout = service_config(service).traffic.get("timeout") if service is not None else None
    return float(timeout) * 1.01 if timeout else DEFAULT_TIMEOUT_S
