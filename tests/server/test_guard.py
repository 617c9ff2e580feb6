"""The request guard through real ``bentotui serve`` processes: ``Host`` checks against DNS
rebinding, cross-site browser requests refused, CORS for the origins ``--cors-origin`` names, and
every non-browser client (httpx, curl, bentotui's client) unchanged."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from bentotui._process import self_command
from bentotui.client import SyncClient
from bentotui.exceptions import InvalidArgument
from bentotui.server.options import ServeOptions
from tests.helpers.server import RunningServer, serve

SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    svc = bentoml.Service(name="guarded")

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def echo(text):
        return {"text": text}

    async def mounted(scope, receive, send):
        if scope["type"] == "lifespan":
            return  # no lifespan
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"mounted"})

    svc.mount_asgi_app(mounted, path="/app")
""")

# the service again, with the CORS middleware BentoML's docs add for browser callers
SERVICE_WITH_CORS_MIDDLEWARE = textwrap.dedent("""
    from starlette.middleware.cors import CORSMiddleware

    from service import svc

    svc.add_asgi_middleware(CORSMiddleware, allow_origins=["http://trusted.example"], allow_methods=["*"])
""")

EVIL = "http://evil.example"
BROWSER_POST = {"content-type": "text/plain", "origin": EVIL, "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}


def _server(
    tmp_path_factory: pytest.TempPathFactory, name: str, target: str, *args: str, env: dict[str, str] | None = None
) -> AbstractContextManager[RunningServer]:
    root = tmp_path_factory.mktemp(name)
    home = root / "home"
    home.mkdir()
    folder = root / "svc"
    folder.mkdir()
    (folder / "service.py").write_text(SERVICE)
    (folder / "service_cors.py").write_text(SERVICE_WITH_CORS_MIDDLEWARE)
    return serve(target, cwd=folder, env={"BENTOTUI_HOME": str(home), **(env or {})}, args=args)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with no guard flags: what every `bentotui serve` gets."""
    with _server(tmp_path_factory, "default", "service:svc") as srv:
        yield srv


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Two more host names (one a subdomain pattern) and one origin allowed."""
    args = ("--allowed-host", "api.example.com", "--allowed-host", "*.corp.example", "--cors-origin", "http://localhost:8080")
    with _server(tmp_path_factory, "flagged", "service:svc", *args) as srv:
        yield srv


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Bound to every interface, names from the environment (as a container would get them), and
    the service's own CORS middleware trusting one origin."""
    env = {"BENTOTUI_ALLOWED_HOSTS": "guarded guarded.default.svc.cluster.local"}
    with _server(tmp_path_factory, "exposed", "service_cors:svc", "--host", "0.0.0.0", env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def open_to_all(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Deliberately open: any host name, any page."""
    with _server(tmp_path_factory, "open", "service:svc", "--allowed-host", "*", "--cors-origin", "*") as srv:
        yield srv


def host(srv: RunningServer, name: str) -> str:
    return f"{name}:{srv.port}"


def refusal(response: httpx.Response, error: str) -> str:
    """The detail of a guard refusal, after checking its status and JSON shape."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "request_id"}
    assert body["error"] == error
    assert body["request_id"] == response.headers["x-request-id"]
    return str(body["detail"])


# --- what must keep working ------------------------------------------------------------------


def test_non_browser_clients_unchanged(default: RunningServer) -> None:
    """httpx with the Host it derives, explicit localhost / loopback hosts, the TUI's polls."""
    for name in ("127.0.0.1", "localhost", "127.3.2.1", "[::1]", "LOCALHOST", "app.localhost"):
        headers = {"host": host(default, name), "content-type": "text/plain"}
        r = httpx.post(default.url + "/echo", content=b"hi", headers=headers)
        assert r.status_code == 200, (name, r.text)
        assert r.json() == {"text": "hi"}
    for path in ("/healthz", "/readyz", "/metrics", "/docs.json", "/schema.json", "/", "/app/x"):
        assert httpx.get(default.url + path, headers={"host": host(default, "localhost")}).status_code == 200, path


def test_bentotui_client_unchanged(default: RunningServer) -> None:
    client = SyncClient(default.url)
    assert client.call("echo", "hi") == {"text": "hi"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_unchanged(default: RunningServer) -> None:
    """The seed's own command: `curl -X POST localhost:3000/classify -H "Content-Type: text/plain"`."""
    out = subprocess.run(
        ["curl", "-s", "-X", "POST", f"http://localhost:{default.port}/echo", "-H", "Content-Type: text/plain", "-d", "hi"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert json.loads(out.stdout) == {"text": "hi"}


def test_same_origin_pages_pass(default: RunningServer) -> None:
    """Swagger UI at / posting to its own APIs: same Origin as Host, or the browser's same-origin
    label (behind a proxy that rewrote Host)."""
    for origin, hostname in (("http://127.0.0.1", "127.0.0.1"), ("http://localhost", "localhost")):
        headers = {"host": host(default, hostname), "origin": f"{origin}:{default.port}",
                   "sec-fetch-site": "same-origin", "content-type": "text/plain"}
        assert httpx.post(default.url + "/echo", content=b"hi", headers=headers).status_code == 200
    proxied = {"origin": "https://models.example.com", "sec-fetch-site": "same-origin", "content-type": "text/plain"}
    assert httpx.post(default.url + "/echo", content=b"hi", headers=proxied).status_code == 200
    r = httpx.get(default.url + "/docs.json", headers={"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


def test_link_from_another_site_opens_swagger_ui(default: RunningServer) -> None:
    """A top-level page load is allowed from anywhere; the same page in a frame is not."""
    nav = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    assert httpx.get(default.url + "/", headers=nav).status_code == 200
    framed = {**nav, "sec-fetch-dest": "iframe"}
    detail = refusal(httpx.get(default.url + "/", headers=framed), "cross-site request refused")
    assert "--cors-origin '*'" in detail


# --- what is refused by default ------------------------------------------------------------


def test_rebinding_host_refused_on_every_route(default: RunningServer) -> None:
    """A page whose name was rebound to 127.0.0.1 sends its own name as Host."""
    for method, path in (("POST", "/echo"), ("GET", "/metrics"), ("GET", "/readyz"), ("GET", "/"),
                         ("GET", "/app/x"), ("GET", "/no-such-route")):
        r = httpx.request(method, default.url + path, content=b"hi",
                          headers={"host": host(default, "evil.example"), "content-type": "text/plain"})
        detail = refusal(r, "host not allowed")
        assert "`bentotui serve --allowed-host evil.example`" in detail, detail
        assert "127.0.0.1" in detail  # what it does answer


def test_other_ip_addresses_refused_on_loopback(default: RunningServer) -> None:
    detail = refusal(httpx.get(default.url + "/healthz", headers={"host": host(default, "10.1.2.3")}), "host not allowed")
    assert "--allowed-host 10.1.2.3" in detail


def test_cross_site_text_plain_post_refused(default: RunningServer) -> None:
    """The CORS "simple" request a form or fetch(no-cors) sends without a preflight."""
    detail = refusal(httpx.post(default.url + "/echo", content=b"hi", headers=BROWSER_POST), "cross-origin request refused")
    assert f"`bentotui serve --cors-origin {EVIL}`" in detail
    # a browser without Fetch Metadata (only Origin), and one sending no Origin on a cross-site POST
    old = {"content-type": "text/plain", "origin": EVIL}
    refusal(httpx.post(default.url + "/echo", content=b"hi", headers=old), "cross-origin request refused")
    no_origin = {"content-type": "text/plain", "sec-fetch-site": "cross-site"}
    refusal(httpx.post(default.url + "/echo", content=b"hi", headers=no_origin), "cross-site request refused")
    # mounted apps and infra routes too; a page opened from a file sends Origin: null
    refusal(httpx.get(default.url + "/app/x", headers={"origin": EVIL}), "cross-origin request refused")
    refusal(httpx.get(default.url + "/metrics", headers={"origin": "null"}), "cross-origin request refused")


def test_other_local_port_is_another_origin(default: RunningServer) -> None:
    """A dev server on localhost:8080 is same-site but not same-origin: refused unless allowed."""
    headers = {"origin": "http://localhost:8080", "sec-fetch-site": "same-site", "content-type": "text/plain"}
    detail = refusal(httpx.post(default.url + "/echo", content=b"hi", headers=headers), "cross-origin request refused")
    assert "--cors-origin http://localhost:8080" in detail


def test_preflight_refused_without_cors_origin(default: RunningServer) -> None:
    headers = {"origin": EVIL, "access-control-request-method": "POST", "sec-fetch-site": "cross-site"}
    r = httpx.options(default.url + "/echo", headers=headers)
    refusal(r, "cross-origin request refused")
    assert "access-control-allow-origin" not in r.headers


def test_refusals_are_logged_and_counted(default: RunningServer) -> None:
    httpx.post(default.url + "/echo", content=b"hi", headers=BROWSER_POST)
    assert "refused POST /echo: a page from http://evil.example" in default.log_text()
    metrics = httpx.get(default.url + "/metrics").text
    assert any('endpoint="/echo"' in line and 'http_response_code="403"' in line for line in metrics.splitlines())


def _websocket_status(srv: RunningServer, origin: str) -> tuple[str, bytes]:
    """The status line and body of a websocket handshake to the mounted app."""
    request = (
        f"GET /app/ws HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += sock.recv(4096)
    return head.split(b"\r\n")[0].decode(), body


def test_cross_site_websocket_refused(default: RunningServer) -> None:
    """Browsers let any page open a websocket anywhere (no CORS): the Origin check applies."""
    status, body = _websocket_status(default, EVIL)
    assert status.split()[1] == "403"
    assert json.loads(body)["error"] == "cross-origin request refused"
    status, _ = _websocket_status(default, f"http://127.0.0.1:{default.port}")
    assert status.split()[1] == "101"


# --- what the flags allow ------------------------------------------------------------------


def test_allowed_hosts(flagged: RunningServer) -> None:
    for name in ("api.example.com", "API.Example.Com", "a.corp.example", "b.a.corp.example", "localhost"):
        assert httpx.get(flagged.url + "/healthz", headers={"host": host(flagged, name)}).status_code == 200, name
    for name in ("corp.example", "example.com", "api.example.com.evil.example"):
        refusal(httpx.get(flagged.url + "/healthz", headers={"host": host(flagged, name)}), "host not allowed")


def test_cors_preflight_and_response(flagged: RunningServer) -> None:
    origin = "http://localhost:8080"
    preflight = {"origin": origin, "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type", "sec-fetch-site": "same-site"}
    r = httpx.options(flagged.url + "/echo", headers=preflight)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == origin
    assert "POST" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "content-type"
    assert r.headers["vary"] == "origin"
    for path in ("/echo", "/app/x"):
        r = httpx.post(flagged.url + path, content=b"hi",
                       headers={"origin": origin, "sec-fetch-site": "same-site", "content-type": "text/plain"})
        assert r.status_code == 200
        assert r.headers.get_list("access-control-allow-origin") == [origin]
        assert r.headers["access-control-expose-headers"] == "x-request-id"
    detail = refusal(httpx.post(flagged.url + "/echo", content=b"hi", headers=BROWSER_POST), "cross-origin request refused")
    assert "--cors-origin http://evil.example" in detail


def test_wildcard_bind_accepts_addresses_and_env_names(exposed: RunningServer) -> None:
    """--host 0.0.0.0: any IP address the client dialed (a pod's, a probe's), names only when allowed."""
    for name in ("10.1.2.3", "[fd00::5]", "guarded", "guarded.default.svc.cluster.local", "localhost"):
        assert httpx.get(exposed.url + "/healthz", headers={"host": host(exposed, name)}).status_code == 200, name
    detail = refusal(httpx.get(exposed.url + "/healthz", headers={"host": host(exposed, "models.example.com")}),
                     "host not allowed")
    assert "any IP address" in detail
    assert "--allowed-host models.example.com" in detail


def test_service_cors_middleware_origins_pass(exposed: RunningServer) -> None:
    """svc.add_asgi_middleware(CORSMiddleware, allow_origins=[...]) keeps working as under BentoML."""
    headers = {"origin": "http://trusted.example", "sec-fetch-site": "cross-site", "content-type": "text/plain"}
    r = httpx.post(exposed.url + "/echo", content=b"hi", headers=headers)
    assert r.status_code == 200
    assert r.headers.get_list("access-control-allow-origin") == ["http://trusted.example"]
    refusal(httpx.post(exposed.url + "/echo", content=b"hi", headers=BROWSER_POST), "cross-origin request refused")


def test_open_to_all(open_to_all: RunningServer) -> None:
    r = httpx.post(open_to_all.url + "/echo", content=b"hi",
                   headers={**BROWSER_POST, "host": host(open_to_all, "anything.example")})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    no_origin = {"content-type": "text/plain", "sec-fetch-site": "cross-site"}
    assert httpx.post(open_to_all.url + "/echo", content=b"hi", headers=no_origin).status_code == 200
    status, _ = _websocket_status(open_to_all, EVIL)
    assert status.split()[1] == "101"


# --- option checks -------------------------------------------------------------------------


def test_options_normalize(tmp_path: Path) -> None:
    options = ServeOptions(
        target="service:svc", working_dir=tmp_path,
        allowed_hosts=("API.example.com.", "[::1]", "*.Corp.example", "*", "api.example.com"),
        cors_origins=("HTTP://LocalHost:80/", "https://app.example:443", "http://127.0.0.1:8080", "null", "*"),
    )
    assert options.allowed_hosts == ("api.example.com", "::1", "*.corp.example", "*")
    assert options.cors_origins == ("http://localhost", "https://app.example", "http://127.0.0.1:8080", "null", "*")


@pytest.mark.parametrize("flag, value", [
    ("allowed_hosts", "http://api.example.com"), ("allowed_hosts", "api.example.com:3000"),
    ("allowed_hosts", "a*.example.com"), ("allowed_hosts", ""),
    ("cors_origins", "localhost:8080"), ("cors_origins", "http://localhost:8080/app"), ("cors_origins", "ftp://x"),
])
def test_options_refuse_bad_values(tmp_path: Path, flag: str, value: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        if flag == "allowed_hosts":
            ServeOptions(target="service:svc", working_dir=tmp_path, allowed_hosts=(value,))
        else:
            ServeOptions(target="service:svc", working_dir=tmp_path, cors_origins=(value,))
    assert ("--allowed-host" if flag == "allowed_hosts" else "--cors-origin") in str(info.value)


def test_cli_bad_origin_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*self_command(), "serve", "service:svc", "--working-dir", str(tmp_path), "--cors-origin", "localhost:8080"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--cors-origin takes an origin as browsers send it" in result.stderr
    assert "Traceback" not in result.stderr
