"""CPU and memory of the server's own processes (the API process and its runner workers).

The TUI draws per-worker CPU and memory next to latency, and asks the server for them
(``/runners.json``) rather than reading ``/proc`` of processes it did not start: the server knows
which pids are its workers (a restarted worker has a new one), and a TUI on another machine has
no ``/proc`` of the server at all.  ``cpu_percent`` is the share of one core since the previous
request (psutil's interval-less form), so the first answer for a new pid says 0.
"""

from __future__ import annotations

import os
from typing import Any

import psutil


class ProcessUsage:
    """Remembers a ``psutil.Process`` per pid, so CPU percentages cover the time between calls."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def of(self, pid: int) -> dict[str, Any]:
        """``{"cpu_percent", "rss_bytes"}`` of ``pid``, or Nones once it is gone."""
        proc = self._procs.get(pid)
        try:
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
            with proc.oneshot():
                return {"cpu_percent": proc.cpu_percent(), "rss_bytes": proc.memory_info().rss}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._procs.pop(pid, None)
            return {"cpu_percent": None, "rss_bytes": None}

    def annotate(self, insight: dict[str, Any]) -> dict[str, Any]:
        """``{"api": usage of this process, "runners": insight}`` with each worker's usage added,
        forgetting pids no longer listed (restarted workers)."""
        listed = {os.getpid()}
        for runner in insight.values():
            for worker in runner["workers"]:
                if worker.get("pid"):
                    listed.add(worker["pid"])
                    worker.update(self.of(worker["pid"]))
        api = {"pid": os.getpid(), **self.of(os.getpid())}
        for pid in set(self._procs) - listed:
            del self._procs[pid]
        return {"api": api, "runners": insight}
