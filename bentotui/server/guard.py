"""Which requests a server answers: the ``Host`` check and the cross-site browser check.

A server on 127.0.0.1 is reachable from every web page its user opens, so "only local clients"
is not enough.  Two attacks need no bug in the service:

* **DNS rebinding.**  A page on ``evil.example`` makes its own name resolve to 127.0.0.1; the
  browser then treats the server as ``evil.example``'s and lets the page read every answer.  The
  one thing the browser cannot hide is the name it thinks it talks to: the ``Host`` header.  So
  only hosts that are the server's own are answered: ``localhost`` (and ``*.localhost``, which
  browsers resolve to loopback themselves), loopback addresses, the address or name the server is
  bound to, and any IP address when bound to all interfaces (a page whose origin is an IP
  address is that address's own page: rebinding needs a name).  ``--allowed-host`` adds names.
* **Cross-site requests.**  Any page can POST ``text/plain`` (a CORS "simple" request, sent
  without a preflight) and run the model, or a mounted app's endpoint, in the user's name.
  Browsers label every request with ``Sec-Fetch-Site`` and, for POSTs and CORS requests,
  ``Origin``; a request from another origin is refused unless ``--cors-origin`` allows it, in
  which case it gets CORS headers and its preflight is answered.  Following a link to the server
  (a top-level GET navigation) stays allowed, as in the Fetch Metadata "resource isolation policy".

Clients that are not browsers (curl, httpx, BentoML's clients, the TUI) send neither header and
pass with the one dictionary lookup the ``Host`` check costs once a host has been seen.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bentotui.exceptions import BentotuiError

if TYPE_CHECKING:
    from hypercorn.typing import (
        ASGISendCallable,
        ASGISendEvent,
        HTTPScope,
        WebsocketResponseBodyEvent,
        WebsocketResponseStartEvent,
        WebsocketScope,
    )

    from bentotui.service.service import Service

ANY = "*"
#: the addresses ``--host`` names to listen on every interface
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
#: methods a preflight may ask for; what the route really accepts is its own business (405)
_PREFLIGHT_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_MAX_CACHED_HOSTS = 1024  # distinct Host values remembered; past it each new one is checked afresh


class RequestRefused(BentotuiError):
    """A request the guard does not serve (HTTP 403); the detail names the flag that allows it."""

    http_status = 403


@dataclass(frozen=True, slots=True)
class Cors:
    """A cross-origin request that ``--cors-origin`` allows: a preflight to answer (204) with
    ``headers``, or a request to serve with ``headers`` added to its response."""

    headers: tuple[tuple[bytes, bytes], ...]
    preflight: bool

    def wrap(self, send: ASGISendCallable) -> ASGISendCallable:
        """``send``, adding the CORS headers unless the app (a mounted one) set its own."""

        async def send_with_cors(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(key.lower() == b"access-control-allow-origin" for key, _ in headers):
                    message["headers"] = [*headers, *self.headers]
            await send(message)

        return send_with_cors


def split_host(host: str) -> str:
    """``host`` (a Host header or ``--host`` value) without its port and IPv6 brackets, lower-case,
    without the trailing dot of a fully qualified name."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def service_cors_origins(service: Service) -> frozenset[str]:
    """The origins a service's own CORS middleware allows (``svc.add_asgi_middleware(CORSMiddleware,
    allow_origins=[...])``, BentoML's documented way): that middleware already answers their
    preflights and adds the headers, so the guard lets them pass as they are."""
    origins: set[str] = set()
    for middleware_cls, options in service.middlewares:
        if getattr(middleware_cls, "__name__", "") == "CORSMiddleware":
            origins.update(str(origin).lower().rstrip("/") for origin in options.get("allow_origins", ()))
    return frozenset(origins)


