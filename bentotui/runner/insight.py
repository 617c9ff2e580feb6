"""What one batchable method's dispatcher has been doing, for people: the TUI's batching panel.

BentoML users cannot see why adaptive batching refuses them (bentoml/BentoML#3200, #4265): the
503 says "overloaded" and nothing else.  Each :class:`~bentotui.runner.dispatcher.Dispatcher`
keeps a :class:`BatchLog`: how many batches of each size it sent, the queue wait and execution
time of the recent ones, and the last refusals with their reasons (the estimate against the
target, in the words the 503 carried).  Bounded (a counter per batch size, a few hundred floats,
twenty refusals) and a handful of operations per batch; the dispatcher's fitted cost line is
read from its :class:`~bentotui.runner.cost.CostModel` when a snapshot is taken.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any

RECENT_BATCHES = 256
RECENT_REFUSALS = 20
#: why a call was refused: its estimate was over the target, it waited over the target in the
#: queue, or no worker was live
OVERLOADED, EXPIRED, NO_WORKER = "overloaded", "expired", "no_worker"


class BatchLog:
    """Batch sizes, recent waits and run times, and refusals of one runner method."""

    def __init__(self) -> None:
        self.sizes: Counter[int] = Counter()
        self.waits: deque[float] = deque(maxlen=RECENT_BATCHES)
        self.execs: deque[float] = deque(maxlen=RECENT_BATCHES)
        self.refusals: deque[dict[str, Any]] = deque(maxlen=RECENT_REFUSALS)
        self.refused: Counter[str] = Counter()

    def batch(self, rows: int, queue_wait_s: float, exec_s: float) -> None:
        self.sizes[rows] += 1
        self.waits.append(queue_wait_s)
        self.execs.append(exec_s)

    def refuse(self, kind: str, message: str, calls: int = 1) -> None:
        self.refused[kind] += calls
        self.refusals.append({"at": time.time(), "kind": kind, "calls": calls, "message": message})

    def snapshot(self) -> dict[str, Any]:
        return {
            "batches": sum(self.sizes.values()),
            "sizes": {str(size): count for size, count in sorted(self.sizes.items())},
            "queue_wait_ms": _quantiles(self.waits),
            "exec_ms": _quantiles(self.execs),
            "refused": dict(self.refused),
            "refusals": list(self.refusals),
        }


def _quantiles(values: deque[float]) -> dict[str, float] | None:
    """p50, p99 and max of the recent values, in milliseconds (None before the first batch)."""
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1] * 1000, 3)}
