"""The 1.x ``Service``: API registration, validation, handlers and hooks."""

from __future__ import annotations

import asyncio
import threading

import pytest

import bentotui
from bentotui.exceptions import BuildError
from bentotui.io import JSON, NumpyNdarray, Text
from bentotui.service import RESERVED_ROUTES, APISpec, Service
from bentotui.service.context import Context, Request


class FakeRunner:
    """Stands in for a runner: the service only reads its name."""

    def __init__(self, name: str) -> None:
        self.name = name


def echo(text: str) -> str:
    return text


def test_public_names():
    assert bentotui.Service is Service
    assert bentotui.io.Text is Text


def test_api_defaults_and_function_is_returned():
    svc = Service("Text-Classifier", runners=[FakeRunner("clf")], models=["clf:latest"])

    @svc.api(input=Text(), output=JSON())
    def classify(text: str) -> dict:
        """Classify a text.

        More words."""
        return {"len": len(text)}

    assert classify("abc") == {"len": 3}
    api = svc.apis["classify"]
    assert isinstance(api, APISpec)
    assert (api.name, api.route, api.is_async) == ("classify", "/classify", False)
    assert api.doc.startswith("Classify a text.")
    assert svc.name == "text-classifier"
    assert [r.name for r in svc.runners] == ["clf"] and svc.models == ["clf:latest"]
    assert "classify" in repr(svc) and "clf" in repr(svc)


def test_custom_route_name_and_doc():
    svc = Service("svc")
    svc.api(input=Text(), output=Text(), route="v1/predict/", name="predict_v1", doc="Predict.")(echo)
    api = svc.apis["predict_v1"]
    assert (api.route, api.doc) == ("/v1/predict", "Predict.")


async def test_sync_handlers_run_in_a_thread_async_ones_on_the_loop():
    svc = Service("svc")
    seen: dict[str, int] = {}

    @svc.api(input=Text(), output=Text())
    def sync_api(text: str) -> str:
        seen["sync"] = threading.get_ident()
        return text.upper()

    @svc.api(input=Text(), output=Text())
    async def async_api(text: str) -> str:
        seen["async"] = threading.get_ident()
        await asyncio.sleep(0)
        return text[::-1]

    assert await svc.apis["sync_api"].call("ab") == "AB"
    assert await svc.apis["async_api"].call("ab") == "ba"
    assert svc.apis["async_api"].is_async
    assert seen["async"] == threading.get_ident() != seen["sync"]


async def test_sync_handlers_do_not_block_each_other():
    svc = Service("svc")
    barrier = threading.Barrier(2, timeout=5)

    @svc.api(input=Text(), output=Text())
    def wait(text: str) -> str:
        barrier.wait()  # both calls must be running at once to get past this
        return text

    results = await asyncio.wait_for(
        asyncio.gather(svc.apis["wait"].call("a"), svc.apis["wait"].call("b")), timeout=10
    )
    assert results == ["a", "b"]


async def test_handler_errors_propagate():
    svc = Service("svc")

    @svc.api(input=Text(), output=Text())
    def boom(text: str) -> str:
        raise ValueError("model failed")

    with pytest.raises(ValueError, match="model failed"):
        await svc.apis["boom"].call("x")


@pytest.mark.parametrize("route", [*sorted(RESERVED_ROUTES), "/static", "/static/app.js"])
def test_reserved_routes_are_rejected(route):
    svc = Service("svc")
    with pytest.raises(BuildError, match="is reserved for the server"):
        svc.api(input=Text(), output=Text(), route=route)(echo)


def test_reserved_route_from_the_function_name():
    svc = Service("svc")

    def metrics(text: str) -> str:
        return text

    with pytest.raises(BuildError, match="route /metrics is reserved"):
        svc.api(input=Text(), output=Text())(metrics)


