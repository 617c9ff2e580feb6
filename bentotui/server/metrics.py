"""Prometheus metrics of one server, under BentoML's names, summed over every process of a run.

Names and labels are BentoML 1.4's (``_bentoml_impl`` service app with the traffic middleware in
the ``bentoml_service`` namespace, ``_internal/server/http/instruments.py``), so dashboards and
alerts written for BentoML read a bentotui server unchanged:

- ``bentoml_service_request_total`` and ``bentoml_service_request_duration_seconds`` (BentoML's
  default duration buckets) by ``endpoint, service_name, service_version, http_response_code,
  runner_name``; every API route starts at 0 for 200 and 500, as BentoML's do, so ``rate()``
  sees the first request;
- ``bentoml_service_request_in_progress`` by ``endpoint, service_name, service_version,
  runner_name``;
- ``bentoml_service_last_request_timestamp_seconds`` by ``service_name, service_version,
  runner_name`` (health probes and ``/metrics`` do not touch it);
- ``bentoml_service_adaptive_batch_size`` by ``runner_name, method_name, service_version,
  service_name`` (buckets 1, 2, 4, ... up to the largest ``max_batch_size``).

A 1.x ``Service`` (``Service.metrics_style == "1.x"``) gets BentoML 1.x's API-server names
instead, which BentoML 1.4 still uses for such a service (``_internal/server/http/instruments.py``
and ``runner_app.py`` of 1.1): ``bentoml_api_server_request_total``,
``bentoml_api_server_request_duration_seconds`` and ``bentoml_api_server_request_in_progress``
without the ``runner_name`` label, no last-request timestamp, and
``bentoml_runner_adaptive_batch_size``.

``service_name``/``service_version`` are the bento's name and version when the server runs a
bento, else the service's name and ``"not available"`` (BentoML's words); ``runner_name`` is the
service's name, as in BentoML.  BentoML has no queue-wait or batch-execution metric: those two
stay ``bentotui_runner_queue_wait_seconds`` and ``bentotui_runner_batch_duration_seconds``.

Processes: ``bentotui serve`` runs inside :func:`multiprocess_dir`, which points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the service is imported and the runner
workers start (they inherit it), so user metrics (:mod:`bentotui.metrics`) incremented in any
process, the server's own included, are summed by ``MultiProcessCollector`` in :meth:`render`.
Without that variable (an app built in a test) the metrics live in a registry of the app's own,
which keeps two apps in one process apart.

The server object is also the runner pool's *observer*: the pool reports each batch it ran through
:meth:`ServerMetrics.batch`, so the runner package never imports prometheus.  Label children are
cached: ``.labels()`` costs more than the increment on the request path.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bentotui import _process

if TYPE_CHECKING:
    from prometheus_client.samples import Sample

    from bentotui.service.loader import ServeTarget
    from bentotui.service.service import MetricsStyle, Service
    from bentotui.store.tags import Tag

log = logging.getLogger("bentotui.server")

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
NAMESPACE = "bentoml_service"
#: BentoML 1.x's namespaces, for a 1.x ``Service``: the API server's requests, the runners' batches
LEGACY_NAMESPACE = "bentoml_api_server"
LEGACY_RUNNER_NAMESPACE = "bentoml_runner"
#: what BentoML reports as ``service_version`` when the service is not served from a bento
NOT_AVAILABLE = "not available"
#: BentoML's default request duration buckets (``_internal/utils/metrics.py`` DEFAULT_BUCKET)
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, math.inf,
)
#: finer buckets for bentotui's own runner timings, which are often sub-millisecond
_RUNNER_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: paths that do not count as traffic for the last-request timestamp (BentoML's skip_paths)
_PROBE_PATHS = frozenset({"/metrics", "/healthz", "/livez", "/readyz"})
DEFAULT_MAX_BATCH_SIZE = 100  # BentoML's, for a service without batchable runners


def batch_size_buckets(max_batch_size: int) -> tuple[float, ...]:
    """BentoML's ``exponential_buckets(1, 2, max_batch_size)``: powers of two below the maximum,
    the maximum itself, then +Inf."""
    bounds: list[float] = []
    bound = 1
    while bound < max_batch_size:
        bounds.append(bound)
        bound *= 2
    return (*bounds, max_batch_size, math.inf)


#: one folder per server run, named after the server's pid so the next start can sweep dead ones
METRICS_DIR_PREFIX = "bentotui-metrics-"


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[Path]:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder for one server run; removed on exit.

    prometheus_client picks its value store from that variable when it is imported, so this must
    run before the service (which may define metrics) is imported and before workers are spawned;
    if something imported it earlier, the store is chosen again for the metrics made from now on.
    """
    _process.sweep_owned_temp_dirs(METRICS_DIR_PREFIX)  # left by a server that was SIGKILLed
    path = _process.owned_temp_dir(METRICS_DIR_PREFIX)
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = path
    _choose_value_store()
    try:
        yield Path(path)
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        _choose_value_store()
        shutil.rmtree(path, ignore_errors=True)


def _choose_value_store() -> None:
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]


