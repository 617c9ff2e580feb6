"""``bentoml.depends(url=...)`` and ``start-http-server --depends NAME=URL``: a 1.2 service whose
dependency runs in another ``bentotui serve`` process, called over real HTTP.  Each answer carries
the pid of the process that computed it, so "remote" is checked, not assumed."""

from __future__ import annotations

import os
import subprocess
import textwrap

import httpx
import psutil
import pytest

from bentotui._process import self_command
from bentotui.exceptions import BuildError, InvalidArgument
from tests.helpers.server import serve

ECHO = textwrap.dedent("""
    import os

    import bentotui as bentoml


    @bentoml.service(name="echo", traffic={"timeout": 10})
    class Echo:
        @bentoml.api
        def shout(self, text: str) -> dict:
            return {"text": text.upper(), "pid": os.getpid()}

        @bentoml.api
        async def whisper(self, text: str) -> str:
            return text.lower()
""")

FRONT = textwrap.dedent("""
    import os

    import bentotui as bentoml
    from echo_service import Echo


    @bentoml.service
    class Front:
        echo = bentoml.depends(Echo)  # in process, unless --depends echo=URL
        untyped = bentoml.depends(url=os.environ["ECHO_URL"])

        @bentoml.api
        def relay(self, text: str) -> dict:
            return {"loud": self.echo.shout(text=text), "untyped": self.untyped.to_sync.shout(text=text),
                    "pid": os.getpid()}

        @bentoml.api
        async def relay_async(self, text: str) -> dict:
            quiet = await self.echo.whisper(text=text)
            loud = await self.untyped.to_async.shout(text=text)
            return {"quiet": quiet, "loud": loud}

        @bentoml.api
        def untyped_call(self, text: str) -> dict:
            return self.untyped.shout(text=text)
""")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "echo_service.py").write_text(ECHO)
    (tmp_path / "front_service.py").write_text(FRONT)
    return tmp_path


def test_dependencies_at_a_url_and_by_depends_flag_are_called_over_http(project):
    with serve("echo_service:Echo", cwd=project) as echo:
        env = {"ECHO_URL": echo.url}
        args = ["--depends", f"echo={echo.url}"]
        with serve("front_service:Front", cwd=project, env=env, args=args, command="start-http-server") as front:
            body = httpx.post(front.url + "/relay", json={"text": "Hi"}, timeout=30).json()
            assert body["loud"]["text"] == body["untyped"]["text"] == "HI"
            assert body["loud"]["pid"] == body["untyped"]["pid"] != body["pid"]  # computed in the other server
            echo_server = psutil.Process(echo.pid)
            assert body["loud"]["pid"] in {p.pid for p in [echo_server, *echo_server.children(recursive=True)]}
            answer = httpx.post(front.url + "/relay_async", json={"text": "Hi"}, timeout=30).json()
            assert answer == {"quiet": "hi", "loud": {"text": "HI", "pid": body["loud"]["pid"]}}
            # without the class, BentoML's proxy is not callable as the service: .to_sync / .to_async
            refused = httpx.post(front.url + "/untyped_call", json={"text": "Hi"}, timeout=30)
            assert refused.status_code == 500
            assert "no service class" in front.log_text()


def test_without_depends_the_dependency_runs_in_process(project):
    with serve("echo_service:Echo", cwd=project) as echo, serve(
        "front_service:Front", cwd=project, env={"ECHO_URL": echo.url}
    ) as front:
        body = httpx.post(front.url + "/relay", json={"text": "Hi"}, timeout=30).json()
        assert body["loud"]["pid"] == body["pid"]  # the same worker
        assert body["untyped"]["pid"] != body["pid"]  # url= is always remote


def test_bad_dependencies_are_refused_when_declared():
    import bentotui as bentoml

    with pytest.raises(BuildError, match="needs a @bentotui.service class or url="):
        bentoml.depends()
    with pytest.raises(BuildError, match="BentoCloud"):
        bentoml.depends(deployment="ci-iris")
    with pytest.raises(InvalidArgument, match="is not an http:// or https:// URL"):
        bentoml.depends(url="ftp://example.com")


@pytest.mark.parametrize("flag", ["echo", "echo=ftp://x", "=http://x"])
def test_a_bad_depends_flag_is_one_line_and_exit_2(project, flag):
    result = subprocess.run(
        [*self_command(), "start-http-server", "front_service:Front", "--port", "0", "--depends", flag],
        cwd=project, env={**os.environ, "ECHO_URL": "http://127.0.0.1:9"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--depends" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
