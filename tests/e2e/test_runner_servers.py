"""The split deployment as separate processes on loopback: two ``start-runner-server`` processes
and one ``start-http-server --remote-runner`` API server, linked with a token, over real TCP.

The runner's method answers with its worker's parent pid, which is the runner server's, so each
response says which runner server computed it.  Killing one with SIGKILL must move every call to
the other; restarting it on its port must bring it back into use.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bentotui._process import self_command
from tests.helpers.server import serve

TOKEN = "e2e-runner-token-0123456789"

SERVICE = textwrap.dedent("""
    import os

    import bentotui as bentoml


    class WhereRunnable(bentoml.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True

        @bentoml.Runnable.method(batchable=True)
        def where(self, rows):
            return [[row, os.getppid()] for row in rows]


    where = bentoml.Runner(WhereRunnable, name="where", max_batch_size=16, max_latency_ms=5000)
    svc = bentoml.Service(name="split", runners=[where])


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def locate(body):
        row, server_pid = (await where.where.async_run([body["row"]]))[0]
        return {"row": row, "runner_server": server_pid}
""")


@dataclass
class RunnerServerProcess:
    proc: subprocess.Popen
    address: str
    log: Path

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextlib.contextmanager
def runner_server(cwd: Path, port: int = 0, env: dict[str, str] | None = None) -> Iterator[RunnerServerProcess]:
    """A ``start-runner-server`` process; entered once it logs the address it listens on."""
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [*self_command(), "start-runner-server", "service:svc", "--runner-name", "where",
             "--bind", f"tcp://127.0.0.1:{port}", "--working-dir", str(cwd)],
            cwd=cwd, env={**os.environ, "BENTOTUI_RUNNER_TOKEN": TOKEN, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while not (match := re.search(r"listening on (tcp://\S+)", log.read_text())):
            assert proc.poll() is None, f"runner server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"runner server not listening: {log.read_text()}"
            time.sleep(0.05)
        yield RunnerServerProcess(proc, match.group(1), log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.unlink(missing_ok=True)


def locate(client: httpx.Client, url: str, row: int) -> tuple[int, int | None]:
    response = client.post(url + "/locate", json={"row": row}, timeout=10)
    if response.status_code != 200:
        return response.status_code, None
    body = response.json()
    assert body["row"] == row
    return 200, body["runner_server"]


def until(condition, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def split_service(tmp_path) -> Path:
    (tmp_path / "service.py").write_text(SERVICE)
    return tmp_path


def test_calls_spread_over_two_runner_servers_and_move_when_one_is_killed(split_service):
    env = {"BENTOTUI_RUNNER_TOKEN": TOKEN}
    with runner_server(split_service) as a, runner_server(split_service) as b:
        remote = f"where={a.address},{b.address}"
        with serve("service:svc", cwd=split_service, env=env, args=["--remote-runner", remote],
                   command="start-http-server") as api, httpx.Client() as client:
            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(lambda row: locate(client, api.url, row), range(400)))
            assert {status for status, _ in answers} == {200}
            assert {server for _, server in answers} == {a.proc.pid, b.proc.pid}  # both did work

            a.kill()
            # calls in flight on the dead one may fail (503, never retried); then all go to b
            until(lambda: all(locate(client, api.url, row) == (200, b.proc.pid) for row in range(20)))
            assert httpx.get(api.url + "/readyz").status_code == 200  # one runner server is enough

            port = int(a.address.rpartition(":")[2])
            with runner_server(split_service, port=port) as a_again:
                def a_is_back() -> bool:
                    return any(locate(client, api.url, row)[1] == a_again.proc.pid for row in range(40))

                until(a_is_back)
                b.kill()
                until(lambda: locate(client, api.url, 0) == (200, a_again.proc.pid))
                a_again.kill()
                until(lambda: httpx.get(api.url + "/readyz").status_code == 503)
                began = time.monotonic()
                assert locate(client, api.url, 1)[0] == 503  # refused at once, not held
                assert time.monotonic() - began < 2.0
            assert "lost runner server" in api.log_text()


def test_an_api_server_with_the_wrong_token_gets_no_service(split_service):
    with runner_server(split_service) as a:
        env = {"BENTOTUI_RUNNER_TOKEN": "some-other-token-0123456789"}
        with serve("service:svc", cwd=split_service, env=env, args=["--remote-runner", f"where={a.address}"],
                   command="start-http-server", wait_ready=False) as api, httpx.Client() as client:
            until(lambda: "wrong runner token" in a.log.read_text())
            assert httpx.get(api.url + "/readyz").status_code == 503
            assert locate(client, api.url, 1)[0] == 503


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BENTOTUI_RUNNER_TOKEN"}
    return subprocess.run([*self_command(), *args], cwd=cwd, env={**environment, **(env or {})},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["start-runner-server", "service:svc", "--runner-name", "where", "--bind", "tcp://0.0.0.0:0"],
         "not a loopback address"),
        (["start-runner-server", "service:svc", "--runner-name", "nope"], "has no runner 'nope'"),
        (["start-runner-server", "service:svc", "--runner-name", "where", "--bind", "unix:/tmp/x"],
         "is not a tcp://HOST:PORT address"),
        (["start-http-server", "service:svc", "--remote-runner", "where"], "--remote-runner takes NAME="),
        (["start-http-server", "service:svc", "--remote-runner", "nope=tcp://127.0.0.1:9"], "names no runner"),
        (["start-http-server", "service:svc", "--runner-map", '{"where": "tcp://10.9.8.7:3000"}'],
         "not a loopback address"),
    ],
)
def test_bad_runner_link_settings_are_one_line_and_exit_2(split_service, args, message):
    result = _cli(*args, "--port", "0", cwd=split_service) if args[0] == "start-http-server" else _cli(
        *args, cwd=split_service
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
