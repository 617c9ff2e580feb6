"""1.2+ ``@service`` classes: decorator errors, request models from signatures, and a real server."""

from __future__ import annotations

import asyncio
import io
import textwrap
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pydantic import BaseModel

import bentotui
from bentotui.exceptions import BadInput, BuildError
from bentotui.io import HTTPRequest
from bentotui.service.classes import (
    asgi_app,
    class_runnable,
    is_service_class,
    mount_asgi_app,
    on_deployment,
    on_shutdown,
    on_startup,
    to_service,
)
from bentotui.service.context import Request
from tests.helpers.server import serve

SERVICE_FILE = textwrap.dedent(
    '''
    from pathlib import Path
    from typing import Literal

    import numpy as np
    from PIL import Image
    from pydantic import BaseModel, Field

    import bentotui as bentoml


    class Flower(BaseModel):
        sepal_length: float
        sepal_width: float
        petal_length: float
        petal_width: float = Field(ge=0)


    @bentoml.service(name="iris-modern", workers=1, traffic={"timeout": 30})
    class IrisService:
        def __init__(self) -> None:
            self.model = bentoml.models.get("iris:latest").load_model()

        @bentoml.api(batchable=True, batch_dim=0, max_batch_size=64, max_latency_ms=1000)
        def predict(self, input: np.ndarray) -> np.ndarray:
            return self.model.predict(input)

        @bentoml.api(route="/classify")
        def classify(self, flower: Flower, unit: Literal["cm", "mm"] = "cm") -> dict:
            scale = 0.1 if unit == "mm" else 1.0
            row = [[flower.sepal_length * scale, flower.sepal_width * scale,
                    flower.petal_length * scale, flower.petal_width * scale]]
            return {"label": int(self.model.predict(row)[0]), "unit": unit}

        @bentoml.api
        async def echo(self, text: str) -> str:
            return text.upper()

        @bentoml.api
        def measure(self, image: Image.Image, document: Path, scale: int = 1) -> dict:
            return {"size": list(image.size), "bytes": len(document.read_bytes()) * scale}

        @bentoml.api
        def thumbnail(self, image: Image.Image) -> Image.Image:
            return image.resize((2, 2))
    '''
)


def test_service_decorator_errors():
    with pytest.raises(BuildError, match="decorates a class"):
        bentotui.service(lambda: None)
    with pytest.raises(BuildError, match="workers must be a positive integer"):
        bentotui.service(workers=0)
    with pytest.raises(BuildError, match="traffic timeout"):
        bentotui.service(traffic={"timeout": -1})
    @bentotui.service
    class Empty:
        pass

    with pytest.raises(BuildError, match="has no @bentotui.api methods and no mounted app"):
        to_service(Empty)


def test_legacy_api_on_a_service_class_is_refused():
    from bentotui.adapters import JsonInput

    with pytest.raises(BuildError, match="here takes batchable="):

        @bentotui.service
        class Mixed:
            @bentotui.api(input=JsonInput())
            def predict(self, x):
                return x


