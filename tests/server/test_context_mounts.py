"""``bentoml.Context``, lifecycle hooks with a context, mounted FastAPI/Flask apps and ASGI
middleware, through real ``bentotui serve`` processes (1.x ``Service`` and 1.2 ``@service`` class)."""

from __future__ import annotations

import subprocess
import textwrap
import time

import httpx

from bentotui._process import self_command
from tests.helpers.server import serve

SERVICE_1X = textwrap.dedent("""
    import json
    import os
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request as FastRequest
    from flask import Flask, request as flask_request

    import bentotui as bentoml
    from bentotui.service.context import Context

    svc = bentoml.Service(name="contextual")

    @svc.on_deployment
    def prepare():
        with open("deployed.txt", "a") as fh:
            fh.write("once\\n")

    @svc.on_startup
    async def open_things(ctx):
        ctx.state["greeting"] = "hello"

    @svc.on_startup
    def plain_hook():
        pass

    @svc.on_shutdown
    def close_things(ctx: Context):
        with open("shutdown.json", "w") as fh:
            json.dump(ctx.state, fh)

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def whoami(body, ctx: Context):
        ctx.response.status_code = 202
        ctx.response.headers["X-Served-By"] = "contextual"
        ctx.response.set_cookie("session", body["name"], httponly=True)
        ctx.response.set_cookie("theme", "dark")
        req = ctx.request
        return {
            "greeting": ctx.state["greeting"],
            "agent": req.headers["user-agent"],
            "cookie": req.cookies.get("visit"),
            "query": req.query_params.getlist("tag"),
            "method": req.method,
            "path": req.url.path,
        }

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    async def plain(text):
        return text.upper()

    @asynccontextmanager
    async def lifespan(app):
        yield {"started": "fastapi lifespan ran"}

    fast = FastAPI(lifespan=lifespan)

    @fast.get("/hello")
    def hello(request: FastRequest):
        return {"msg": request.state.started, "root_path": request.scope["root_path"]}

    flask_app = Flask(__name__)

    @flask_app.route("/ping")
    def ping():
        return {"pong": True, "script_name": flask_request.environ["SCRIPT_NAME"]}

    svc.mount_asgi_app(fast, path="/fastapi")
    svc.mount_wsgi_app(flask_app, path="/flask", name="legacy-flask")

    class Guard:
        def __init__(self, app, header):
            self.app, self.header = app, header.encode()

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http" and scope["path"] == "/plain" and (b"x-deny", b"1") in scope["headers"]:
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"error": "denied", "detail": "x-deny"}'})
                return

            async def tagged(message):
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-guard", self.header)]
                await send(message)

            await self.app(scope, receive, tagged)

    svc.add_asgi_middleware(Guard, header="on")
""")


