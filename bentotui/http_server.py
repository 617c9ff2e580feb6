"""``bentoml.HTTPServer``: start a ``bentotui serve`` process from Python and get a client for it.

BentoML 1.x's way to serve from a script or a test::

    server = HTTPServer("service:svc", port=3000)
    server.start()
    client = server.get_client()
    ...
    server.stop()

or ``with server.start() as client: ...``.  The process is the same ``bentotui serve`` the CLI
and the TUI start (so it shows in ``bentotui runs list`` and the TUI); ``port=0`` takes a free
port, read back from the runs registry.  The client is :class:`bentotui.client.SyncHTTPClient`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from bentotui import runs
from bentotui._process import self_command
from bentotui.client import SyncHTTPClient
from bentotui.exceptions import BentotuiError, InvalidArgument
from bentotui.logs import tail_lines
from bentotui.store.tags import Tag

logger = logging.getLogger("bentotui")

STOP_TIMEOUT_S = 10.0

_File = int | IO[Any] | None


class ServerStateException(BentotuiError):
    """BentoML's name: the server was asked for a client or a stop in a state that has none."""


class HTTPServer:
    """A ``bentotui serve`` subprocess for ``bento`` (a serve target: ``service:svc``, a bento
    tag, ``.``, or a ``@service`` class / object with an importable module).

    ``production`` is accepted for BentoML's signature (every server here is the production
    one); ``env="conda"`` is not supported.
    """

    def __init__(
        self,
        bento: Any,
        reload: bool = False,
        production: bool = True,
        env: str | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        timeout: float = 10.0,
        working_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if env is not None:
            raise InvalidArgument(f"HTTPServer env={env!r} is not supported: serve from the current environment")
        self.target = _target(bento)
        self.host = host
        self.port = port
        self.timeout = timeout
        self.working_dir = os.fspath(working_dir) if working_dir is not None else os.getcwd()
        self.run_id = runs.new_run_id()
        self.args = [
            *self_command(),
            "serve",
            self.target,
            "--host",
            host,
            "--port",
            str(port),
            "--working-dir",
            self.working_dir,
            "--run-id",
            self.run_id,
            *(["--reload"] if reload else []),
        ]
        self.process: subprocess.Popen[Any] | None = None
        self._client: SyncHTTPClient | None = None

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(
        self,
        blocking: bool = False,
        env: dict[str, str] | None = None,
        stdin: _File = None,
        stdout: _File = None,
        stderr: _File = None,
        text: bool | None = None,
    ) -> Any:
        """Start the server and wait until it is ready (``timeout``); the result, used as a context
        manager, gives the client and stops the server at the end.  ``blocking`` waits for the
        server to exit instead.  ``env`` adds variables to this process's environment; the
        server's stderr goes to its run log unless ``stderr`` says otherwise."""
        if self.process is not None and self.process.poll() is None:
            raise ServerStateException(f"the server of {self.target!r} is already running (pid {self.process.pid})")
        with open(runs.log_path_for(self.run_id), "ab") as log:  # the server appends to it too
            self.process = subprocess.Popen(
                self.args,
                cwd=self.working_dir,
                env={**os.environ, **(env or {})},
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=stdout if stdout is not None else subprocess.DEVNULL,
                stderr=stderr if stderr is not None else log,
                text=bool(text),
            )
        try:
            self._wait_until_ready()
            if blocking:
                self.process.wait()
        except BaseException:
            self.stop()
            raise
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[SyncHTTPClient]:
        try:
            yield self.get_client()
        finally:
            self.stop()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        while (run := runs.find_run(self.run_id)) is None:
            self._check_alive()
            if time.monotonic() > deadline:
                raise BentotuiError(f"the server of {self.target!r} did not start within {self.timeout:g}s")
            time.sleep(0.05)
        self.port = run.port  # the port it bound (port=0 picks one)
        runs.wait_ready(run, max(deadline - time.monotonic(), 0.1))

    def _check_alive(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            log = runs.log_path_for(self.run_id)
            raise ServerStateException(
                f"the server of {self.target!r} exited with code {code} (log: {log})",
                detail="\n".join(tail_lines(log, 20)),
            )

    def get_client(self) -> SyncHTTPClient:
        """A client of the running server (the same one on every call)."""
        if self.process is None:
            raise ServerStateException("the server is not running: call start() first")
        self._check_alive()
        if self._client is None:
            self._client = SyncHTTPClient(self.url, server_ready_timeout=0)
        return self._client

    def stop(self) -> None:
        """SIGTERM the server and wait for its graceful exit (SIGKILL after ``STOP_TIMEOUT_S``)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is None or self.process.poll() is not None:
            logger.warning("HTTPServer.stop(): the server of %r is not running", self.target)
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> HTTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def _target(bento: Any) -> str:
    """The serve target of what BentoML's HTTPServer accepts: a string/Tag, or an object defined
    in an importable module (a ``@service`` class, a ``Service`` bound to a module name)."""
    if isinstance(bento, str):
        return bento
    if isinstance(bento, Tag):
        return str(bento)
    module = getattr(bento, "__module__", None)
    name = getattr(bento, "__qualname__", None)
    if module and module != "__main__" and name:
        return f"{module}:{name}"
    raise InvalidArgument(
        f"HTTPServer needs a serve target such as 'service:svc' (a module name and attribute), got {bento!r}"
    )