class RequestGuard:
    """Decides, per request, whether it is served; see the module docstring for why.

    ``allowed_hosts`` and ``cors_origins`` come normalized from ``ServeOptions`` (names lower-case
    without port, ``*.domain`` for subdomains, origins as ``scheme://host[:port]``, ``*`` for any);
    ``trusted_origins`` pass without the guard's CORS headers (the service's own CORS middleware).
    """

    def __init__(
        self,
        *,
        bind_host: str,
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
        trusted_origins: Iterable[str] = (),
    ) -> None:
        bound = split_host(bind_host)
        self.bind_host = bound
        self.wildcard = bound in WILDCARD_BINDS
        allowed = set(allowed_hosts)
        self.any_host = ANY in allowed
        self.names = {"localhost", *(h for h in allowed if not h.startswith("*.")), *([bound] if bound else [])}
        self.suffixes = tuple(h[1:] for h in allowed if h.startswith("*.")) + (".localhost",)
        self.addresses = {ipaddress.ip_address(h) for h in self.names if _is_ip(h)}
        self.cors = frozenset(cors_origins)
        self.trusted = frozenset(trusted_origins)
        self.any_origin = ANY in self.cors or ANY in self.trusted
        self._hosts: dict[bytes, bool] = {}

    def check(self, scope: HTTPScope | WebsocketScope) -> Cors | None:
        """None for a request to pass on as it is; a :class:`Cors` for an allowed cross-origin
        one; raises :class:`RequestRefused` for the rest.  The hot path (no ``Origin``, a known
        ``Host``) is one pass over the headers and one dictionary lookup."""
        host = origin = site = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value
            elif key == b"origin":
                origin = value
            elif key == b"sec-fetch-site":
                site = value
        if host is not None:
            allowed = self._hosts.get(host)
            if allowed is None:
                allowed = self._host_allowed(host)
                if len(self._hosts) < _MAX_CACHED_HOSTS:
                    self._hosts[host] = allowed
            if not allowed:
                raise self._host_refusal(host)
        if origin is None and site is None or site == b"same-origin":
            return None  # not a browser, or the browser vouches for the server's own origin
        if origin is not None:
            return self._check_origin(scope, origin, host)
        if site != b"cross-site" or self.any_origin or _is_navigation(scope):
            return None
        raise RequestRefused(
            "cross-site request refused",
            "a page from another site sent this request (Sec-Fetch-Site: cross-site) and only following a link "
            "to this server is allowed from other sites; to let any site call it, restart with "
            "`bentotui serve --cors-origin '*'`",
        )

    def _check_origin(self, scope: HTTPScope | WebsocketScope, origin: bytes, host: bytes | None) -> Cors | None:
        if host is not None and origin.partition(b"://")[2] == host:
            return None  # the server's own page (Swagger UI at /) posting to its APIs
        text = origin.decode("latin-1").lower()
        if text in self.trusted or ANY in self.trusted:
            return None
        if text not in self.cors and ANY not in self.cors:
            raise RequestRefused(
                "cross-origin request refused",
                f"a page from {text} may not call this server (a browser sent Origin: {text}); to allow it, restart "
                f"with `bentotui serve --cors-origin {text}` (or --cors-origin '*' for any page)",
            )
        if scope["type"] != "http":
            return None  # a websocket: the handshake answer carries no CORS headers
        preflight = False
        requested_headers = b""
        for key, value in scope["headers"]:
            if key == b"access-control-request-method":
                preflight = scope["method"] == "OPTIONS"
            elif key == b"access-control-request-headers":
                requested_headers = value
        if ANY in self.cors:
            headers = [(b"access-control-allow-origin", b"*")]
        else:
            headers = [(b"access-control-allow-origin", origin), (b"vary", b"origin")]
        if preflight:
            headers += [(b"access-control-allow-methods", _PREFLIGHT_METHODS), (b"access-control-max-age", b"600")]
            if requested_headers:
                headers.append((b"access-control-allow-headers", requested_headers))
        else:
            headers.append((b"access-control-expose-headers", b"x-request-id"))
        return Cors(tuple(headers), preflight)

    def _host_allowed(self, raw: bytes) -> bool:
        name = split_host(raw.decode("latin-1"))
        if self.any_host or name in self.names or name.endswith(self.suffixes):
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_loopback or self.wildcard or address in self.addresses

    def _host_refusal(self, raw: bytes) -> RequestRefused:
        name = split_host(raw.decode("latin-1"))
        answered = "localhost, loopback addresses" + (
            " and any IP address" if self.wildcard else f" and {self.bind_host}" if self.bind_host else ""
        )
        return RequestRefused(
            "host not allowed",
            f"Host {name!r} is not one of this server's names ({answered}), refused against DNS rebinding; "
            f"to serve it under this name, restart with `bentotui serve --allowed-host {name}` "
            "(or --allowed-host '*' for any name)",
        )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_navigation(scope: HTTPScope | WebsocketScope) -> bool:
    """A top-level GET page load (a link followed from another site): harmless to answer, and
    refusing it would break links to Swagger UI.  Frames are not: they allow clickjacking."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    fetch = {key: value for key, value in scope["headers"] if key in (b"sec-fetch-mode", b"sec-fetch-dest")}
    return fetch.get(b"sec-fetch-mode") == b"navigate" and fetch.get(b"sec-fetch-dest", b"document") == b"document"


async def refuse_websocket(send: ASGISendCallable, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse a websocket handshake with an HTTP answer and its JSON body, through the ASGI
    ``websocket.http.response`` extension (hypercorn, the one server this app runs on, has it)."""
    start: WebsocketResponseStartEvent = {"type": "websocket.http.response.start", "status": status, "headers": headers}
    await send(start)
    end: WebsocketResponseBodyEvent = {"type": "websocket.http.response.body", "body": body, "more_body": False}
    await send(end)