def test_duplicates_are_rejected():
    svc = Service("svc")

    def predict(x):
        return x

    svc.api(input=Text(), output=Text())(predict)
    with pytest.raises(BuildError, match="already has an API named 'predict'"):
        svc.api(input=Text(), output=Text())(predict)
    with pytest.raises(BuildError, match="route /predict is already used by API 'predict'"):
        svc.api(input=Text(), output=Text(), name="other", route="/predict")(predict)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "not valid"}, "API name 'not valid' must be a valid Python identifier"),
        ({"route": "/a b"}, "invalid route '/a b'"),
        ({"route": "/a//b"}, "invalid route '/a//b'"),
        ({"input": Text}, r"input must be an IO descriptor .*did you mean Text\(\)\?"),
        ({"output": "json"}, "output must be an IO descriptor"),
    ],
)
def test_bad_api_arguments(kwargs, message):
    svc = Service("svc")
    args = {"input": Text(), "output": JSON(), **kwargs}
    with pytest.raises(BuildError, match=message):
        svc.api(**args)(echo)


def test_lambda_needs_a_name():
    with pytest.raises(BuildError, match="'<lambda>' must be a valid Python identifier"):
        Service("svc").api(input=Text(), output=Text())(lambda t: t)


def test_not_callable():
    with pytest.raises(BuildError, match="is not callable"):
        Service("svc").add_api("nope", input=Text(), output=Text(), name="nope")


@pytest.mark.parametrize("name", ["", "-bad", "has space", "a" * 64, "é"])
def test_bad_service_names(name):
    with pytest.raises(BuildError, match="invalid service name"):
        Service(name)


def test_runner_checks():
    with pytest.raises(BuildError, match="two runners are named 'clf'"):
        Service("svc", runners=[FakeRunner("clf"), FakeRunner("clf")])
    with pytest.raises(BuildError, match="runners must be bentotui runners"):
        Service("svc", runners=["clf"])


async def test_startup_and_shutdown_hooks():
    svc = Service("svc")
    calls: list[str] = []

    @svc.on_startup
    def open_db() -> None:
        calls.append("open_db")

    @svc.on_startup
    async def warm_up() -> None:
        calls.append("warm_up")

    @svc.on_shutdown
    async def flush() -> None:
        calls.append("flush")

    @svc.on_shutdown
    def close_db() -> None:
        calls.append("close_db")

    assert open_db is not None and svc.startup_hooks == [open_db, warm_up]
    await svc.startup()
    await svc.shutdown()
    assert calls == ["open_db", "warm_up", "close_db", "flush"]


async def test_numpy_api_end_to_end_without_a_server():
    """The server's per-request sequence: from_http -> call -> to_http."""
    svc = Service("svc")

    @svc.api(input=NumpyNdarray(dtype="float64", shape=(-1, 2), enforce_shape=True), output=NumpyNdarray())
    async def total(arr):
        return arr.sum(axis=1)

    api = svc.apis["total"]
    value = await api.input.from_http(bentotui.io.HTTPRequest(b"[[1, 2], [3, 4]]", "application/json"))
    assert api.output.to_http(await api.call(value)).body == b"[3.0,7.0]"


# --- bentoml.Context, hooks with a context, mounts and middleware -------------------------------

def test_second_parameter_receives_the_context():
    svc = Service("svc")

    @svc.api(input=Text(), output=JSON())
    def with_ctx(text, ctx):
        return {"text": text, "state": ctx.state["k"], "agent": ctx.request.headers["user-agent"]}

    @svc.api(input=Text(), output=JSON())
    def annotated(text: str, context: Context):  # a string under this module's future annotations
        return text

    @svc.api(input=Text(), output=JSON())
    def with_default(text, max_length=512):
        return max_length

    assert svc.apis["with_ctx"].context is svc.context and svc.apis["annotated"].context is svc.context
    assert svc.apis["with_default"].context is None and svc.apis["with_default"].func("x") == 512
    svc.context.state["k"] = 1
    request = Request("POST", "/with_ctx", raw_headers=(("User-Agent", "t/1"),))
    with svc.context.in_request(request):
        assert asyncio.run(svc.apis["with_ctx"].call("hi")) == {"text": "hi", "state": 1, "agent": "t/1"}


