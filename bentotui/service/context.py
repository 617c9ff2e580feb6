"""``bentoml.Context``: the request an API is answering, the response it shapes, and process state.

BentoML passes one ``Context`` object per service to the API functions that ask for it and to the
lifecycle hooks: ``ctx.state`` is a dict shared by everything in the process, while
``ctx.request`` and ``ctx.response`` are per request (context variables, so concurrent requests
never see each other's).  Here the request is a :class:`Request` snapshot of the ASGI scope --
plain, picklable data, because a 1.2 ``@service`` method runs in a runner worker and the snapshot
travels with the call -- and the response is a :class:`ResponseContext` whose status, headers and
cookies the server writes into the HTTP response (a worker sends its copy back with the result).

werkzeug (for the case-insensitive headers and the cookie format) is imported only when an API
that takes a context reads them, so services without one pay nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from bentotui.exceptions import BuildError

if TYPE_CHECKING:
    from werkzeug.datastructures import Headers, MultiDict

    from bentotui.io.base import HTTPResponse
    from bentotui.service.response_headers import ResponseHeaders
    from bentotui.service.service import APISpec

#: parameter names BentoML 1.2 recognises as "give me the context"
CONTEXT_NAMES = ("ctx", "context")


class Address(NamedTuple):
    """The client's address, as ``ctx.request.client.host`` / ``.port`` in Starlette."""

    host: str
    port: int


class URL(str):
    """The request URL: a string (``str(ctx.request.url)``) that also has Starlette's parts."""

    @cached_property
    def _parts(self) -> urllib.parse.SplitResult:
        return urllib.parse.urlsplit(self)

    @property
    def scheme(self) -> str:
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        return self._parts.netloc

    @property
    def hostname(self) -> str | None:
        return self._parts.hostname

    @property
    def port(self) -> int | None:
        return self._parts.port

    @property
    def path(self) -> str:
        return self._parts.path

    @property
    def query(self) -> str:
        return self._parts.query


@dataclass(frozen=True)
class Request:
    """What an API may read about its request: a snapshot of the ASGI scope (body excluded: the
    API already has it, decoded)."""

    method: str
    path: str
    query_string: str = ""
    raw_headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "http"
    server: tuple[str, int] | None = None
    root_path: str = ""
    client: Address | None = None
    request_id: str = ""

    @classmethod
    def from_scope(cls, scope: Any, request_id: str = "") -> Request:
        client = scope.get("client")
        server = scope.get("server")
        return cls(
            method=scope["method"],
            path=scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            raw_headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            scheme=scope.get("scheme", "http"),
            server=(server[0], server[1]) if server else None,
            root_path=scope.get("root_path", ""),
            client=Address(client[0], client[1]) if client else None,
            request_id=request_id,
        )

    @cached_property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued (``headers.getlist("accept")``)."""
        from werkzeug.datastructures import Headers

        return Headers(list(self.raw_headers))

    @cached_property
    def cookies(self) -> dict[str, str]:
        from werkzeug.http import parse_cookie

        return dict(parse_cookie(self.headers.get("cookie", "")))

    @cached_property
    def query_params(self) -> MultiDict[str, str]:
        from werkzeug.datastructures import MultiDict

        return MultiDict(urllib.parse.parse_qsl(self.query_string, keep_blank_values=True))

    @cached_property
    def url(self) -> URL:
        host = self.headers.get("host") or (f"{self.server[0]}:{self.server[1]}" if self.server else "")
        query = f"?{self.query_string}" if self.query_string else ""
        return URL(f"{self.scheme}://{host}{self.path}{query}")

    @property
    def metadata(self) -> Headers:
        """BentoML's other name for the headers."""
        return self.headers


@dataclass(frozen=True)
class Cookie:
    """One ``Set-Cookie`` the API asked for (``ctx.response.set_cookie``)."""

    key: str
    value: str
    max_age: int | None = None
    expires: int | None = None
    path: str = "/"
    domain: str | None = None
    secure: bool = False
    httponly: bool = False
    samesite: str | None = "lax"

    def header_value(self) -> str:
        from werkzeug.http import dump_cookie

        return dump_cookie(
            self.key, self.value, max_age=self.max_age, expires=self.expires, path=self.path,
            domain=self.domain, secure=self.secure, httponly=self.httponly,
            samesite=self.samesite.capitalize() if self.samesite else None,
        )


def _response_headers() -> ResponseHeaders:
    from bentotui.service.response_headers import ResponseHeaders

    return ResponseHeaders()


