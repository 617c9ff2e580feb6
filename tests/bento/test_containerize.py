"""``containerize``: the build context, engine detection, and a check that the context is self-contained."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from bentotui.bento.containerize import containerize, find_engine, write_context
from bentotui.exceptions import Conflict
from tests.bento.conftest import IRIS_ROWS

STATIC = Path(__file__).resolve().parents[2] / "bentotui" / "server" / "static"


def dockerfile_instructions(text: str) -> dict[str, list[str]]:
    """``{INSTRUCTION: [arguments, ...]}`` of a Dockerfile (continuation lines joined)."""
    found: dict[str, list[str]] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def test_context_contents(tmp_path: Path, iris_bento) -> None:
    from bentotui.bento.containerize import CONTEXT_STEPS

    steps: list[str] = []
    result = write_context(iris_bento.tag, tmp_path / "ctx", on_step=steps.append)
    assert len(steps) == CONTEXT_STEPS
    ctx = result.context
    assert sorted(p.name for p in ctx.iterdir()) == ["Dockerfile", "bento", "requirements.txt", "wheels"]
    assert (ctx / "bento" / "bento.yaml").read_text() == (iris_bento.path / "bento.yaml").read_text()
    assert (ctx / "requirements.txt").read_text() == (iris_bento.path / "env/python/requirements.txt").read_text()
    [wheel] = (ctx / "wheels").glob("bentotui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bentotui/bento/containerize.py" in names
    # the image serves the Swagger UI from local files (no CDN): they are package data of the wheel
    static = {f"bentotui/server/static/{f.name}" for f in STATIC.iterdir() if f.is_file()}
    assert "bentotui/server/static/index.html" in static and static <= set(names)
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)

    docker = dockerfile_instructions((ctx / "Dockerfile").read_text())
    assert docker["FROM"] == [f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"]
    assert docker["USER"] == ["1000:1000"]
    assert any("useradd" in run for run in docker["RUN"])
    assert any(run.startswith("pip install -r") for run in docker["RUN"])
    assert any("--no-deps /tmp/bentotui/wheels/*.whl" in run for run in docker["RUN"])
    assert docker["EXPOSE"] == ["3000"]
    assert "/healthz" in docker["HEALTHCHECK"][0]
    assert json.loads(docker["ENTRYPOINT"][0]) == ["bentotui", "serve", ".", "--host", "0.0.0.0", "--port", "3000"]
    assert any("BENTOTUI_HOME=" in env for env in docker["ENV"])
    # every COPY source is in the context: it needs nothing from this repository
    for copy in docker["COPY"]:
        source = [a for a in copy.split() if not a.startswith("--")][0]
        assert (ctx / source).exists(), source


def test_output_must_be_new_or_empty(tmp_path: Path, iris_bento) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not an empty folder"):
        write_context(iris_bento.tag, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert write_context(iris_bento.tag, tmp_path / "empty").context == (tmp_path / "empty").resolve()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def fake_engine(folder: Path, name: str, *, works: bool) -> Path:
    """A stand-in engine on PATH: ``info`` fails (no daemon) or succeeds and ``build`` is logged."""
    folder.mkdir(exist_ok=True)
    log = folder / f"{name}.log"
    script = folder / name
    info_exit = 0 if works else 1
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {shlex.quote(str(log))}\n'
        f'if [ "$1" = info ]; then [ {info_exit} = 0 ] || echo "Cannot connect to the daemon" >&2; exit {info_exit}; fi\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return log


def test_engine_without_daemon_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iris_bento) -> None:
    fake_engine(tmp_path / "bin", "docker", works=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    engine, problems = find_engine()
    assert engine is None and "docker does not work here: Cannot connect to the daemon" in problems[0]
    result = containerize(iris_bento.tag, tmp_path / "ctx")
    assert not result.built
    assert result.build_command == ["docker", "build", "-t", f"iris_classifier:{iris_bento.tag.version}", str(result.context)]


def test_working_engine_builds_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iris_bento) -> None:
    fake_engine(tmp_path / "bin", "docker", works=False)
    log = fake_engine(tmp_path / "bin", "podman", works=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    result = containerize(iris_bento.tag, tmp_path / "ctx")
    assert result.built and result.engine == "podman"
    assert log.read_text().splitlines()[-1] == f"build -t {result.image} {result.context}"


def test_cli_prints_the_build_command(tmp_path: Path, iris_bento) -> None:
    from tests.cli.test_bentos_cli import bentotui

    result = bentotui("containerize", str(iris_bento.tag), "--output", str(tmp_path / "ctx"), "--no-build")
    assert result.returncode == 0, result.stderr
    assert f"docker build -t {iris_bento.tag} {tmp_path / 'ctx'}" in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_context_is_self_contained(tmp_path: Path, iris_bento) -> None:
    """A fresh venv made only from what the context lists serves the bento with its entrypoint."""
    ctx = write_context(iris_bento.tag, tmp_path / "ctx").context
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(ctx / "requirements.txt")], check=True, timeout=600)
    wheels = [str(w) for w in (ctx / "wheels").glob("*.whl")]
    subprocess.run([*pip, "--no-deps", *wheels], check=True, timeout=120)

    docker = dockerfile_instructions((ctx / "Dockerfile").read_text())
    argv = json.loads(docker["ENTRYPOINT"][0])
    port = free_port()
    argv[0] = str(venv / "bin" / argv[0])
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    home = tmp_path / "image-home"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "BENTOTUI_HOME": str(home), "HOME": str(tmp_path)}
    # WORKDIR of the image is where ``COPY bento/`` lands: the context's bento folder
    proc = subprocess.Popen(argv, cwd=ctx / "bento", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("the bento did not become ready")
        response = httpx.post(url + "/classify", json=IRIS_ROWS, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json() == [0, 2]
        assert any((home / "models").rglob("model.yaml"))  # the bento's own model, imported on serve
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
