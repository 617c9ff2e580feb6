"""``bentotui serve`` startup errors: one red line, exit code 2, no traceback, nothing registered."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from bentotui import runs


def bentotui(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bentotui", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def assert_one_error_line(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and text in errors[0], result.stderr


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("raise RuntimeError('broken at import')\n", "service:svc", "broken at import"),
        ("x = 1\n", "service:svc", "has no attribute 'svc'"),
        ("x = 1\n", "service:x", "not a bentotui Service"),
        ("x = 1\n", "nomodule:svc", "cannot find 'nomodule:svc'"),
        (
            "import bentotui\nsvc = bentotui.Service(name='Bad Name!')\n",
            "service:svc",
            "invalid service name",
        ),
    ],
)
def test_target_errors(tmp_path, source, target, message):
    (tmp_path / "service.py").write_text(source)
    assert_one_error_line(bentotui("serve", target, "--port", "0", cwd=tmp_path), message)
    assert runs.list_runs() == []


def test_a_bad_worker_start_mode(tmp_path, monkeypatch):
    from tests.server.conftest import write_service

    write_service(tmp_path)
    monkeypatch.setenv("BENTOTUI_WORKER_START", "vfork")
    assert_one_error_line(
        bentotui("serve", "service:svc", "--port", "0", cwd=tmp_path),
        "BENTOTUI_WORKER_START must be one of auto, forkserver, spawn, got 'vfork'",
    )
    assert runs.list_runs() == []


def test_unknown_model(tmp_path):
    assert_one_error_line(
        bentotui("serve", "--model", "nosuchmodel:latest", "--port", "0", cwd=tmp_path), "nosuchmodel"
    )


def test_port_in_use(tmp_path):
    from tests.server.conftest import write_service

    write_service(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = bentotui("serve", "service:svc", "--port", str(port), cwd=tmp_path)
    assert_one_error_line(result, f"port {port} on 127.0.0.1 is already in use")
    assert runs.list_runs() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--port", "0"), "give a TARGET"),
        (("serve", "a:b", "--model", "m", "--port", "0"), "not both"),
        (("serve", "a:b", "--log-format", "xml"), "--log-format must be text or json"),
        (("serve", "a:b", "--working-dir", "/nonexistent/dir"), "is not a folder"),
    ],
)
def test_bad_options(tmp_path, args, message):
    assert_one_error_line(bentotui(*args, cwd=tmp_path), message)


def test_serve_help_lists_options(tmp_path):
    result = bentotui("serve", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in (
        "--port",
        "--host",
        "--runner-workers",
        "--timeout",
        "--max-concurrency",
        "--reload",
        "--log-format",
        "--model",
        "--max-body",
        "--working-dir",
    ):
        assert option in result.stdout


def test_reload_restarts_on_change_and_stops_as_one(tmp_path):
    """--reload: an edit to the service file is served after a restart; `runs stop` ends it all."""
    import time

    import httpx

    service = tmp_path / "service.py"
    source = (
        "import bentotui as bentoml\n"
        "svc = bentoml.Service(name='reloading')\n"
        "@svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())\n"
        "def version(text):\n"
        "    return {'version': 1}\n"
    )
    service.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bentotui", "serve", "service:svc", "--port", "0", "--reload"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answer() -> int | None:
        found = runs.list_runs()
        if not found:
            return None
        try:
            return httpx.post(found[0].url + "/version", content=b"x", timeout=2).json()["version"]
        except (httpx.HTTPError, ValueError, KeyError):
            return None

    def wait_for(value: int) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if answer() == value:
                return True
            time.sleep(0.1)
        return False

    try:
        assert wait_for(1)
        assert runs.list_runs()[0].pid == proc.pid  # the supervisor
        service.write_text(source.replace("'version': 1", "'version': 2"))
        assert wait_for(2)
        runs.stop_run(runs.list_runs()[0].id, timeout=15)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert runs.list_runs() == []


def test_bentoml_readme_spellings_are_accepted(tmp_path):
    """``bentoml serve-http`` and ``--production`` (BentoML 1.0/1.1 READMEs) mean ``serve`` here."""
    from tests.helpers.server import serve
    from tests.server.conftest import write_service

    write_service(tmp_path)
    alias = bentotui("serve-http", "--help", cwd=tmp_path)
    assert alias.returncode == 0 and "--working-dir" in alias.stdout
    with serve("service:svc", cwd=tmp_path, args=("--production",)) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