def test_batchable_api_needs_one_parameter():
    @bentotui.service
    class Two:
        @bentotui.api(batchable=True)
        def predict(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a

    with pytest.raises(BuildError, match="batchable API takes exactly one parameter"):
        to_service(Two)


def test_service_options_reach_the_runner():
    @bentotui.service(workers=3)
    class Opts:
        @bentotui.api(batchable=True, max_batch_size=8, max_latency_ms=50)
        def predict(self, x: np.ndarray) -> np.ndarray:
            return x

        @bentotui.api(batchable=True, max_batch_size=16)
        def other(self, x: np.ndarray) -> np.ndarray:
            return x

    (runner,) = to_service(Opts).runners
    assert runner.workers == 3 and runner.methods["predict"].config.batchable
    # each method keeps its own limits (the runner's defaults fill what it leaves out)
    predict, other = runner.methods["predict"], runner.methods["other"]
    assert (predict.max_batch_size, predict.max_latency_ms) == (8, 50)
    assert (other.max_batch_size, other.max_latency_ms) == (16, runner.max_latency_ms)


def test_api_arguments_are_validated():
    with pytest.raises(BuildError, match="max_batch_size must be positive"):
        bentotui.api(batchable=True, max_batch_size=0)


class Point(BaseModel):
    x: int


async def test_request_model_from_signature():
    @bentotui.service(name="shapes")
    class Shapes:
        @bentotui.api
        def area(
            self, point: Point, scale: float = 1.0, grid: np.ndarray | None = None, table: pd.DataFrame | None = None
        ) -> dict:
            return {}

    assert is_service_class(Shapes) and Shapes().area(Point(x=1)) == {}
    svc = to_service(Shapes)
    assert svc.name == "shapes" and svc.runners[0].workers is None
    api = svc.apis["area"]
    value = await api.input.from_http(HTTPRequest(b'{"point": {"x": 2}, "grid": [[1, 2]]}', "application/json"))
    assert value.point.x == 2 and value.scale == 1.0 and value.grid.shape == (1, 2)
    with pytest.raises(BadInput, match=r"body.point.x: Input should be a valid integer"):
        await api.input.from_http(HTTPRequest(b'{"point": {"x": "two"}}', "application/json"))
    with pytest.raises(BadInput, match=r"body.grid: Value error, expected a numeric array"):
        await api.input.from_http(HTTPRequest(b'{"point": {"x": 1}, "grid": [["a"]]}', "application/json"))
    frame = await api.input.from_http(
        HTTPRequest(b'{"point": {"x": 1}, "table": [{"a": 1}, {"a": 2}]}', "application/json")
    )
    assert frame.table["a"].tolist() == [1, 2]
    with pytest.raises(BadInput, match=r"body.table: Value error, expected a DataFrame"):
        await api.input.from_http(HTTPRequest(b'{"point": {"x": 1}, "table": 3}', "application/json"))
    with pytest.raises(BadInput, match=r"body.extra: Extra inputs are not permitted"):
        await api.input.from_http(HTTPRequest(b'{"point": {"x": 1}, "extra": 1}', "application/json"))
    assert "point" in api.input.openapi_example()
    assert await api.call(value) == {}  # in-process: an unbound runner hosts the instance locally


def test_depends_gives_an_instance_of_the_other_service():
    @bentotui.service
    class Inner:
        @bentotui.api
        def double(self, x: int) -> int:
            return 2 * x

    @bentotui.service
    class Outer:
        inner = bentotui.depends(Inner)

        @bentotui.api
        def quad(self, x: int) -> int:
            return self.inner.double(self.inner.double(x))

    assert to_service(Inner).name == "inner"
    outer = Outer()
    assert outer.quad(3) == 12 and outer.inner is outer.inner
    assert to_service(Outer).apis["quad"].func is not None
    with pytest.raises(BuildError, match="expects a @bentotui.service class"):
        bentotui.depends(int)


def test_a_dependency_has_bentomls_to_async_and_to_sync_views():
    @bentotui.service
    class Inner:
        @bentotui.api
        def double(self, x: int) -> int:
            return 2 * x

        @bentotui.api
        async def triple(self, x: int) -> int:
            return 3 * x

    @bentotui.service
    class Outer:
        inner = bentotui.depends(Inner)

        @bentotui.api
        async def both(self, x: int) -> list[int]:
            return list(await asyncio.gather(self.inner.to_async.double(x), self.inner.to_async.triple(x)))

    outer = Outer()
    assert asyncio.run(outer.both(2)) == [4, 6]
    assert outer.inner.to_sync.triple(5) == 15 and outer.inner.to_sync.double(5) == 10
    # as through BentoML's client, keywords an API does not take are dropped
    assert outer.inner.double(4, max_length=128) == 8
    assert asyncio.run(outer.inner.to_async.triple(1, unused=True)) == 3

    async def sync_view_inside_a_loop() -> None:
        outer.inner.to_sync.triple(1)

    with pytest.raises(RuntimeError, match="await it"):
        asyncio.run(sync_view_inside_a_loop())


def test_class_service_served(tmp_path, iris_model, iris_data, iris_lr):
    (tmp_path / "modern_service.py").write_text(SERVICE_FILE)
    x, _ = iris_data
    rows = x[::3][:50]
    expected = iris_lr.predict(rows).tolist()
    with serve("modern_service:IrisService", cwd=tmp_path) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as client:
            r = client.post("/predict", json={"input": rows[:3].tolist()})
            assert r.status_code == 200, r.text
            assert r.json() == expected[:3]

            def one(i: int) -> list:
                resp = client.post("/predict", json={"input": [rows[i].tolist()]})
                assert resp.status_code == 200, resp.text
                return resp.json()

            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(one, range(len(rows))))
            assert answers == [[e] for e in expected]

            flower = dict(zip(["sepal_length", "sepal_width", "petal_length", "petal_width"], x[0].tolist(), strict=True))
            r = client.post("/classify", json={"flower": flower})
            assert r.status_code == 200 and r.json() == {"label": expected[0], "unit": "cm"}

            r = client.post("/classify", json={"flower": {**flower, "petal_width": -1}})
            assert r.status_code == 400
            assert "body.flower.petal_width" in r.json()["error"]
            r = client.post("/classify", json={"flower": flower, "unit": "inch"})
            assert r.status_code == 400 and "body.unit" in r.json()["error"]
            r = client.post("/predict", json={"inputs": [[1, 2, 3, 4]]})
            assert r.status_code == 400 and "body.input: Field required" in r.json()["error"]

            r = client.post("/echo", json={"text": "hi"})
            assert r.status_code == 200 and r.text == "HI"

            png = io.BytesIO()
            Image.new("RGB", (4, 3), "red").save(png, format="PNG")
            files = {"image": ("a.png", png.getvalue(), "image/png"), "document": ("d.txt", b"hello", "text/plain")}
            r = client.post("/measure", files=files, data={"scale": "2"})
            assert r.status_code == 200, r.text
            assert r.json() == {"size": [4, 3], "bytes": 10}
            r = client.post("/measure", files={**files, "image": ("a.png", b"not a png", "image/png")})
            assert r.status_code == 400 and r.json()["error"].startswith("body.image: ")
            r = client.post("/measure", files={"image": files["image"]})
            assert r.status_code == 400 and "body.document: missing file part" in r.json()["error"]
            r = client.post("/measure", files=files, data={"scale": "x"})
            assert r.status_code == 400 and "body.scale" in r.json()["error"]
            r = client.post("/measure", json={"scale": 1})
            assert r.status_code == 400 and "send multipart/form-data" in r.json()["error"]
            r = client.post("/thumbnail", files={"image": files["image"]})
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(r.content)).size == (2, 2)
            names = {op["operationId"] for path in client.get("/docs.json").json()["paths"].values()
                     for op in path.values() if "operationId" in op}
            assert {"predict", "classify", "echo"} <= names


