"""Server statistics from successive ``/metrics`` scrapes (pure: no Textual, no HTTP).

A server exports cumulative counters: a latency histogram per endpoint and status.  What a
person wants to see is *recent* behaviour (req/s, p50, p99, error rate over the last seconds),
so each poll is parsed into a :class:`Scrape` and the difference of two scrapes gives a
:class:`Window`.  Quantiles are interpolated inside histogram buckets the way Prometheus'
``histogram_quantile`` does, from bucket *deltas*, so old traffic does not mask new latency.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from bentotui.routes import INFRA_ROUTES

#: Endpoint labels of the server's own plumbing, which the TUI's poller hits every second; other
#: servers may label them without the leading slash.
INFRA_ENDPOINTS = INFRA_ROUTES | {route.lstrip("/") for route in INFRA_ROUTES if route != "/"}
_ENDPOINT_LABELS = ("endpoint", "route", "path", "handler")
_STATUS_LABELS = ("http_status", "status", "http_response_code", "code", "status_code")


@dataclass(frozen=True)
class Scrape:
    """One parse of ``/metrics``: cumulative API request totals at time ``t`` (seconds)."""

    t: float
    count: float = 0.0
    errors: float = 0.0
    #: cumulative bucket counts keyed by upper bound (``math.inf`` for ``+Inf``), summed over APIs
    buckets: dict[float, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """What happened between two scrapes."""

    seconds: float
    requests: float
    req_per_s: float
    error_rate: float | None
    p50_ms: float | None
    p99_ms: float | None


def _label(labels: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in labels:
            return labels[name]
    return None


def _is_error(status: str | None) -> bool:
    """Server-side failures only: a 4xx is the caller's mistake, not the server's health."""
    return status is not None and status[:1] == "5"


def parse_metrics(text: str, t: float) -> Scrape:
    """Sum the request-latency histogram(s) in a Prometheus text page over all API endpoints.

    The histogram is found by shape, not by exact name (any histogram whose name mentions
    ``request`` and ``duration``/``latency``), so a renamed metric does not silently blank the
    Servers table.
    """
    from prometheus_client.parser import text_string_to_metric_families

    count = errors = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        name = family.name
        if family.type != "histogram" or "request" not in name:
            continue
        if "duration" not in name and "latency" not in name:
            continue
        for sample in family.samples:
            endpoint = _label(sample.labels, _ENDPOINT_LABELS)
            if endpoint in INFRA_ENDPOINTS:
                continue
            if sample.name.endswith("_count"):
                count += sample.value
                if _is_error(_label(sample.labels, _STATUS_LABELS)):
                    errors += sample.value
            elif sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return Scrape(t=t, count=count, errors=errors, buckets=buckets)


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """``histogram_quantile`` over cumulative ``buckets`` (upper bound -> count); None if empty."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    total = buckets[bounds[-1]]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                # Beyond the last finite bucket there is no upper edge: report that edge.
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def window(prev: Scrape, cur: Scrape) -> Window:
    """The traffic between ``prev`` and ``cur``; a counter that went down means a restart."""
    seconds = max(cur.t - prev.t, 1e-9)
    reset = cur.count < prev.count
    base_count = 0.0 if reset else prev.count
    base_errors = 0.0 if reset else prev.errors
    requests = cur.count - base_count
    delta = {b: c - (0.0 if reset else prev.buckets.get(b, 0.0)) for b, c in cur.buckets.items()}
    p50 = quantile(0.5, delta) if requests > 0 else None
    p99 = quantile(0.99, delta) if requests > 0 else None
    return Window(
        seconds=seconds,
        requests=requests,
        req_per_s=requests / seconds,
        error_rate=(cur.errors - base_errors) / requests if requests > 0 else None,
        p50_ms=None if p50 is None else p50 * 1000.0,
        p99_ms=None if p99 is None else p99 * 1000.0,
    )


class StatsHistory:
    """The last ``size`` windows of one server, as the sparklines and the table want them.

    Bounded deques keep memory flat however long the TUI runs; ``series`` hands out fresh lists
    so a caller can slice them freely.  ``times`` holds each window's end, so a sparkline can say
    how much time it covers even when probes were late or missed.
    """

    def __init__(self, size: int = 120) -> None:
        self._last: Scrape | None = None
        self.latest: Window | None = None
        self.times: deque[float] = deque(maxlen=size)
        self.req_per_s: deque[float] = deque(maxlen=size)
        self.p50_ms: deque[float] = deque(maxlen=size)
        self.p99_ms: deque[float] = deque(maxlen=size)

    def add(self, scrape: Scrape) -> Window | None:
        """Record a scrape; returns the new window (None for the first scrape)."""
        prev, self._last = self._last, scrape
        if prev is None:
            return None
        self.latest = window(prev, scrape)
        self.times.append(scrape.t)
        self.req_per_s.append(self.latest.req_per_s)
        self.p50_ms.append(self.latest.p50_ms or 0.0)
        self.p99_ms.append(self.latest.p99_ms or 0.0)
        return self.latest

    def miss(self) -> None:
        """A scrape failed: the current numbers are unknown (shown as ``-``, not as 0).  The last
        good scrape is kept, so the next window spans the gap and its rate stays right."""
        self.latest = None

    def series(self) -> dict[str, list[float]]:
        return {"req/s": list(self.req_per_s), "p50 ms": list(self.p50_ms), "p99 ms": list(self.p99_ms)}
