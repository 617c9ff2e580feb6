"""The metrics math behind the Servers table and sparklines, fed with real prometheus_client output."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bentotui.tui.stats import StatsHistory, parse_metrics, quantile, window

BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)


class Server:
    """A real histogram shaped like the server's (BentoML's name, endpoint + http_response_code labels)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "bentoml_service_request_duration_seconds",
            "latency",
            ["endpoint", "service_name", "http_response_code"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def hit(self, endpoint: str, status: int, seconds: float, n: int = 1) -> None:
        for _ in range(n):
            self.latency.labels(endpoint, "svc", str(status)).observe(seconds)

    def scrape(self, t: float):
        return parse_metrics(generate_latest(self.registry).decode(), t)


def test_parse_sums_api_endpoints_and_skips_infra_routes():
    server = Server()
    server.hit("/predict", 200, 0.003, n=4)
    server.hit("/classify", 500, 0.2, n=1)
    server.hit("/metrics", 200, 0.001, n=50)
    server.hit("/readyz", 200, 0.001, n=50)
    scrape = server.scrape(10.0)
    assert scrape.count == 5
    assert scrape.errors == 1
    assert scrape.buckets[math.inf] == 5
    assert scrape.buckets[0.005] == 4


def test_parse_ignores_unrelated_metrics():
    text = '# TYPE other_seconds histogram\nother_seconds_bucket{le="+Inf"} 3\nother_seconds_count 3\n'
    assert parse_metrics(text, 0).count == 0


def test_window_rates_quantiles_and_errors_from_deltas():
    server = Server()
    server.hit("/predict", 200, 0.5, n=100)  # old, slow traffic must not show in the new window
    before = server.scrape(0.0)
    server.hit("/predict", 200, 0.003, n=18)
    server.hit("/predict", 503, 0.003, n=2)
    w = window(before, server.scrape(2.0))
    assert w.requests == 20
    assert w.req_per_s == pytest.approx(10.0)
    assert w.error_rate == pytest.approx(0.1)
    assert 1.0 <= w.p50_ms <= 5.0
    assert w.p99_ms <= 5.0


def test_window_without_traffic_has_no_latency():
    server = Server()
    a, b = server.scrape(0.0), server.scrape(1.0)
    w = window(a, b)
    assert (w.req_per_s, w.p50_ms, w.p99_ms, w.error_rate) == (0.0, None, None, None)


def test_counter_reset_after_restart_counts_from_zero():
    old = Server()
    old.hit("/predict", 200, 0.003, n=100)
    new = Server()
    new.hit("/predict", 200, 0.003, n=5)
    w = window(old.scrape(0.0), new.scrape(1.0))
    assert w.requests == 5


def test_quantile_interpolates_like_prometheus():
    buckets = {0.1: 50.0, 0.2: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.75, buckets) == pytest.approx(0.15)
    assert quantile(0.5, {}) is None
    # everything beyond the last finite bucket reports that bucket's edge
    assert quantile(0.99, {0.1: 0.0, math.inf: 10.0}) == pytest.approx(0.1)


def test_history_is_bounded_and_hands_out_fresh_lists():
    server = Server()
    history = StatsHistory(size=3)
    assert history.add(server.scrape(0.0)) is None
    for t in range(1, 6):
        server.hit("/predict", 200, 0.01, n=t)
        history.add(server.scrape(float(t)))
    series = history.series()
    assert series["req/s"] == [3.0, 4.0, 5.0]
    assert series["req/s"] is not history.series()["req/s"]
    assert history.latest.req_per_s == 5.0