def test_1x_context_hooks_mounts_and_middleware(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE_1X)
    with serve("service:svc", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        client.cookies.set("visit", "3")
        r = client.post("/whoami?tag=a&tag=b", json={"name": "ann"}, headers={"user-agent": "tester/1"})
        assert r.status_code == 202, r.text
        assert r.json() == {"greeting": "hello", "agent": "tester/1", "cookie": "3", "query": ["a", "b"],
                            "method": "POST", "path": "/whoami"}
        assert r.headers["x-served-by"] == "contextual" and r.headers["x-request-id"]
        cookies = r.headers.get_list("set-cookie")
        assert "session=ann; HttpOnly; Path=/; SameSite=Lax" in cookies and any(c.startswith("theme=dark") for c in cookies)
        assert client.post("/plain", content=b"hi", headers={"content-type": "text/plain"}).text == "HI"

        r = client.get("/fastapi/hello", headers={"x-request-id": "mount-1"})
        assert r.json() == {"msg": "fastapi lifespan ran", "root_path": "/fastapi"}
        assert r.headers["x-request-id"] == "mount-1" and r.headers["x-guard"] == "on"
        assert client.get("/fastapi/missing").status_code == 404  # the mounted app's own 404
        r = client.get("/flask/ping")
        assert r.json() == {"pong": True, "script_name": "/flask"} and r.headers["x-request-id"]

        denied = client.post("/plain", content=b"hi", headers={"content-type": "text/plain", "x-deny": "1"})
        assert denied.status_code == 403 and denied.json()["error"] == "denied"
        assert client.get("/healthz").headers["x-guard"] == "on"  # middleware wraps the whole server
        # the middleware answered without reading the body: the connection is not reused, and says so
        head = "POST /plain HTTP/1.1\nHost: 127.0.0.1\nContent-Type: text/plain\nContent-Length: 2\nX-Deny: 1\n"
        status, headers, closed = srv.answer_to_head(head)
        assert (status, headers.get("connection"), closed) == (403, "close", True)

        metrics = client.get("/metrics").text
        assert 'endpoint="/fastapi"' in metrics and 'endpoint="/flask"' in metrics
        log = srv.log_text()
        assert "/fastapi/hello" in log and "mount-1" in log
        assert srv.stop() == 0
    assert (tmp_path / "deployed.txt").read_text() == "once\n"
    assert (tmp_path / "shutdown.json").read_text() == '{"greeting": "hello"}'


SERVICE_CLASS = textwrap.dedent("""
    import json
    from pathlib import Path

    import numpy as np
    from fastapi import FastAPI

    import bentotui as bentoml
    from bentotui.service.classes import asgi_app, on_deployment, on_shutdown, on_startup
    from bentotui.service.context import Context

    extra = FastAPI()

    @extra.get("/status")
    def status():
        return {"mounted": True}

    @bentoml.service(name="ctx-class")
    @asgi_app(extra, path="/extra")
    class Shop:
        @on_deployment
        def setup():
            Path("class-deployed.txt").write_text("yes")

        @on_startup
        def load(self, ctx):
            ctx.state["prices"] = {"apple": 3}

        @on_startup
        async def warm(self):
            self.warm = True

        @on_shutdown
        def bye(self, ctx):
            Path("class-shutdown.json").write_text(json.dumps(ctx.state))

        @bentoml.api
        def price(self, item: str, ctx: Context) -> dict:
            if item not in ctx.state["prices"]:
                ctx.response.status_code = 404
                return {"error": "unknown item", "detail": item}
            ctx.response.headers["x-currency"] = "EUR"
            ctx.response.set_cookie("last", item)
            return {"price": ctx.state["prices"][item], "agent": ctx.request.headers.get("user-agent"),
                    "warm": self.warm}

        @bentoml.api
        async def visits(self, context) -> dict:
            context.state["visits"] = context.state.get("visits", 0) + 1
            context.response.headers["x-visit"] = str(context.state["visits"])
            return {"visits": context.state["visits"], "q": context.request.query_params.get("q")}

        @bentoml.api(batchable=True)
        def double(self, input: np.ndarray, ctx) -> np.ndarray:
            ctx.state["batches"] = ctx.state.get("batches", 0) + 1
            return input * 2

        @bentoml.api
        def echo_file(self, document: Path) -> Path:
            return document
""")


def test_class_context_hooks_mount_and_returned_upload(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE_CLASS)
    with serve("service:Shop", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        assert (tmp_path / "class-deployed.txt").read_text() == "yes"
        r = client.post("/price", json={"item": "apple"}, headers={"user-agent": "shopper"})
        assert r.status_code == 200, r.text
        assert r.json() == {"price": 3, "agent": "shopper", "warm": True}
        assert r.headers["x-currency"] == "EUR" and r.headers["set-cookie"].startswith("last=apple")
        r = client.post("/price", json={"item": "pear"})
        assert r.status_code == 404 and r.json() == {"error": "unknown item", "detail": "pear"}
        r = client.post("/price", json={"item": "apple", "ctx": {}})
        assert r.status_code == 400 and "ctx" in r.json()["error"]  # not a request field

        first = client.post("/visits?q=x", json={}).json()
        second = client.post("/visits", json={})
        assert first == {"visits": 1, "q": "x"} and second.json() == {"visits": 2, "q": None}
        assert second.headers["x-visit"] == "2"

        assert client.post("/double", json={"input": [1, 2]}).json() == [2, 4]

        r = client.post("/echo_file", files={"document": ("d.bin", b"\x00payload", "application/octet-stream")})
        assert r.status_code == 200, r.text
        assert r.content == b"\x00payload"

        assert client.get("/extra/status").json() == {"mounted": True}
        assert srv.stop() == 0
    deadline = time.monotonic() + 10
    while not (tmp_path / "class-shutdown.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    state = (tmp_path / "class-shutdown.json").read_text()
    assert '"prices": {"apple": 3}' in state and '"visits": 2' in state and '"batches": 1' in state


FAILING_MOUNT = textwrap.dedent("""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    import bentotui as bentoml

    @asynccontextmanager
    async def lifespan(app):
        raise RuntimeError("database unreachable")
        yield

    svc = bentoml.Service(name="failing-mount")
    svc.mount_asgi_app(FastAPI(lifespan=lifespan), path="/app")

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.Text())
    def echo(text):
        return text
""")


def test_a_mounted_app_that_fails_to_start_stops_the_server(tmp_path):
    (tmp_path / "service.py").write_text(FAILING_MOUNT)
    argv = [*self_command(), "serve", "service:svc", "--port", "0", "--working-dir", str(tmp_path)]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "the app mounted at /app failed to start" in done.stderr and "database unreachable" in done.stderr
