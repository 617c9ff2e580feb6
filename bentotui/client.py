"""HTTP clients for a running bentotui (or BentoML-compatible) server.

The server describes its APIs in ``/docs.json`` (OpenAPI); the clients read it on first use and
then call an API by name (``client.call("classify", "some text")`` or ``client.classify(...)``),
encoding the body for the media type the API declares.  The TUI reads servers through this module
too (its request panel lists the same APIs, and ``request`` hands it the raw answer), so the
module imports nothing heavy: httpx (~0.1 s) is imported with the first client, prometheus_client
with the first metrics parse, and never the server stack or an ML library.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound

if TYPE_CHECKING:
    import httpx


class ClientError(BentotuiError):
    """A non-2xx answer; ``status`` is the HTTP status and ``detail`` the server's JSON body."""

    def __init__(self, status: int, message: str, detail: object = None) -> None:
        super().__init__(message, detail)
        self.status = status
        self.http_status = status


@dataclass(frozen=True)
class APIEndpoint:
    """One API as the server's OpenAPI document describes it: what a program needs to call it and
    what a person needs to try it (the TUI's request panel is built from this same record).

    ``media_type`` is the request body type the API takes first, and ``example`` the example body
    the document gives for it (any JSON value; None when there is none).
    """

    name: str
    route: str
    method: str
    media_type: str
    example: Any = None


def _example(media: Mapping[str, Any]) -> Any:
    """The example of one OpenAPI media type object: ``example``, the first ``examples`` value, or
    the schema's ``example`` (the server writes the first; other servers use the others)."""
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        if isinstance(example, Mapping) and "value" in example:
            return example["value"]
    return (media.get("schema") or {}).get("example")


def read_apis(spec: Mapping[str, Any]) -> list[APIEndpoint]:
    """Every API of an OpenAPI document, in document order.

    An API is a POST operation: the server publishes exactly one per API, as BentoML's do, while
    its own routes (health, metrics, docs) are GETs, so no other method is read.  An API's name is
    its ``operationId`` (the server writes the API's name there) when that is a Python identifier,
    so ``client.classify(...)`` works, and otherwise its route without the slashes.
    """
    apis: list[APIEndpoint] = []
    for route, ops in (spec.get("paths") or {}).items():
        op = ops.get("post") if isinstance(ops, Mapping) else None
        if not op:
            continue
        content = (op.get("requestBody") or {}).get("content") or {"application/json": {}}
        media_type = next(iter(content))
        op_id = op.get("operationId")
        name = op_id if isinstance(op_id, str) and op_id.isidentifier() else route.strip("/")
        apis.append(APIEndpoint(name, route, "post", media_type, _example(content[media_type] or {})))
    return apis


def parse_apis(spec: Mapping[str, Any]) -> dict[str, APIEndpoint]:
    """APIs by every name a caller may use: the route without its slashes (BentoML's clients name
    APIs by route) and the API's name; when the two kinds clash, the route name wins."""
    endpoints = read_apis(spec)
    apis = {endpoint.route.strip("/"): endpoint for endpoint in endpoints}
    for endpoint in endpoints:
        apis.setdefault(endpoint.name, endpoint)
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


def _openapi(response: httpx.Response) -> dict[str, Any]:
    """The decoded ``/docs.json`` answer, which must be a JSON object to be an OpenAPI document."""
    doc = decode_response(response)
    if not isinstance(doc, dict):
        raise BentotuiError(f"{response.url} is not an OpenAPI document (a JSON object)")
    return doc


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

    def call(self, api: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:  # pragma: no cover
        """POST ``body`` to the API named ``api`` (each client defines it, sync or async)."""
        raise NotImplementedError


class SyncClient(_Base):
    """Blocking client: ``with SyncClient(url) as c: c.call("predict", [[5.1, 3.5, 1.4, 0.2]])``."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        import httpx

        super().__init__(url)
        self._http = httpx.Client(timeout=timeout, trust_env=False)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``method path`` on this server (``method`` in either case: OpenAPI writes ``post``),
        answered undecoded for callers that show the status, headers and body themselves, as the
        TUI's request panel does; transport failures raise httpx's errors."""
        return self._http.request(method, self.url + path, content=content, headers=headers)

    def openapi(self) -> dict[str, Any]:
        """The server's OpenAPI document, read afresh (``apis`` keeps its first reading)."""
        return _openapi(self.request("GET", "/docs.json"))

    def apis(self) -> dict[str, APIEndpoint]:
        """The server's APIs by name (read from ``/docs.json`` once)."""
        if self._apis is None:
            self._apis = parse_apis(self.openapi())
        return self._apis

    def call(self, api: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        """POST ``body`` to the API named ``api``; returns the decoded answer or raises ClientError."""
        self.apis()
        endpoint = self._endpoint(api)
        data, ctype = encode_body(body, endpoint.media_type)
        response = self.request(
            endpoint.method, endpoint.route, content=data, headers={"content-type": ctype, **(headers or {})}
        )
        return decode_response(response)

    def status(self, path: str) -> int | None:
        """The status code of ``GET path``; None when no answer could be read (refused, timed out...)."""
        import httpx

        try:
            return self.request("GET", path).status_code
        except httpx.HTTPError:
            return None

    def health(self) -> bool:
        return self.status("/healthz") == 200

    def ready(self) -> bool:
        return self.status("/readyz") == 200

    def metrics(self) -> dict[str, Any]:
        return parse_metrics(self.request("GET", "/metrics").text)

    def wait_until_ready(self, timeout: float = 60.0, poll_s: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise BentotuiError(f"{self.url} not ready within {timeout:g}s")
            time.sleep(poll_s)


class AsyncClient(_Base):
    """asyncio client with the same methods as :class:`SyncClient`, as coroutines.

    ``http_client`` lends it an httpx client to send with (``timeout`` and ``max_connections`` are
    then that client's, and closing this one leaves it open): the TUI keeps one connection pool
    for all the servers it watches and talks to each through a client of its own.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        max_connections: int = 100,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(url)
        self._owns_http = http_client is None
        if http_client is None:
            import httpx

            limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            http_client = httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False)
        self._http = http_client

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return await self._http.request(method, self.url + path, content=content, headers=headers)

    async def openapi(self) -> dict[str, Any]:
        return _openapi(await self.request("GET", "/docs.json"))

    async def apis(self) -> dict[str, APIEndpoint]:
        if self._apis is None:
            self._apis = parse_apis(await self.openapi())
        return self._apis

    async def call(self, api: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        await self.apis()
        endpoint = self._endpoint(api)
        data, ctype = encode_body(body, endpoint.media_type)
        response = await self.request(
            endpoint.method, endpoint.route, content=data, headers={"content-type": ctype, **(headers or {})}
        )
        return decode_response(response)

    async def status(self, path: str) -> int | None:
        import httpx

        try:
            return (await self.request("GET", path)).status_code
        except httpx.HTTPError:
            return None

    async def health(self) -> bool:
        return await self.status("/healthz") == 200

    async def ready(self) -> bool:
        return await self.status("/readyz") == 200

    async def metrics(self) -> dict[str, Any]:
        return parse_metrics((await self.request("GET", "/metrics")).text)

    async def wait_until_ready(self, timeout: float = 60.0, poll_s: float = 0.05) -> None:
        import asyncio

        deadline = time.monotonic() + timeout
        while not await self.ready():
            if time.monotonic() > deadline:
                raise BentotuiError(f"{self.url} not ready within {timeout:g}s")
            await asyncio.sleep(poll_s)