def test_context_parameter_mistakes_are_build_errors():
    svc = Service("svc")

    def typed(text: str, ctx: int) -> str:
        return text

    with pytest.raises(BuildError, match="second parameter 'ctx' receives the bentoml.Context, but is annotated"):
        svc.api(input=Text(), output=Text())(typed)

    def three(a, b, c):
        return a

    with pytest.raises(BuildError, match=r"takes \(a, b, c\): an API takes one input"):
        svc.api(input=Text(), output=Text())(three)


def test_request_and_response_exist_only_inside_a_request():
    ctx = Context()
    with pytest.raises(RuntimeError, match="only while an API answers a request"):
        ctx.request  # noqa: B018
    with pytest.raises(RuntimeError, match="only while an API answers a request"):
        ctx.response  # noqa: B018


async def test_hooks_receive_the_context_and_deployment_runs_once():
    svc = Service("svc")
    seen: list[object] = []

    @svc.on_startup
    async def start(ctx):
        ctx.state["db"] = "open"

    @svc.on_shutdown
    def stop(ctx: Context):
        seen.append(ctx.state["db"])

    @svc.on_deployment
    def deploy():
        seen.append("deployed")

    await svc.deploy()
    await svc.startup()
    await svc.shutdown()
    assert svc.context.state == {"db": "open"} and seen == ["deployed", "open"]


def test_hook_signature_mistakes():
    svc = Service("svc")
    with pytest.raises(BuildError, match="takes 2 parameters; it takes none or a context"):
        svc.on_startup(lambda a, b: None)
    with pytest.raises(BuildError, match="takes no parameters"):
        svc.on_deployment(lambda ctx: None)


async def _asgi(scope, receive, send):
    pass


def test_mounts_and_middleware_are_recorded():
    svc = Service("svc")
    svc.mount_asgi_app(_asgi, path="v1/")
    svc.mount_asgi_app(_asgi)  # BentoML's default path: the fallback for everything else
    svc.mount_wsgi_app(lambda environ, start_response: [], path="/legacy", name="flask")
    svc.add_asgi_middleware(type("M", (), {"__init__": lambda self, app, level: None}), level=2)
    assert [(path, name) for _, path, name in svc.mount_apps] == [("/v1", None), ("/", None), ("/legacy", "flask")]
    assert svc.middlewares[0][1] == {"level": 2}
    svc.api(input=Text(), output=Text(), route="/v1x")(echo)  # a sibling of /v1, not under it


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/healthz", "would cover /healthz"),
        ("/static/js", "would cover /static"),
        ("/a b", "invalid mount path"),
        (3, "mount path must be a string"),
        ("/echo", "would cover route /echo of API 'echo'"),
        ("/mounted", "already mounted at /mounted"),
    ],
)
def test_bad_mount_paths(path, message):
    svc = Service("svc")
    svc.api(input=Text(), output=Text())(echo)
    svc.mount_asgi_app(_asgi, path="/mounted")
    with pytest.raises(BuildError, match=message):
        svc.mount_asgi_app(_asgi, path=path)


def test_api_under_a_mount_and_bad_apps():
    svc = Service("svc")
    svc.mount_asgi_app(_asgi, path="/v1")
    with pytest.raises(BuildError, match="route /v1/echo is inside the app mounted at /v1"):
        svc.api(input=Text(), output=Text(), route="/v1/echo")(echo)
    with pytest.raises(BuildError, match="is not an ASGI application"):
        svc.mount_asgi_app("app", path="/x")
    with pytest.raises(BuildError, match="is not a WSGI application"):
        svc.mount_wsgi_app(None, path="/x")
    with pytest.raises(BuildError, match="is not a middleware class"):
        svc.add_asgi_middleware(42)
