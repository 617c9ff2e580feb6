"""Micro-benchmark of the runner path alone: ``await runner.async_run`` against worker processes.

No HTTP: N concurrent callers (closed loop) in one event loop, like API handlers, call a runner
backed by a real ``RunnerPool``.  Prints calls/s and p50/p99/max latency per concurrency, for
an identity runnable (the cost of dispatch + codec + socket + worker), the iris
LogisticRegression and a RandomForest(100), with adaptive batching and with batching off (``max_batch_size=1``).

    .venv/bin/python scripts/bench_runner.py [--calls 3000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bentotui.runner import Runner  # noqa: E402
from bentotui.runner.pool import RunnerPool  # noqa: E402
from tests.runner.runnables import Doubler, IrisForest, IrisLR  # noqa: E402


class Sizes:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def batch(self, runner, method, size, queue_wait_s, exec_s) -> None:
        self.sizes.append(size)


async def load(runner: Runner, concurrency: int, calls: int, seconds: float) -> tuple[float, list[float]]:
    row = np.array([[5.1, 3.5, 1.4, 0.2]])
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    per_caller = calls // concurrency

    async def caller() -> None:
        for _ in range(per_caller):
            if time.perf_counter() > deadline:
                return
            begin = time.perf_counter()
            await runner.async_run(row)
            latencies.append(time.perf_counter() - begin)

    begin = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - begin), latencies


def quantile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def bench(label: str, runnable: type, max_batch_size: int, args: argparse.Namespace) -> None:
    sizes = Sizes()
    runner = Runner(runnable, max_batch_size=max_batch_size)
    pool = RunnerPool([runner], workers=1, working_dir=ROOT, observer=sizes)
    begin = time.perf_counter()
    await pool.start()
    started = time.perf_counter() - begin
    try:
        await load(runner, 4, 200, 2)  # warm up
        for concurrency in (1, 16, 64):
            sizes.sizes.clear()
            rate, lat = await load(runner, concurrency, args.calls, args.seconds)
            mean_batch = statistics.mean(sizes.sizes) if sizes.sizes else 0
            print(
                f"{label:<22} c={concurrency:<3} {rate:8.0f} calls/s  p50 {quantile(lat, 0.5) * 1e3:6.2f} ms"
                f"  p99 {quantile(lat, 0.99) * 1e3:6.2f} ms  max {max(lat) * 1e3:6.2f} ms"
                f"  mean batch {mean_batch:5.1f}  (start {started:.2f} s)"
            )
    finally:
        await pool.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per concurrency level")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap per concurrency level")
    args = parser.parse_args()
    for label, runnable, batch in (
        ("identity, batching", Doubler, 100),
        ("identity, no batching", Doubler, 1),
        ("iris LR, batching", IrisLR, 100),
        ("iris LR, no batching", IrisLR, 1),
        ("iris RF(100), batching", IrisForest, 100),
        ("iris RF(100), no batch", IrisForest, 1),
    ):
        await bench(label, runnable, batch, args)


if __name__ == "__main__":
    asyncio.run(main())
