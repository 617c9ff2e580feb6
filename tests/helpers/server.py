"""Start a real ``bentotui serve`` process for a test and stop it afterwards.

Usage::

    from tests.helpers.server import serve

    with serve("service:svc", cwd=tmp_path) as srv:
        httpx.get(srv.url + "/healthz")

The server runs with the test's ``BENTOTUI_HOME`` (or ``env["BENTOTUI_HOME"]``, for a server
shared by a module-scoped fixture) on a free loopback port (``--port 0``); its
port comes from the runs registry, and the context is entered once ``/readyz`` answers 200.
At the end it is stopped by pid: SIGTERM, then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bentotui import runs
from bentotui._process import self_command


@dataclass
class RunningServer:
    url: str
    port: int
    pid: int
    proc: subprocess.Popen
    run: runs.RunInfo

    def log_text(self) -> str:
        """Everything the server wrote to its log file so far (access log, errors, worker stderr)."""
        time.sleep(0.3)  # the access log is flushed a few times a second
        return Path(self.run.log_path).read_text(encoding="utf-8", errors="replace")

    def answer_to_head(self, head: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bool]:
        """Send only a request's head (its body never comes) on a fresh connection and read the
        answer: (status, lower-case headers, whether the server closed the connection after it
        within 2 s)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                assert chunk, f"closed without an answer: {received!r}"
                received += chunk
            status_line, *lines = received.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
            sock.settimeout(2.0)  # the body, then EOF unless the connection is kept alive
            try:
                while sock.recv(65536):
                    pass
                closed = True
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
            return int(status_line.split(" ", 2)[1]), headers, closed

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def _find_run(proc: subprocess.Popen, entry: Path, deadline: float) -> runs.RunInfo:
    while time.monotonic() < deadline:
        if entry.exists():
            return runs.RunInfo.from_dict(json.loads(entry.read_text()))
        if proc.poll() is not None:
            proc.stderr.seek(0)
            raise RuntimeError(f"bentotui serve exited with {proc.returncode}: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    raise TimeoutError("server did not register in time")


@contextlib.contextmanager
def serve(
    target: str | None = None,
    *,
    model: str | None = None,
    cwd: str | os.PathLike,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 60.0,
    wait_ready: bool = True,
    command: str = "serve",
) -> Iterator[RunningServer]:
    """A running server for ``target`` (``module:attr`` in ``cwd``), ``model`` (a stored model tag),
    or neither (the bentofile in ``cwd``); ``command`` may name ``serve``'s alias
    ``start-http-server``."""
    run_id = runs.new_run_id()
    env = {**os.environ, **(env or {})}
    home = Path(env["BENTOTUI_HOME"])  # the test's home (conftest) unless ``env`` names another
    argv = [*self_command(), command]
    if target is not None:
        argv.append(target)
    elif model is not None:
        argv += ["--model", model]  # neither: the working folder's bentofile, as `bentotui serve` alone
    argv += ["--port", "0", "--working-dir", str(cwd), "--run-id", run_id, *args]
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    proc.stderr = stderr
    try:
        deadline = time.monotonic() + timeout
        run = _find_run(proc, home / "runs" / f"{run_id}.json", deadline)
        server = RunningServer(url=run.url, port=run.port, pid=proc.pid, proc=proc, run=run)
        if wait_ready:
            while time.monotonic() < deadline:
                try:
                    if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_text()}")
                time.sleep(0.05)
            else:
                raise TimeoutError(f"server not ready in {timeout}s:\n{server.log_text()}")
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stderr.close()