# --- context, lifecycle hooks and mounted apps of @service classes ------------------------------


@bentotui.service(name="ctx-unit")
class _Contextual:
    def __init__(self) -> None:
        self.closed = False

    @on_startup
    def load(self, ctx):
        ctx.state["ready"] = True

    @on_shutdown
    def close_it(self):
        self.closed = True

    @bentotui.api
    def hello(self, name: str, ctx) -> dict:
        ctx.response.status_code = 201
        ctx.response.set_cookie("seen", name)
        return {"name": name, "ready": ctx.state["ready"], "path": ctx.request.path}

    @bentotui.api(batchable=True)
    def rows(self, input: np.ndarray, context) -> list:
        try:
            context.request  # noqa: B018
        except RuntimeError as exc:
            return [str(exc)]
        return []


def test_context_parameter_is_no_request_field():
    svc = to_service(_Contextual)
    assert set(svc.apis["hello"].input.pydantic_model.model_fields) == {"name"}
    assert svc.apis["hello"].context is svc.context  # the API side receives the request to ship
    assert svc.apis["rows"].context is None  # a batch serves many requests: none to ship


def test_hosted_instance_runs_in_the_request_and_its_hooks():
    runnable = class_runnable(_Contextual)()
    assert runnable.context.state == {"ready": True}  # the startup hook ran with the context
    result, changes = runnable.hello(name="ann", ctx=Request("POST", "/hello"))
    assert result == {"name": "ann", "ready": True, "path": "/hello"}
    assert changes.status_code == 201 and changes.cookies[0].key == "seen"
    assert "only while an API answers a request" in runnable.rows(np.ones((2, 1)))[0]
    runnable.close()
    assert runnable.instance.closed


def test_deployment_hooks_and_mounts_reach_the_service():
    async def app(scope, receive, send):
        pass

    @bentotui.service
    @asgi_app(app, path="/extra")
    class Mounted:
        @on_deployment
        def prepare():
            return "prepared"

        @bentotui.api
        def ping(self) -> str:
            return "pong"

    svc = to_service(Mounted)
    assert svc.mount_apps == [(app, "/extra", None)]
    assert [hook() for hook in svc.deployment_hooks] == ["prepared"]
    assert mount_asgi_app is asgi_app


def test_hook_and_mount_mistakes():
    with pytest.raises(BuildError, match="takes 2 parameters"):

        @bentotui.service
        class TooMany:
            @on_startup
            def start(self, ctx, extra):
                pass

            @bentotui.api
            def ping(self) -> str:
                return "pong"

        class_runnable(TooMany)
    with pytest.raises(BuildError, match="marks a plain method"):

        @bentotui.service
        class Static:
            @on_shutdown
            @staticmethod
            def stop():
                pass

            @bentotui.api
            def ping(self) -> str:
                return "pong"

        class_runnable(Static)
    with pytest.raises(BuildError, match="decorates a @bentotui.service class"):
        asgi_app(lambda *a: None)(len)

    @bentotui.service
    @asgi_app(lambda *a: None, path="/ping")
    class Clash:
        @bentotui.api
        def ping(self) -> str:
            return "pong"

    with pytest.raises(BuildError, match="would cover route /ping of API 'ping'"):
        to_service(Clash)
