"""Cost of one request's metric updates, in memory and in prometheus_client's multiprocess mode.

``bentotui serve`` runs in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) so that ``bentoml.metrics``
written in runner workers add up on ``/metrics``; every value then lives in an mmap file.  This
times what the API path does per request (count, latency, in-progress gauge) and per batch::

    .venv/bin/python scripts/bench_metrics.py          # in memory
    .venv/bin/python scripts/bench_metrics.py mp       # multiprocess mode
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

N = 20_000


def main() -> None:
    multiprocess = sys.argv[1:] == ["mp"]
    if multiprocess:  # must be set before prometheus_client is imported
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    from bentotui.server.metrics import ServerMetrics

    metrics = ServerMetrics("svc", routes=["/predict"], max_batch_size=64)
    gauge = metrics.in_progress("/predict")
    start = time.perf_counter()
    for _ in range(N):
        gauge.inc()
        metrics.observe_request("/predict", 200, 0.001)
        gauge.dec()
    requests_done = time.perf_counter()
    for _ in range(N):
        metrics.batch("runner", "predict", 8, 0.001, 0.002)
    end = time.perf_counter()
    mode = "multiprocess" if multiprocess else "in memory"
    print(f"{mode}: request {1e6 * (requests_done - start) / N:.1f} us, batch {1e6 * (end - requests_done) / N:.1f} us")


if __name__ == "__main__":
    main()
