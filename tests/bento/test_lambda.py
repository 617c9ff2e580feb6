"""``bentotui deploy lambda``: the build context, and its handler serving real 2.0 events.

The handler is checked the way Lambda runs it: a fresh venv made only from what the context
lists (its pinned requirements and the bentotui wheel, as the Dockerfile installs them), the
context folder as ``/var/task`` (on ``sys.path``, the working folder), ``lambda_function.handler``
imported once (the cold start) and called with API Gateway HTTP API and function URL events.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bentotui.bento.lambda_context import HANDLER, LAMBDA_STEPS, lambda_python, write_lambda_context
from bentotui.bento.lambda_handler import EventError, decode_body, parse_event
from bentotui.exceptions import BuildError, Conflict
from tests.bento.conftest import IRIS_ROWS, write_project
from tests.bento.test_containerize import dockerfile_instructions

SERVICE = textwrap.dedent(
    '''
    import os

    import bentotui
    from bentotui import Context
    from bentotui.io import JSON, File, NumpyNdarray, Text

    runner = bentotui.models.get("iris:latest").to_runner()
    svc = bentotui.Service(name="iris_lambda", runners=[runner])


    @svc.api(input=NumpyNdarray(), output=JSON())
    async def classify(features):
        return (await runner.predict.async_run(features)).tolist()


    @svc.api(input=Text(), output=Text())
    async def shout(text):
        return text.upper()


    @svc.api(input=File(), output=File(mime_type="application/octet-stream"))
    def reverse(upload):
        return upload.read()[::-1]


    @svc.api(input=JSON(), output=JSON())
    def login(body, ctx: Context):
        ctx.response.set_cookie("session", body["name"], httponly=True)
        ctx.response.set_cookie("theme", "dark")
        return {"visit": ctx.request.cookies.get("visit"), "path": ctx.request.url.path}


    @svc.on_shutdown
    def goodbye():
        with open(os.environ["SHUTDOWN_FILE"], "w") as fh:
            fh.write("shut down")
    '''
)

API_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
URL_DOMAIN = "xyz789.lambda-url.eu-west-1.on.aws"

DRIVER = textwrap.dedent(
    '''
    """Run in the context folder by the context's own venv: one cold start, then every event."""
    import json, sys, time

    started = time.perf_counter()
    import lambda_function

    cold_start_s = time.perf_counter() - started
    handler = lambda_function.handler
    answers, apps, loops = {}, set(), set()
    for name, event in json.load(sys.stdin):
        answers[name] = handler(event, None)
        apps.add(id(handler.app))
        loops.add(id(handler.loop))
    json.dump({"answers": answers, "cold_start_s": cold_start_s, "invocations": handler.invocations,
               "apps": len(apps), "loops": len(loops), "lambda_function": lambda_function.__file__}, sys.stdout)
    '''
)


def http_event(
    method: str,
    path: str,
    body: str | None = None,
    *,
    content_type: str = "application/json",
    base64_body: bool = False,
    domain: str = API_DOMAIN,
    stage: str = "$default",
    query: str = "",
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """A payload-format-2.0 event as API Gateway (HTTP API) or a function URL sends it."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-type": content_type,
            "host": domain,
            "user-agent": "curl/8.5.0",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "curl/8.5.0"},
            "requestId": f"req-{method.lower()}-{path.strip('/').replace('/', '-') or 'root'}",
            "routeKey": "$default",
            "stage": stage,
            "time": "03/Dec/2025:06:00:00 +0000",
            "timeEpoch": 1764741600000,
        },
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = body
    if cookies:
        event["cookies"] = cookies
    return event


def function_url_event(method: str, path: str, body: str, cookies: list[str]) -> dict[str, Any]:
    """A function URL's event: the same 2.0 shape, with the URL's own domain and an IAM authorizer slot."""
    event = http_event(method, path, body, domain=URL_DOMAIN, cookies=cookies)
    event["requestContext"].update(accountId="anonymous", authorizer={"iam": None})
    return event


EVENTS: dict[str, dict[str, Any]] = {
    "json_api": http_event("POST", "/classify", json.dumps(IRIS_ROWS)),
    "text_api": http_event("POST", "/shout", "hello lambda", content_type="text/plain"),
    "bad_input": http_event("POST", "/classify", "this is not json"),
    "unknown_path": http_event("GET", "/nosuch"),
    "base64_request": http_event(
        "POST", "/classify", base64.b64encode(json.dumps(IRIS_ROWS[1:]).encode()).decode(), base64_body=True
    ),
    "binary_response": http_event(
        "POST", "/reverse", base64.b64encode(b"\x00\x01\xfe\xff").decode(),
        content_type="application/octet-stream", base64_body=True,
    ),
    "function_url": function_url_event("POST", "/login", json.dumps({"name": "ada"}), ["visit=42", "other=x"]),
    "named_stage": http_event("POST", "/prod/shout", "staged", content_type="text/plain", stage="prod"),
    "readyz": http_event("GET", "/readyz"),
    "bad_base64": http_event("POST", "/classify", "%%%not base64%%%", base64_body=True),
    "rest_api_v1": {"httpMethod": "GET", "path": "/readyz", "requestContext": {"requestId": "v1-id"}},
}


def tree(folder: Path) -> set[str]:
    """Every path under ``folder`` but the store's dot-files (locks, its listing cache)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def lambda_context(tmp_path_factory: pytest.TempPathFactory, iris_lr) -> Iterator[Path]:
    """A bento of :data:`SERVICE` (the iris model trained in the test) and its Lambda context."""
    import bentotui
    from bentotui.bento.build import build_from_bentofile

    root = tmp_path_factory.mktemp("lambda")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENTOTUI_HOME", str(root / "build-home"))
        bentotui.sklearn.save_model("iris", iris_lr)
        project = write_project(root / "project")
        (project / "service.py").write_text(SERVICE)
        bento = build_from_bentofile(project / "bentofile.yaml")
        steps: list[str] = []
        result = write_lambda_context(bento.tag, root / "ctx", on_step=steps.append)
    assert len(steps) == LAMBDA_STEPS
    assert result.image == f"iris_lambda:{bento.tag.version}-lambda"
    assert result.build_command[-1] == str(root / "ctx")
    assert any("libgomp1" in note for note in result.notes)  # a Debian package, not installed
    yield result.context


@pytest.fixture(scope="module")
def served(lambda_context: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every event of :data:`EVENTS` answered by the context's handler in a venv of its own."""
    ctx = lambda_context
    work = tmp_path_factory.mktemp("lambda-venv")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(ctx / "requirements.txt")], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", *map(str, (ctx / "wheels").glob("*.whl"))], check=True, timeout=120)
    before = tree(ctx)
    (work / "driver.py").write_text(DRIVER)
    # what Lambda gives the function: /var/task on sys.path and as the working folder, no HOME store
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(work), "PYTHONPATH": str(ctx),
           "LAMBDA_TASK_ROOT": str(ctx), "PYTHONDONTWRITEBYTECODE": "1", "SHUTDOWN_FILE": str(work / "shutdown")}
    proc = subprocess.run(
        [str(venv / "bin" / "python"), str(work / "driver.py")], cwd=ctx, env=env, input=json.dumps(list(EVENTS.items())),
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    result["shutdown"] = (work / "shutdown").read_text() if (work / "shutdown").exists() else None
    result["stderr"] = proc.stderr
    result["written"] = tree(ctx) - before
    result["home_store"] = (work / "bentotui").exists()
    result["venv"] = venv
    return result


def answer(served: dict[str, Any], name: str) -> dict[str, Any]:
    return served["answers"][name]


# -- the context -----------------------------------------------------------------------------------


def test_context_layout_and_dockerfile(lambda_context: Path) -> None:
    ctx = lambda_context
    assert sorted(p.name for p in ctx.iterdir()) == [
        "Dockerfile", "bento", "home", "lambda_function.py", "requirements.txt", "wheels",
    ]
    assert not (ctx / "bento" / "models").exists()  # moved into the store, held once in the image
    [model_yaml] = (ctx / "home" / "models" / "iris").glob("*/model.yaml")
    assert (ctx / "home" / "models" / ".trust" / "iris" / f"{model_yaml.parent.name}.json").is_file()
    assert not [p for p in ctx.parent.iterdir() if ".tmp-" in p.name]

    docker = dockerfile_instructions((ctx / "Dockerfile").read_text())
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert docker["FROM"] == [f"public.ecr.aws/lambda/python:{python}"]
    assert json.loads(docker["CMD"][0]) == [HANDLER] == ["lambda_function.handler"]
    assert any(run.startswith("pip install -r") for run in docker["RUN"])
    assert any("--no-deps /tmp/bentotui/wheels/*.whl" in run for run in docker["RUN"])
    assert not any("apt-get" in run or "dnf" in run for run in docker["RUN"])
    assert any("BENTOTUI_HOME=/var/task/home" in env for env in docker["ENV"])
    assert 'OMP_NUM_THREADS="1"' in docker["ENV"][-1]  # the bentofile's docker.env
    for copy in docker["COPY"]:  # every COPY source is in the context
        source = copy.split()[0]
        assert (ctx / source).exists(), source
    compile((ctx / "lambda_function.py").read_text(), "lambda_function.py", "exec")


def test_lambda_python_versions() -> None:
    assert lambda_python("3.12.4") == "3.12"
    with pytest.raises(BuildError, match="AWS Lambda has base images"):
        lambda_python("3.9.18")
    with pytest.raises(BuildError, match="unknown"):
        lambda_python("")


def test_output_must_be_new_or_empty(tmp_path: Path, iris_bento) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not an empty folder"):
        write_lambda_context(iris_bento.tag, tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


# -- the handler in its own venv -------------------------------------------------------------------


@pytest.mark.slow
def test_json_api(served: dict[str, Any]) -> None:
    got = answer(served, "json_api")
    assert got["statusCode"] == 200, got
    assert json.loads(got["body"]) == [0, 2]
    assert got["isBase64Encoded"] is False
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["x-request-id"] == "req-post-classify"  # AWS's request id, in the server's logs too


@pytest.mark.slow
def test_text_api(served: dict[str, Any]) -> None:
    got = answer(served, "text_api")
    assert (got["statusCode"], got["body"], got["isBase64Encoded"]) == (200, "HELLO LAMBDA", False)
    assert got["headers"]["content-type"].startswith("text/plain")


@pytest.mark.slow
def test_bad_input_is_400_with_json_error(served: dict[str, Any]) -> None:
    got = answer(served, "bad_input")
    assert got["statusCode"] == 400
    body = json.loads(got["body"])
    assert "not valid JSON" in body["error"] and body["request_id"] == "req-post-classify"
    assert "Traceback" not in got["body"]


@pytest.mark.slow
def test_unknown_path_is_404(served: dict[str, Any]) -> None:
    got = answer(served, "unknown_path")
    assert got["statusCode"] == 404
    body = json.loads(got["body"])
    assert "no route /nosuch" in body["detail"] and "POST /classify" in body["detail"]


@pytest.mark.slow
def test_base64_request_body(served: dict[str, Any]) -> None:
    got = answer(served, "base64_request")
    assert got["statusCode"] == 200, got
    assert json.loads(got["body"]) == [2]


@pytest.mark.slow
def test_binary_response_is_base64(served: dict[str, Any]) -> None:
    got = answer(served, "binary_response")
    assert got["statusCode"] == 200, got
    assert got["isBase64Encoded"] is True
    assert base64.b64decode(got["body"]) == b"\xff\xfe\x01\x00"


@pytest.mark.slow
def test_function_url_event_with_cookies(served: dict[str, Any]) -> None:
    got = answer(served, "function_url")
    assert got["statusCode"] == 200, got
    assert json.loads(got["body"]) == {"visit": "42", "path": "/login"}
    assert "set-cookie" not in got["headers"]
    assert [c.split(";")[0] for c in got["cookies"]] == ["session=ada", "theme=dark"]
    assert "httponly" in got["cookies"][0].lower()


@pytest.mark.slow
def test_named_stage_prefix_is_not_part_of_the_route(served: dict[str, Any]) -> None:
    got = answer(served, "named_stage")
    assert (got["statusCode"], got["body"]) == (200, "STAGED")


@pytest.mark.slow
def test_events_it_cannot_serve_are_400(served: dict[str, Any]) -> None:
    bad = answer(served, "bad_base64")
    assert bad["statusCode"] == 400 and "not base64" in json.loads(bad["body"])["detail"]
    v1 = answer(served, "rest_api_v1")
    assert v1["statusCode"] == 400
    assert json.loads(v1["body"]) == {
        "error": "unsupported event",
        "detail": "bentotui's Lambda handler serves API Gateway HTTP API and function URL events of payload format 2.0",
        "request_id": "v1-id",
    }


@pytest.mark.slow
def test_one_cold_start_serves_every_invocation(served: dict[str, Any], lambda_context: Path) -> None:
    assert answer(served, "readyz")["body"] == "ready"
    assert served["invocations"] == len(EVENTS)
    assert (served["apps"], served["loops"]) == (1, 1)  # the ASGI app and event loop are the cold start's
    assert Path(served["lambda_function"]).parent == lambda_context
    # the image's /var/task is read-only: serving wrote nothing there and used no other store
    assert served["written"] == set()
    assert served["home_store"] is False
    assert "Traceback" not in served["stderr"], served["stderr"]
    # at exit: the app's lifespan shutdown and the service's shutdown hooks, no task left pending
    assert served["shutdown"] == "shut down"
    assert "Task was destroyed" not in served["stderr"], served["stderr"]


# -- pieces that need no venv ----------------------------------------------------------------------


def test_body_is_bounded_before_decoding() -> None:
    assert decode_body("abc", False, 3) == b"abc"
    assert decode_body(base64.b64encode(b"abcdef").decode(), True, 6) == b"abcdef"
    for body, is_base64 in (("abcd", False), (base64.b64encode(b"abcdefg").decode(), True), ("é" * 2, False)):
        with pytest.raises(EventError) as caught:
            decode_body(body, is_base64, 3)
        assert caught.value.http_status == 413


def test_parse_event_builds_the_asgi_scope() -> None:
    event = http_event("GET", "/prod/a%20b", stage="prod", query="x=1&y=2", cookies=["a=1", "b=2"])
    request = parse_event(event, max_body=10)
    scope = request.scope
    assert (scope["method"], scope["path"], scope["raw_path"]) == ("GET", "/a b", b"/a%20b")
    assert scope["query_string"] == b"x=1&y=2" and scope["scheme"] == "https"
    headers = dict(scope["headers"])
    assert headers[b"cookie"] == b"a=1; b=2"
    assert headers[b"host"] == API_DOMAIN.encode() and headers[b"content-length"] == b"0"
    assert scope["client"] == ("203.0.113.7", 0)


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_errors(tmp_path: Path, iris_bento) -> None:
    from tests.cli.test_bentos_cli import assert_user_error, bentotui

    assert_user_error(
        bentotui("deploy", "lambda", "nosuch:latest", "--output", str(tmp_path / "ctx")), "bento 'nosuch' not found"
    )
    assert not (tmp_path / "ctx").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert_user_error(
        bentotui("deploy", "lambda", str(iris_bento.tag), "--output", str(tmp_path / "full")), "not an empty folder"
    )
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_cli_writes_the_context(tmp_path: Path, iris_bento) -> None:
    from tests.cli.test_bentos_cli import bentotui

    result = bentotui("deploy", "lambda", iris_bento.tag.name, "-o", str(tmp_path / "ctx"))
    assert result.returncode == 0, result.stderr
    assert f"Lambda build context: {tmp_path / 'ctx'}" in result.stdout
    assert f"docker build --platform linux/amd64 -t {iris_bento.tag}-lambda {tmp_path / 'ctx'}" in result.stdout
    assert "libgomp1" in result.stderr  # the note on Debian system packages
    assert (tmp_path / "ctx" / "lambda_function.py").is_file()
    assert os.access(tmp_path / "ctx" / "Dockerfile", os.R_OK)
