"""Helpers for tests that start a ``RunnerPool`` with real worker processes."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from bentotui.runner.pool import RunnerPool

ROOT = Path(__file__).resolve().parents[2]  # tests.runner.runnables is importable from here


def worker_pids(pool: RunnerPool) -> list[int]:
    return [w["pid"] for stats in pool.stats().values() for w in stats["workers"] if w["pid"]]


def assert_gone(pids: list[int], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [
            p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker processes still running: {alive}")
