"""HTTP clients for a running bentotui (or BentoML-compatible) server.

The server describes its APIs in ``/docs.json`` (OpenAPI); the clients read it on first use and
then call an API by name (``client.call("classify", "some text")`` or ``client.classify(...)``),
encoding the body for the media type the API declares.  The TUI and the tests use these, so this
module imports only httpx and prometheus_client (never the server stack or an ML library).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound


class ClientError(BentotuiError):
    """A non-2xx answer; ``status`` is the HTTP status and ``detail`` the server's JSON body."""

    def __init__(self, status: int, message: str, detail: object = None) -> None:
        super().__init__(message, detail)
        self.status = status
        self.http_status = status


@dataclass(frozen=True)
class APIEndpoint:
    """One API as the server's OpenAPI document describes it."""

    name: str
    route: str
    media_type: str


def parse_apis(spec: dict) -> dict[str, APIEndpoint]:
    """APIs by name from an OpenAPI document: every POST operation, named by its route and operationId."""
    apis: dict[str, APIEndpoint] = {}
    for route, ops in spec.get("paths", {}).items():
        op = ops.get("post") if isinstance(ops, dict) else None
        if not op:
            continue
        content = (op.get("requestBody") or {}).get("content") or {"application/json": {}}
        endpoint = APIEndpoint(name=route.strip("/"), route=route, media_type=next(iter(content)))
        apis[endpoint.name] = endpoint
        op_id = op.get("operationId")
        if isinstance(op_id, str) and op_id.isidentifier():
            apis.setdefault(op_id, endpoint)
    return apis


def _jsonable(value: Any) -> Any:
    """numpy arrays/scalars and pandas frames become plain JSON values."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_body(value: Any, media_type: str) -> tuple[bytes, str]:
    """Request body bytes and Content-Type for ``value`` sent to an API that takes ``media_type``."""
    if isinstance(value, bytes):
        return value, media_type
    if isinstance(value, Path):
        return value.read_bytes(), media_type
    if media_type == "application/json":
        return json.dumps(value, default=_jsonable).encode(), media_type
    if media_type == "text/csv" and hasattr(value, "to_csv"):
        return value.to_csv(index=False).encode(), media_type
    if isinstance(value, str):
        return value.encode("utf-8"), media_type
    if hasattr(value, "save"):  # a PIL image
        buf = io.BytesIO()
        value.save(buf, format="PNG")
        return buf.getvalue(), "image/png"
    raise InvalidArgument(f"cannot send {type(value).__name__} as {media_type}")


def decode_response(response: httpx.Response) -> Any:
    """The response body as JSON, text or bytes following its Content-Type; errors raise ClientError."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip()
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text}
        message = body.get("error") if isinstance(body, dict) else None
        raise ClientError(response.status_code, f"HTTP {response.status_code}: {message or response.reason_phrase}", body)
    if ctype == "application/json":
        return response.json()
    if ctype.startswith("text/"):
        return response.text
    return response.content


def parse_metrics(text: str) -> dict[str, Any]:
    """Prometheus text exposition -> metric families by name (``family.samples`` holds the values)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


class _Base:
    """What the sync and async clients share: the base URL, the API table and attribute access."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._apis: dict[str, APIEndpoint] | None = None

    def _endpoint(self, name: str) -> APIEndpoint:
        assert self._apis is not None
        try:
            return self._apis[name]
        except KeyError:
            known = ", ".join(sorted(self._apis)) or "none"
            raise NotFound(f"the server has no API {name!r} (APIs: {known})") from None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda body, **kw: self.call(name, body, **kw)

    def call(self, api: str, body: Any, **kw: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class SyncClient(_Base):
    """Blocking client: ``with SyncClient(url) as c: c.call("predict", [[5.1, 3.5, 1.4, 0.2]])``."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        super().__init__(url)
        self._http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def apis(self) -> dict[str, APIEndpoint]:
        """The server's APIs (read from ``/docs.json`` once)."""
        if self._apis is None:
            response = self._http.get("/docs.json")
            self._apis = parse_apis(decode_response(response))
        return self._apis

    def call(self, api: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        """POST ``body`` to the API named ``api``; returns the decoded answer or raises ClientError."""
        self.apis()
        endpoint = self._endpoint(api)
        data, ctype = encode_body(body, endpoint.media_type)
        response = self._http.post(endpoint.route, content=data, headers={"content-type": ctype, **(headers or {})})
        return decode_response(response)

    def _status(self, path: str) -> int | None:
        try:
            return self._http.get(path).status_code
        except httpx.TransportError:
            return None

    def health(self) -> bool:
        return self._status("/healthz") == 200

    def ready(self) -> bool:
        return self._status("/readyz") == 200

    def metrics(self) -> dict[str, Any]:
        return parse_metrics(self._http.get("/metrics").text)

    def wait_until_ready(self, timeout: float = 60.0, poll_s: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise BentotuiError(f"{self.url} not ready within {timeout:g}s")
            time.sleep(poll_s)


class AsyncClient(_Base):
    """asyncio client with the same methods as :class:`SyncClient`, as coroutines."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_connections: int = 100) -> None:
        super().__init__(url)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, limits=limits, trust_env=False)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def apis(self) -> dict[str, APIEndpoint]:
        if self._apis is None:
            response = await self._http.get("/docs.json")
            self._apis = parse_apis(decode_response(response))
        return self._apis

    async def call(self, api: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        await self.apis()
        endpoint = self._endpoint(api)
        data, ctype = encode_body(body, endpoint.media_type)
        response = await self._http.post(
            endpoint.route, content=data, headers={"content-type": ctype, **(headers or {})}
        )
        return decode_response(response)

    async def _status(self, path: str) -> int | None:
        try:
            return (await self._http.get(path)).status_code
        except httpx.TransportError:
            return None

    async def health(self) -> bool:
        return await self._status("/healthz") == 200

    async def ready(self) -> bool:
        return await self._status("/readyz") == 200

    async def metrics(self) -> dict[str, Any]:
        return parse_metrics((await self._http.get("/metrics")).text)

    async def wait_until_ready(self, timeout: float = 60.0, poll_s: float = 0.05) -> None:
        import asyncio

        deadline = time.monotonic() + timeout
        while not await self.ready():
            if time.monotonic() > deadline:
                raise BentotuiError(f"{self.url} not ready within {timeout:g}s")
            await asyncio.sleep(poll_s)
