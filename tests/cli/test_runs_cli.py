"""``bentotui runs list|stop|logs`` against a real detached server."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil
import pytest

from bentotui import runs
from tests.server.conftest import write_service


def bentotui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bentotui", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def running(tmp_path):
    write_service(tmp_path / "svc")
    info = runs.start_run("service:svc", working_dir=tmp_path / "svc")
    runs.wait_ready(info, timeout=30)
    yield info
    if runs.is_alive(info):
        runs.stop_run(info.id, timeout=15)


def test_list_stop_logs(running):
    import httpx

    httpx.post(
        running.url + "/echo", content=b"hi", headers={"content-type": "text/plain", "x-request-id": "cli-1"}
    )

    table = bentotui("runs", "list")
    assert table.returncode == 0 and running.id in table.stdout and running.url in table.stdout
    listed = json.loads(bentotui("runs", "list", "--output", "json").stdout)
    assert [r["id"] for r in listed] == [running.id] and listed[0]["port"] == running.port

    time.sleep(0.4)
    logs = bentotui("runs", "logs", running.id[:-2], "-n", "5")
    assert logs.returncode == 0 and "POST /echo 200" in logs.stdout and "cli-1" in logs.stdout

    # the server is this test process's child, as a server started by the TUI is the TUI's: once
    # it exits it is a zombie until we reap it, and `runs stop` must not take that for alive
    # (it waited the whole --timeout, then sent SIGKILL); the bound here is far below --timeout
    stopped = bentotui("runs", "stop", running.id, "--timeout", "120", timeout=60)
    assert stopped.returncode == 0 and f"stopped {running.id}" in stopped.stdout
    assert not runs.is_alive(running)
    assert "no running servers" in bentotui("runs", "list").stdout
    runs.list_runs()  # reading the registry reaps the servers this process started
    assert not psutil.pid_exists(running.pid)


def test_logs_follow_ends_when_server_stops(running):
    follower = subprocess.Popen(
        [sys.executable, "-m", "bentotui", "runs", "logs", running.id, "-f", "-n", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        import httpx

        httpx.post(
            running.url + "/echo",
            content=b"x",
            headers={"content-type": "text/plain", "x-request-id": "follow-1"},
        )
        time.sleep(0.6)
        runs.stop_run(running.id, timeout=15)
        out, _ = follower.communicate(timeout=15)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert follower.returncode == 0
    assert "follow-1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "stop", "nope"), "no running server"),
        (("runs", "logs", "nope"), "no server run"),
        (("runs", "list", "--output", "xml"), "--output must be table or json"),
    ],
)
def test_errors(args, message):
    result = bentotui(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_logs_of_a_stopped_run(running):
    runs.stop_run(running.id, timeout=15)
    result = bentotui("runs", "logs", running.id)
    assert result.returncode == 0 and "stopped" in result.stdout
