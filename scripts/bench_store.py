"""Benchmark the model store listing and CLI start-up.

Creates N models (default 1,000) in a temporary BENTOTUI_HOME through the store API (a tiny file
each), then times, as medians over several runs:

- ``bentotui models list`` (table) without and with the listing cache, and
  ``bentotui models list -o json``, as subprocesses,
- ``bentotui --help`` as a subprocess,
- the in-process ``ModelStore().list()``.

Subprocesses run with a bytecode cache (``PYTHONPYCACHEPREFIX`` in a temporary folder, one
warm-up run each), as an installed package would, even where ``PYTHONDONTWRITEBYTECODE`` is set.
Each subprocess row shows wall time and CPU time (user + system of the child): on a shared
2-core machine the wall time swings with the load of other work, the CPU time much less.

Targets (issue 2): ``models list`` < 0.5 s with 1,000 models, ``--help`` < 0.3 s.

    .venv/bin/python scripts/bench_store.py [--models 1000] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGETS = {
    "bentotui models list (no cache)": 0.5,
    "bentotui models list": 0.5,
    "bentotui models list -o json": 0.5,
    "bentotui --help": 0.3,
}


def _command() -> list[str]:
    script = Path(sys.executable).with_name("bentotui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bentotui"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _median(
    fn: Callable[[], object], runs: int, setup: Callable[[], object] = lambda: None
) -> tuple[float, float]:
    """Median wall seconds and median child CPU seconds of ``fn``."""
    setup()
    fn()  # warm-up: fills the bytecode cache
    walls, cpus = [], []
    for _ in range(runs):
        setup()
        cpu, start = _children_cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _run(args: list[str]) -> None:
    subprocess.run([*_command(), *args], check=True, stdout=subprocess.DEVNULL, env=os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bentotui-bench-") as home:
        os.environ["BENTOTUI_HOME"] = home
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(home) / ".pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        from bentotui.store.item_store import LIST_CACHE
        from bentotui.store.models import ModelStore

        store = ModelStore()
        start = time.perf_counter()
        for i in range(args.models):
            with store.create(
                f"model-{i % 50}",
                module="bentotui.sklearn",
                framework_version="1.9.1",
                signatures={"predict": {"batchable": True}},
                labels={"stage": "dev" if i % 2 else "prod", "team": "bench"},
                metadata={"index": i},
            ) as draft:
                (draft.path / "model.bin").write_bytes(os.urandom(256))
        save_s = time.perf_counter() - start
        assert len(store.list()) == args.models

        cache = store.items.root / LIST_CACHE
        results = {
            "bentotui models list (no cache)": _median(
                lambda: _run(["models", "list"]), args.runs, setup=lambda: cache.unlink(missing_ok=True)
            ),
            "bentotui models list": _median(lambda: _run(["models", "list"]), args.runs),
            "bentotui models list -o json": _median(
                lambda: _run(["models", "list", "-o", "json"]), args.runs
            ),
            "bentotui --help": _median(lambda: _run(["--help"]), args.runs),
        }
        in_process = _median(store.list, args.runs)[0]

    print(f"{args.models} models saved in {save_s:.2f} s ({save_s / args.models * 1000:.2f} ms each)")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'what':<36} {'wall s':>7} {'cpu s':>7} {'target s':>9}")
    for name, (wall, cpu) in results.items():
        verdict = "ok" if wall < TARGETS[name] else "OVER"
        print(f"{name:<36} {wall:>7.3f} {cpu:>7.3f} {TARGETS[name]:>9} {verdict}")
    print(f"{'ModelStore().list() in-process':<36} {in_process:>7.3f}")


if __name__ == "__main__":
    main()
