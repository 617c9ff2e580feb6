"""HTTP clients for a running bentotui (or BentoML-compatible) server.

The server describes its APIs in ``/docs.json`` (OpenAPI); the clients read it on first use and
then call an API by name (``client.call("classify", "some text")`` or ``client.classify(...)``),
encoding the body for the media type the API declares.  The TUI reads servers through this module
too (its request panel lists the same APIs, and ``request`` hands it the raw answer), so the
module imports nothing heavy: httpx (~0.1 s) is imported with the first client, prometheus_client
with the first metrics parse, and never the server stack or an ML library.

``SyncHTTPClient``/``AsyncHTTPClient`` are the same clients under BentoML 1.4's names and call
style: they read ``/schema.json`` and take an API's parameters as keyword arguments
(``client.predict(input=arr)``), or a 1.x/0.x API's one body positionally, and decode results as
BentoML does (a ``tensor`` output is a numpy array).  ``Client.from_url`` is BentoML 1.x's entry.
A streaming API (``is_stream`` in ``/schema.json``) gives, as in BentoML, an iterator (sync) or an
async iterator (async: ``async for chunk in client.generate(...)``, no ``await``) of the body's
chunks as they arrive: text for a string output, bytes for a binary one, else each chunk's JSON.
A task (``is_task``) is submitted as in BentoML: ``task = client.summarize.submit(text=...)``, then
``task.get_status()`` (a :class:`ResultStatus`), ``task.get()`` (the result, decoded like a call's;
a failed task raises its error), ``task.cancel()`` and ``task.retry()`` (a new task); with the
async client each is awaited.
"""

from __future__ import annotations