@dataclass
class ResponseContext:
    """What an API may set on its response besides the body: ``status_code``, ``headers``
    (case-insensitive, ``headers[k] = v`` or ``headers.append(k, v)``; ``metadata`` is BentoML's
    other name) and cookies (``set_cookie``, or ``cookies.append(bentoml.Cookie(...))``)."""

    status_code: int = 200
    headers: ResponseHeaders = field(default_factory=_response_headers)
    cookies: list[Cookie] = field(default_factory=list)

    @property
    def metadata(self) -> ResponseHeaders:
        return self.headers

    def set_cookie(
        self,
        key: str,
        value: str,
        max_age: int | None = None,
        expires: int | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        self.cookies.append(Cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite))

    def header_pairs(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """``headers`` (the descriptor's) overridden by the API's, then one ``Set-Cookie`` per cookie."""
        own = {key.lower() for key in self.headers.keys()}
        pairs = [(key.lower(), str(value)) for key, value in headers.items() if key.lower() not in own]
        pairs += [(key.lower(), str(value)) for key, value in self.headers.items()]  # every value
        return [*pairs, *(("set-cookie", cookie.header_value()) for cookie in self.cookies)]


_request: contextvars.ContextVar[Request] = contextvars.ContextVar("bentotui_request")
_response: contextvars.ContextVar[ResponseContext] = contextvars.ContextVar("bentotui_response")


class Context:
    """``bentoml.Context``: one per service and process; see the module docstring."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    @property
    def request(self) -> Request:
        try:
            return _request.get()
        except LookupError:
            raise RuntimeError(_OUTSIDE) from None

    @property
    def response(self) -> ResponseContext:
        try:
            return _response.get()
        except LookupError:
            raise RuntimeError(_OUTSIDE) from None

    @contextlib.contextmanager
    def in_request(self, request: Request) -> Iterator[ResponseContext]:
        """Make ``request`` the current one (for this task and the threads it starts) and yield
        the fresh response context the API fills in."""
        response = ResponseContext()
        request_token = _request.set(request)
        response_token = _response.set(response)
        try:
            yield response
        finally:
            _request.reset(request_token)
            _response.reset(response_token)

    def adopt_response(self, changes: ResponseContext) -> None:
        """Apply what a runner worker's method set on its copy of the response to this request's."""
        response = self.response
        response.status_code = changes.status_code
        for key in {key.lower() for key in changes.headers.keys()}:
            response.headers.setlist(key, changes.headers.getlist(key))
        response.cookies.extend(changes.cookies)

    def __repr__(self) -> str:
        return f"Context(state keys={sorted(self.state)})"


async def respond_in_request(
    api: APISpec, value: Any, scope: Any, request_id: str
) -> tuple[HTTPResponse, list[tuple[str, str]]]:
    """Call an API that takes a context inside its request; the response carries the status,
    headers and cookies the API set (the server writes the header pairs as given)."""
    assert api.context is not None
    with api.context.in_request(Request.from_scope(scope, request_id)) as changes:
        result = await api.call(value)
    response = api.output.to_http(result)
    response.status = changes.status_code
    return response, changes.header_pairs(response.headers)


_OUTSIDE = (
    "ctx.request and ctx.response exist only while an API answers a request "
    "(not in lifecycle hooks, nor in a batchable API, whose call serves many requests)"
)


def is_context_annotation(annotation: Any, namespace: dict[str, Any]) -> bool:
    """Whether ``annotation`` (an object, or a string under ``from __future__ import annotations``)
    names :class:`Context`."""
    if isinstance(annotation, str):
        try:
            annotation = eval(annotation, dict(namespace))  # what typing.get_type_hints does
        except Exception:
            return bool(annotation == "Context" or annotation.endswith(".Context"))
    return annotation is Context


def context_param(fn: Callable[..., Any]) -> str | None:
    """BentoML 1.2's rule: a parameter named ``ctx`` (else ``context``), unannotated or annotated
    ``bentoml.Context``, receives the context."""
    parameters = inspect.signature(fn).parameters
    for name in CONTEXT_NAMES:
        if name in parameters:
            annotation = parameters[name].annotation
            if annotation is inspect.Parameter.empty or is_context_annotation(
                annotation, getattr(fn, "__globals__", {})
            ):
                return name
            return None
    return None


def takes_context(hook: Callable[..., Any], where: str) -> bool:
    """Whether a lifecycle hook wants the context: it takes one parameter (``def hook(ctx)``, or
    ``def hook(self, ctx)`` once bound).  More than one is a build error."""
    positional = [
        p for p in inspect.signature(hook).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) > 1:
        name = getattr(hook, "__qualname__", repr(hook))
        raise BuildError(f"{where} hook {name} takes {len(positional)} parameters; it takes none or a context")
    return bool(positional)
