"""A server process's output plumbing: the stderr tee, log record formats, access-log streams.

Everything written to stderr (this process's log records and tracebacks, and the inherited
stderr of the worker processes) is copied into the run's log file, so the TUI and
``bentotui runs logs`` see one file whether the server was started from a terminal or detached.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import IO


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record), "type": "log", "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data)


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _is_devnull(fd: int) -> bool:
    try:
        st = os.fstat(fd)
    except OSError:
        return True
    return stat.S_ISCHR(st.st_mode) and _same_file(fd, Path(os.devnull))


class StderrTee:
    """Points fd 2 at a pipe whose reader copies each chunk to the old stderr and the log file.

    Worker processes inherit fd 2, so their output lands in the log file too.  When stderr
    already *is* the log file (a server started detached by ``runs.start_run``) nothing is done.
    """

    def __init__(self, log_path: Path) -> None:
        self._orig: int | None = None
        if _same_file(2, log_path):
            return
        sys.stderr.flush()
        self._log = open(log_path, "ab", buffering=0)
        self._orig = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._pump, args=(read_fd,), name="stderr-tee", daemon=True)
        self._thread.start()

    def _pump(self, read_fd: int) -> None:
        orig = self._orig
        assert orig is not None
        while chunk := os.read(read_fd, 65536):
            self._log.write(chunk)
            try:
                os.write(orig, chunk)
            except OSError:
                pass
        os.close(read_fd)

    def close(self) -> None:
        """Give fd 2 back; the pump ends once the last worker holding the pipe has exited."""
        if self._orig is None:
            return
        sys.stderr.flush()
        os.dup2(self._orig, 2)
        self._thread.join(timeout=1.0)


def setup_logging(log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("hypercorn.access", "quart.serving"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def open_streams(log_path: Path) -> list[IO[str]]:
    """Buffered access-log streams: the log file, plus stdout unless it is /dev/null."""
    log_file = open(log_path, "a", buffering=1 << 16, encoding="utf-8")
    streams: list[IO[str]] = [log_file]
    if not _is_devnull(1) and not _same_file(1, log_path):
        streams.append(os.fdopen(os.dup(1), "w", buffering=1 << 16, encoding="utf-8"))
    return streams


