"""Prometheus metrics of one server, in a registry of its own.

A per-app :class:`CollectorRegistry` (not the global one) keeps two apps in one process (tests)
from colliding.  The server object is also the runner pool's *observer*: the pool reports each
batch it ran through :meth:`ServerMetrics.batch`, so the runner package never imports prometheus.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServerMetrics:
    """Request count/latency by endpoint and status, in-flight gauge, batch size and queue wait."""

    def __init__(self, service_name: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bentotui_request", "HTTP requests by endpoint and status.",
            ["service", "endpoint", "http_status"], registry=self.registry,
        )
        self.latency = Histogram(
            "bentotui_request_duration_seconds", "HTTP request latency by endpoint and status.",
            ["service", "endpoint", "http_status"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            "bentotui_request_in_progress", "API requests being handled.", ["service"], registry=self.registry,
        ).labels(service_name)
        self.batch_size = Histogram(
            "bentotui_runner_batch_size", "Rows per batch sent to a runner method.",
            ["runner", "method"], buckets=_BATCH_BUCKETS, registry=self.registry,
        )
        self.queue_wait = Histogram(
            "bentotui_runner_queue_wait_seconds", "Time a call waited in the batching queue.",
            ["runner", "method"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.batch_exec = Histogram(
            "bentotui_runner_batch_duration_seconds", "Time a runner took to execute one batch.",
            ["runner", "method"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self._service = service_name
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one request; label children are cached because ``.labels()`` is on the hot path."""
        key = (endpoint, status)
        children = self._children.get(key)
        if children is None:
            labels = (self._service, endpoint, str(status))
            children = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def batch(self, runner: str, method: str, size: int, queue_wait_s: float, exec_s: float) -> None:
        """Observer hook called by the runner pool after each batch."""
        self.batch_size.labels(runner, method).observe(size)
        self.queue_wait.labels(runner, method).observe(queue_wait_s)
        self.batch_exec.labels(runner, method).observe(exec_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