import codecs
import io
import json
import mimetypes
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound
from bentotui.store.tasks import ResultStatus

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
        if not op or "x-bentotui-task" in op:  # a task's submit/retry route is not an API of its own
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
    """numpy arrays/scalars, pandas frames and pydantic models become plain JSON values."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
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
    """What the sync and async clients share: the base URL, the API table and attribute access.

    ``url`` may leave out the scheme (``localhost:3000``), as BentoML's clients allow.
    """

    def __init__(self, url: str) -> None:
        self.url = (url if "://" in url else f"http://{url}").rstrip("/")
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

    def __init__(self, url: str, *, timeout: float = 30.0, headers: Mapping[str, str] | None = None) -> None:
        import httpx

        super().__init__(url)
        self._http = httpx.Client(timeout=timeout, headers=headers, trust_env=False)

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

    def status(self, path: str, timeout: float | None = None) -> int | None:
        """The status code of ``GET path`` (within ``timeout`` seconds, default the client's);
        None when no answer could be read (refused, timed out...)."""
        import httpx

        try:
            return self._http.get(self.url + path, timeout=timeout or httpx.USE_CLIENT_DEFAULT).status_code
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
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(url)
        self._owns_http = http_client is None
        if http_client is None:
            import httpx

            limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            http_client = httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers, trust_env=False)
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

    async def status(self, path: str, timeout: float | None = None) -> int | None:
        import httpx

        try:
            response = await self._http.get(self.url + path, timeout=timeout or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError:
            return None
        return response.status_code

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


# --- BentoML 1.4's clients: SyncHTTPClient / AsyncHTTPClient ------------------------------------


def read_routes(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The routes of a ``/schema.json`` document (BentoML 1.4's service schema) by API name."""
    routes = schema.get("routes")
    if not isinstance(routes, list) or not all(isinstance(r, Mapping) and "name" in r for r in routes):
        raise BentotuiError("/schema.json has no list of routes with names: not a BentoML service schema")
    return {route["name"]: dict(route) for route in routes}


def encode_call(route: Mapping[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bytes, str]:
    """Request body and Content-Type of one call in BentoML 1.4's style.

    A ``root_input`` API (a 1.x/0.x descriptor's whole body) takes one positional value; any
    other takes its parameters, positionally in order or by name, sent as a JSON object or, when
    a parameter is a file, as multipart/form-data.  Wrong arguments raise TypeError, as calling
    the function would.
    """
    schema = route.get("input") or {}
    name = route["name"]
    if schema.get("root_input"):
        if kwargs or len(args) != 1:
            raise TypeError(f"{name}() takes its whole input as one positional argument")
        return encode_body(args[0], _root_media_type(schema, args[0]))
    properties: dict[str, Any] = schema.get("properties") or {}
    if len(args) > len(properties):
        raise TypeError(f"{name}() takes {len(properties)} arguments, {len(args)} given")
    values = dict(zip(properties, args, strict=False))
    for key, value in kwargs.items():
        if key in values:
            raise TypeError(f"{name}() got two values for argument {key!r}")
        values[key] = value
    unknown = sorted(values.keys() - properties.keys())
    if unknown:
        raise TypeError(f"{name}() got unexpected arguments {', '.join(unknown)} (takes {', '.join(properties)})")
    missing = sorted(set(schema.get("required") or ()) - values.keys())
    if missing:
        raise TypeError(f"{name}() is missing required arguments {', '.join(missing)}")
    files = {key for key, prop in properties.items() if isinstance(prop, Mapping) and prop.get("type") == "file"}
    if files & values.keys():
        return _multipart(values, files)
    return json.dumps(values, default=_jsonable).encode(), "application/json"


def _root_media_type(schema: Mapping[str, Any], value: Any) -> str:
    if schema.get("type") == "string":
        return "text/plain"
    if schema.get("type") == "file":
        guessed = mimetypes.guess_type(str(value))[0] if isinstance(value, (str, os.PathLike)) else None
        return guessed or schema.get("content_type") or "application/octet-stream"
    return "application/json"


def _multipart(values: dict[str, Any], files: set[str]) -> tuple[bytes, str]:
    """A multipart/form-data body: file parts for files (paths, bytes, images), JSON for the rest."""
    import httpx

    data = {key: json.dumps(value, default=_jsonable) for key, value in values.items() if key not in files}
    parts = []
    for key in files & values.keys():
        value = values[key]
        content, content_type = encode_body(value, "application/octet-stream")
        filename = os.path.basename(value) if isinstance(value, (str, os.PathLike)) else key
        parts.append((key, (filename, content, mimetypes.guess_type(filename)[0] or content_type)))
    request = httpx.Request("POST", "http://multipart", data=data, files=parts)
    return request.read(), request.headers["content-type"]


def decode_output(route: Mapping[str, Any], response: httpx.Response, temp_dir: str) -> Any:
    """An API's answer as BentoML 1.4's clients return it: ``tensor`` as a numpy array,
    ``dataframe`` as a pandas DataFrame, an image as a PIL image, another file as the path of a
    copy under ``temp_dir``, else the decoded JSON or text; an error raises ClientError."""
    value = decode_response(response)
    schema = route.get("output") or {}
    kind = schema.get("type")
    if kind == "tensor" and schema.get("format", "numpy-array") == "numpy-array":
        import numpy as np

        return np.asarray(value, dtype=schema.get("dtype"))
    if kind == "dataframe":
        import pandas as pd

        return pd.DataFrame(value, columns=schema.get("columns"))
    if kind == "file":
        content = value if isinstance(value, bytes) else response.content
        if schema.get("pil"):
            from PIL import Image

            return Image.open(io.BytesIO(content))
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        with tempfile.NamedTemporaryFile(
            "wb", dir=temp_dir, suffix=mimetypes.guess_extension(ctype) or "", delete=False
        ) as fh:
            fh.write(content)
        return Path(fh.name)
    return value


class StreamDecoder:
    """The chunks of a streaming API's body as BentoML 1.4's clients yield them: ``str`` for a
    string output (decoded incrementally, so a character split between two chunks survives),
    ``bytes`` for a binary string, else each chunk's JSON."""

    def __init__(self, route: Mapping[str, Any]) -> None:
        output = route.get("output") or {}
        self._text = output.get("type") == "string" and output.get("format") != "binary"
        self._raw = output.get("type") == "string" and not self._text
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> list[Any]:
        if self._raw:
            return [chunk]
        if self._text:
            text = self._utf8.decode(chunk)
            return [text] if text else []
        return [json.loads(chunk)]

    def end(self) -> list[Any]:
        rest = self._utf8.decode(b"", final=True) if self._text else ""
        return [rest] if rest else []


class _BentoCalls:
    """BentoML 1.4's call style over the routes of ``/schema.json``: ``client.predict(input=...)``."""

    url: str
    _routes: dict[str, dict[str, Any]] | None = None
    _temp: tempfile.TemporaryDirectory[str] | None = None

    def _route(self, name: str) -> dict[str, Any]:
        assert self._routes is not None
        try:
            return self._routes[name]
        except KeyError:
            known = ", ".join(sorted(self._routes)) or "none"
            raise NotFound(f"the server has no API {name!r} (APIs: {known})") from None

    def _temp_dir(self) -> str:
        """Where file outputs are written; removed with the client object, as in BentoML."""
        if self._temp is None:
            self._temp = tempfile.TemporaryDirectory(prefix="bentotui-client-")
        return self._temp.name

    def __getattr__(self, name: str) -> Endpoint:
        if name.startswith("_") or (self._routes is not None and name not in self._routes):
            raise AttributeError(f"{type(self).__name__!r} has no attribute or API {name!r}")
        return Endpoint(self, name)

    def call(self, api: str, /, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _submit(self, api: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:  # pragma: no cover
        """Submit a task (each client defines it, sync or async)."""
        raise NotImplementedError

    def _task(self, api: str, action: str, task_id: str) -> Any:  # pragma: no cover
        """One task route for ``task_id`` (each client defines it, sync or async)."""
        raise NotImplementedError

    def _task_route(self, name: str) -> dict[str, Any]:
        route = self._route(name)
        if not route.get("is_task"):
            raise InvalidArgument(f"API {name!r} is not a task (it is declared with @bentoml.api, not @bentoml.task)")
        return route

    def _task_answer(self, route: Mapping[str, Any], api: str, action: str, response: httpx.Response) -> Any:
        """What a task route's answer means: the result (``get``), a status, a new task (``retry``)
        or nothing (``cancel``); errors raise ClientError."""
        if action == "get":
            return decode_output(route, response, self._temp_dir())
        data = decode_response(response)
        if action == "status":
            return ResultStatus(data["status"])
        if action == "cancel":
            return None
        return self._new_task(data["task_id"], api)

    def _new_task(self, task_id: str, api: str) -> Any:  # pragma: no cover
        """The task object of this client's kind (each client defines it)."""
        raise NotImplementedError


#: a task route's HTTP method (BentoML 1.4's server), by the name of its action
_TASK_METHODS = {"status": "GET", "get": "GET", "cancel": "PUT", "retry": "POST"}


class Endpoint:
    """``client.<api>``: call it to call the API; a task also has BentoML's ``submit``,
    ``get_status``, ``get``, ``cancel`` and ``retry`` (the last four take a task id)."""

    def __init__(self, client: _BentoCalls, name: str) -> None:
        self._client = client
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.call(self._name, *args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        return self._client._submit(self._name, args, kwargs)

    def get_status(self, task_id: str) -> Any:
        return self._client._task(self._name, "status", task_id)

    def get(self, task_id: str) -> Any:
        return self._client._task(self._name, "get", task_id)

    def cancel(self, task_id: str) -> Any:
        return self._client._task(self._name, "cancel", task_id)

    def retry(self, task_id: str) -> Any:
        return self._client._task(self._name, "retry", task_id)


@dataclass(frozen=True)
class Task:
    """A submitted task (BentoML's ``Task``): ``id``, ``get_status()``, ``get()``, ``cancel()``, ``retry()``."""

    id: str
    endpoint: str
    client: SyncHTTPClient = field(repr=False)

    def get_status(self) -> ResultStatus:
        status: ResultStatus = self.client._task(self.endpoint, "status", self.id)
        return status

    def get(self) -> Any:
        return self.client._task(self.endpoint, "get", self.id)

    def cancel(self) -> None:
        self.client._task(self.endpoint, "cancel", self.id)

    def retry(self) -> Task:
        task: Task = self.client._task(self.endpoint, "retry", self.id)
        return task


@dataclass(frozen=True)
class AsyncTask:
    """A task submitted with the async client (BentoML's ``AsyncTask``): each method is awaited."""

    id: str
    endpoint: str
    client: AsyncHTTPClient = field(repr=False)

    async def get_status(self) -> ResultStatus:
        status: ResultStatus = await self.client._task(self.endpoint, "status", self.id)
        return status

    async def get(self) -> Any:
        return await self.client._task(self.endpoint, "get", self.id)

    async def cancel(self) -> None:
        await self.client._task(self.endpoint, "cancel", self.id)

    async def retry(self) -> AsyncTask:
        task: AsyncTask = await self.client._task(self.endpoint, "retry", self.id)
        return task


def _auth_headers(token: str | None) -> dict[str, str]:
    """BentoML's bearer token: ``token=`` or ``$BENTO_CLOUD_API_KEY``."""
    token = token or os.environ.get("BENTO_CLOUD_API_KEY")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _check_media_type(media_type: str) -> None:
    if media_type != "application/json":
        raise InvalidArgument(f"media_type {media_type!r} is not supported; bentotui clients send application/json")


class SyncHTTPClient(_BentoCalls, SyncClient):
    """BentoML 1.4's ``bentoml.SyncHTTPClient``: ``with SyncHTTPClient(url) as c: c.predict(input=x)``.

    Like BentoML's, it waits for ``/readyz`` (``server_ready_timeout``, default ``timeout``; 0
    skips the wait) and reads ``/schema.json`` when made, so a wrong URL fails here.
    """

    def _new_task(self, task_id: str, api: str) -> Task:
        return Task(task_id, api, self)

    def __init__(
        self,
        url: str,
        *,
        media_type: str = "application/json",
        server_ready_timeout: float | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        _check_media_type(media_type)
        super().__init__(url, timeout=timeout, headers=_auth_headers(token))
        try:
            ready_timeout = timeout if server_ready_timeout is None else server_ready_timeout
            if ready_timeout > 0:
                self.wait_until_ready(ready_timeout)
            self._routes = read_routes(_openapi(self.request("GET", "/schema.json")))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> SyncHTTPClient:
        return self

    def call(self, api: str, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Call the API named ``api`` with its parameters (BentoML's ``client.call(name, ...)``);
        a streaming API gives an iterator of its chunks, which sends the request when first read."""
        route = self._route(api)
        data, ctype = encode_call(route, args, kwargs)
        if (route.get("output") or {}).get("is_stream"):
            return self._stream(route, data, ctype)
        response = self.request("POST", route["route"], content=data, headers={"content-type": ctype})
        return decode_output(route, response, self._temp_dir())

    def _stream(self, route: Mapping[str, Any], data: bytes, ctype: str) -> Iterator[Any]:
        url, headers = self.url + route["route"], {"content-type": ctype}
        with self._http.stream("POST", url, content=data, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                decode_response(response)  # raises its ClientError
            decoder = StreamDecoder(route)
            for chunk in response.iter_bytes():
                yield from decoder.feed(chunk)
            yield from decoder.end()

    def _submit(self, api: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Task:
        route = self._task_route(api)
        data, ctype = encode_call(route, args, kwargs)
        response = self.request("POST", route["route"] + "/submit", content=data, headers={"content-type": ctype})
        return self._new_task(decode_response(response)["task_id"], api)

    def _task(self, api: str, action: str, task_id: str) -> Any:
        route = self._task_route(api)
        response = self._http.request(
            _TASK_METHODS[action], f"{self.url}{route['route']}/{action}", params={"task_id": task_id}
        )
        return self._task_answer(route, api, action, response)

    def is_ready(self, timeout: float | None = None) -> bool:
        return self.status("/readyz", timeout) == 200


class AsyncHTTPClient(_BentoCalls, AsyncClient):
    """BentoML 1.4's ``bentoml.AsyncHTTPClient``: ``async with AsyncHTTPClient(url) as c:
    await c.predict(input=x)``.  Entering it waits for ``/readyz`` and reads ``/schema.json``; a
    call made without entering does that first."""

    def _new_task(self, task_id: str, api: str) -> AsyncTask:
        return AsyncTask(task_id, api, self)

    def __init__(
        self,
        url: str,
        *,
        media_type: str = "application/json",
        server_ready_timeout: float | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        _check_media_type(media_type)
        super().__init__(url, timeout=timeout, headers=_auth_headers(token))
        self._ready_timeout = timeout if server_ready_timeout is None else server_ready_timeout

    async def _setup(self) -> dict[str, dict[str, Any]]:
        if self._routes is None:
            if self._ready_timeout > 0:
                await self.wait_until_ready(self._ready_timeout)
            self._routes = read_routes(_openapi(await self.request("GET", "/schema.json")))
        return self._routes

    async def __aenter__(self) -> AsyncHTTPClient:
        try:
            await self._setup()
        except BaseException:
            await self.close()
            raise
        return self

    def call(self, api: str, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """``await client.call(name, ...)``; for a streaming API, as in BentoML, an async iterator
        (``async for chunk in client.call(name, ...)``).  Before the client is entered, the
        streaming kind is not known yet: the call is then a coroutine that reads ``/schema.json``
        first and gives the result (for a stream, its async iterator)."""
        if self._routes is None:
            return self._set_up_and_call(api, args, kwargs)
        route = self._route(api)
        data, ctype = encode_call(route, args, kwargs)
        if (route.get("output") or {}).get("is_stream"):
            return self._stream(route, data, ctype)
        return self._call(route, data, ctype)

    async def _set_up_and_call(self, api: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        await self._setup()
        result = self.call(api, *args, **kwargs)
        return await result if isinstance(result, Awaitable) else result

    async def _call(self, route: Mapping[str, Any], data: bytes, ctype: str) -> Any:
        response = await self.request("POST", route["route"], content=data, headers={"content-type": ctype})
        return decode_output(route, response, self._temp_dir())

    async def _stream(self, route: Mapping[str, Any], data: bytes, ctype: str) -> AsyncIterator[Any]:
        url, headers = self.url + route["route"], {"content-type": ctype}
        async with self._http.stream("POST", url, content=data, headers=headers) as response:
            if response.status_code >= 400:
                await response.aread()
                decode_response(response)  # raises its ClientError
            decoder = StreamDecoder(route)
            async for chunk in response.aiter_bytes():
                for item in decoder.feed(chunk):
                    yield item
            for item in decoder.end():
                yield item

    async def _submit(self, api: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> AsyncTask:
        await self._setup()
        route = self._task_route(api)
        data, ctype = encode_call(route, args, kwargs)
        response = await self.request("POST", route["route"] + "/submit", content=data, headers={"content-type": ctype})
        return self._new_task(decode_response(response)["task_id"], api)

    async def _task(self, api: str, action: str, task_id: str) -> Any:
        await self._setup()
        route = self._task_route(api)
        response = await self._http.request(
            _TASK_METHODS[action], f"{self.url}{route['route']}/{action}", params={"task_id": task_id}
        )
        return self._task_answer(route, api, action, response)

    async def is_ready(self, timeout: float | None = None) -> bool:
        return await self.status("/readyz", timeout) == 200


class Client:
    """BentoML 1.x's ``bentoml.client.Client``: ``Client.from_url(url)`` gives a client whose APIs
    take one positional body (``client.predict(arr)``), which :class:`SyncHTTPClient` does."""

    @staticmethod
    def from_url(server_url: str, **kwargs: Any) -> SyncHTTPClient:
        return SyncHTTPClient(server_url, **kwargs)
