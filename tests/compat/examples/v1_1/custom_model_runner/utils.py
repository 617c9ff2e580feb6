"""BentoML 1.1 examples/custom_model_runner/utils.py: Prometheus histogram buckets."""

from __future__ import annotations

INF = float("inf")

MAX_BUCKET_COUNT = 100


def exponential_buckets(start: float, factor: float, end: float) -> tuple[float, ...]:
    """Buckets whose upper bounds grow by ``factor`` from ``start``, then ``end`` and +Inf."""
    assert start > 0.0
    assert start < end
    assert factor > 1.0

    bound = start
    buckets: list[float] = []
    while bound < end:
        buckets.append(bound)
        bound *= factor

    if len(buckets) > MAX_BUCKET_COUNT:
        buckets = buckets[:MAX_BUCKET_COUNT]

    return tuple(buckets) + (end, INF)
