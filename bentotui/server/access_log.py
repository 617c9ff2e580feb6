"""One access-log line per request, to stdout and the run's log file.

This is on the hot path (thousands of requests a second), so a line is one string formatted once
and appended to buffered streams; :meth:`AccessLog.flush` runs a few times a second from the
server loop and on shutdown instead of after every request.  Health and metrics probes are not
logged (like BentoML): a scraper would otherwise drown the useful lines.
"""

from __future__ import annotations

import json
import time
from typing import IO

QUIET_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})


class AccessLog:
    """Formats ``time method path status latency request-id`` as text or as one JSON object."""

    def __init__(self, streams: list[IO[str]], *, fmt: str = "text") -> None:
        self._streams = streams
        self._json = fmt == "json"
        self._second = -1
        self._stamp = ""

    def _now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:  # strftime once a second, milliseconds appended per line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def log(self, method: str, path: str, status: int, latency_ms: float, request_id: str) -> None:
        if path in QUIET_PATHS:
            return
        if self._json:
            line = json.dumps({
                "time": self._now(), "type": "access", "method": method, "path": path, "status": status,
                "latency_ms": round(latency_ms, 3), "request_id": request_id,
            }) + "\n"
        else:
            line = f"{self._now()} {method} {path} {status} {latency_ms:.2f}ms {request_id}\n"
        for stream in self._streams:
            stream.write(line)

    def flush(self) -> None:
        for stream in self._streams:
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed stdout (detached, pipe gone) must not stop serving
                pass