class ServerMetrics:
    """The server's request, in-progress and batching metrics (see the module docstring)."""

    def __init__(
        self,
        service_name: str,
        *,
        bento: Tag | None = None,
        routes: Iterable[str] = (),
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        style: MetricsStyle = "1.2",
    ) -> None:
        self.multiprocess = MULTIPROC_ENV in os.environ
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        legacy = style == "1.x"
        bento_labels = (
            bento.name if bento is not None else service_name,
            (bento.version if bento is not None else None) or NOT_AVAILABLE,
        )
        #: the label values every request metric child starts with (1.x has no ``runner_name``)
        self._labels = bento_labels if legacy else (*bento_labels, service_name)
        runner_label = [] if legacy else ["runner_name"]
        namespace = LEGACY_NAMESPACE if legacy else NAMESPACE
        endpoint_labels = ["endpoint", "service_name", "service_version"]
        self.requests = Counter(
            "request_total", "Total number of HTTP requests", [*endpoint_labels, "http_response_code", *runner_label],
            namespace=namespace, registry=registry,
        )
        self.latency = Histogram(
            "request_duration_seconds", "API HTTP request duration in seconds" if legacy else "HTTP request duration in seconds",
            [*endpoint_labels, "http_response_code", *runner_label],
            namespace=namespace, buckets=DURATION_BUCKETS, registry=registry,
        )
        self._in_progress = Gauge(
            "request_in_progress", "Total number of HTTP requests in progress now", [*endpoint_labels, *runner_label],
            namespace=namespace, multiprocess_mode="livesum", registry=registry,
        )
        self.last_request = None if legacy else Gauge(
            "last_request_timestamp_seconds", "Timestamp of the last received request",
            ["service_name", "service_version", "runner_name"],
            namespace=NAMESPACE, multiprocess_mode="mostrecent", registry=registry,
        ).labels(*self._labels)
        self.batch_size = Histogram(
            "adaptive_batch_size", "Runner adaptive batch size" if legacy else "Service adaptive batch size",
            ["runner_name", "method_name", "service_version", "service_name"],
            namespace=LEGACY_RUNNER_NAMESPACE if legacy else NAMESPACE,
            buckets=batch_size_buckets(max_batch_size), registry=registry,
        )
        self.queue_wait = Histogram(
            "bentotui_runner_queue_wait_seconds", "Time a call waited in the batching queue.",
            ["runner", "method"], buckets=_RUNNER_BUCKETS, registry=registry,
        )
        self.batch_exec = Histogram(
            "bentotui_runner_batch_duration_seconds", "Time a runner took to execute one batch.",
            ["runner", "method"], buckets=_RUNNER_BUCKETS, registry=registry,
        )
        self._request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._progress_children: dict[str, Gauge] = {}
        self._batch_children: dict[tuple[str, str], tuple[Histogram, Histogram, Histogram]] = {}
        for route in routes:
            for status in (200, 500):
                self._request_child(route, status)

    @classmethod
    def for_service(cls, service: Service, bento: Tag | None = None) -> ServerMetrics:
        """The metrics of a server of ``service``: its style's names, its API routes, its batch limit."""
        return cls(
            service.name,
            bento=bento,
            routes=[api.route for api in service.apis.values()],
            max_batch_size=max(
                (m.max_batch_size for r in service.runners for m in r.methods.values() if m.config.batchable),
                default=DEFAULT_MAX_BATCH_SIZE,
            ),
            style=service.metrics_style,
        )

    @classmethod
    def for_target(cls, target: ServeTarget) -> ServerMetrics:
        """The metrics of a server of ``target``: as :meth:`for_service`, labelled with its bento's tag."""
        return cls.for_service(target.service, target.bento.tag if target.bento is not None else None)

    def _request_child(self, endpoint: str, status: int) -> tuple[Counter, Histogram]:
        key = (endpoint, status)
        children = self._request_children.get(key)
        if children is None:
            service_name, version, *runner = self._labels
            labels = (endpoint, service_name, version, str(status), *runner)
            children = self._request_children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        return children

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request (a scrape of ``/metrics`` is not traffic, as in BentoML)."""
        if endpoint == "/metrics":
            return
        counter, histogram = self._request_child(endpoint, status)
        counter.inc()
        histogram.observe(seconds)
        if self.last_request is not None and endpoint not in _PROBE_PATHS:
            self.last_request.set_to_current_time()

    def in_progress(self, endpoint: str) -> Gauge:
        """The in-progress gauge of ``endpoint``, to ``inc()`` when a request starts, ``dec()`` after."""
        child = self._progress_children.get(endpoint)
        if child is None:
            child = self._progress_children[endpoint] = self._in_progress.labels(endpoint, *self._labels)
        return child

    def batch(self, runner: str, method: str, size: int, queue_wait_s: float, exec_s: float) -> None:
        """Observer hook called by the runner pool after each batch."""
        key = (runner, method)
        children = self._batch_children.get(key)
        if children is None:
            service_name, version = self._labels[:2]
            children = self._batch_children[key] = (
                self.batch_size.labels(runner, method, version, service_name),
                self.queue_wait.labels(runner, method),
                self.batch_exec.labels(runner, method),
            )
        children[0].observe(size)
        children[1].observe(queue_wait_s)
        children[2].observe(exec_s)

    def worker_exited(self, pid: int) -> None:
        """Drop a dead worker's live gauges (its counters stay: they are part of the totals)."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]

    def render(self) -> bytes:
        """The Prometheus text page: this app's registry, or every process's values when multiprocess."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for family in registry.collect():  # merged histograms come _sum/_count first; put buckets first
            if family.type == "histogram":
                family.samples.sort(key=_histogram_order)
        return generate_latest(registry)


def _histogram_order(sample: Sample) -> tuple[tuple[tuple[str, str], ...], int, float]:
    """Exposition order within a histogram: per label set, ``_bucket`` by bound, ``_count``, ``_sum``."""
    labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
    if sample.name.endswith("_bucket"):
        return labels, 0, float(sample.labels["le"])
    return labels, 1 if sample.name.endswith("_count") else 2, 0.0
