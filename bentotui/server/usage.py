"""CPU and memory of the server's own processes (the API process, its runner workers and the fork
server they are forked from).

The TUI draws per-worker CPU and memory next to latency, and asks the server for them
(``/runners.json``) rather than reading ``/proc`` of processes it did not start: the server knows
which pids are its workers (a restarted worker has a new one), and a TUI on another machine has
no ``/proc`` of the server at all.  ``cpu_percent`` is the share of one core since the previous
request (psutil's interval-less form), so the first answer for a new pid says 0.

Memory is given as RSS and as PSS (proportional set size: each page shared by N processes counts
1/N in each).  Workers forked from the fork server share the model library's pages with it and
with each other, so their RSS counts those pages once per worker and a sum of RSS overstates what
the server holds; PSS sums to the real total.  PSS reads ``/proc/PID/smaps_rollup`` (about 2 ms a
process, against 0.01 ms for RSS), which is why :meth:`ProcessUsage.annotate` is meant to run in a
thread, off the event loop.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import psutil

GONE: dict[str, Any] = {"cpu_percent": None, "rss_bytes": None, "pss_bytes": None}


class ProcessUsage:
    """Remembers a ``psutil.Process`` per pid, so CPU percentages cover the time between calls.

    Thread-safe: two ``/runners.json`` requests may measure at once, each in its own thread."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()

    def of(self, pid: int) -> dict[str, Any]:
        """``{"cpu_percent", "rss_bytes", "pss_bytes"}`` of ``pid``, or Nones once it is gone.
        ``pss_bytes`` is None where the kernel does not tell it (no ``smaps``)."""
        proc = self._procs.get(pid)
        try:
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
            with proc.oneshot():
                usage: dict[str, Any] = {"cpu_percent": proc.cpu_percent(), "rss_bytes": proc.memory_info().rss}
                try:
                    usage["pss_bytes"] = getattr(proc.memory_full_info(), "pss", None)
                except psutil.AccessDenied:
                    usage["pss_bytes"] = None
                return usage
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._procs.pop(pid, None)
            return dict(GONE)

    def annotate(self, insight: dict[str, Any], fork_server: int | None = None) -> dict[str, Any]:
        """``{"api": usage of this process, "fork_server": usage of ``fork_server`` or None,
        "runners": insight}`` with each worker's usage added, forgetting pids no longer listed
        (restarted workers, a fork server started again)."""
        with self._lock:
            listed = {os.getpid()}
            for runner in insight.values():
                for worker in runner["workers"]:
                    if worker.get("pid"):
                        listed.add(worker["pid"])
                        worker.update(self.of(worker["pid"]))
            api = {"pid": os.getpid(), **self.of(os.getpid())}
            forker = None
            if fork_server is not None:
                listed.add(fork_server)
                forker = {"pid": fork_server, **self.of(fork_server)}
            for pid in set(self._procs) - listed:
                del self._procs[pid]
        return {"api": api, "fork_server": forker, "runners": insight}
