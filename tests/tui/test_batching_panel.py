"""The batching panel (``b`` on Servers): a real server whose runner is overloaded on purpose, its
``/runners.json``, and what the panel makes of it; plus the pure view's bins and lines."""

from __future__ import annotations

import asyncio
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from textual.widgets import Static

from bentotui.runner import forkserver
from bentotui.tui import batching_view
from bentotui.tui.screens.batching import BatchingScreen
from bentotui.tui.server_view import READY
from tests.helpers.server import serve
from tests.tui.conftest import SIZE, store_listed, wait_for
from tests.tui.test_server_flows import entry_state

# 4 rows per 20 ms batch against a 60 ms budget: a burst of 40 calls cannot all make it
SLOW_SERVICE = textwrap.dedent("""
    import time

    import bentotui as bentoml


    class SlowRunnable(bentoml.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True

        @bentoml.Runnable.method(batchable=True)
        def work(self, rows):
            time.sleep(0.02)
            return [row * 2 for row in rows]


    slow = bentoml.Runner(SlowRunnable, name="slow", max_batch_size=4, max_latency_ms=60)
    svc = bentoml.Service(name="slow", runners=[slow])


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def double(x):
        return (await slow.work.async_run([x]))[0]
""")


@pytest.fixture
def slow_dir(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(SLOW_SERVICE)
    return tmp_path


def overload(url: str) -> list[int]:
    """Warm the cost line with a few lone calls, then a burst it cannot serve in time."""
    with httpx.Client(timeout=10) as client:
        for x in range(6):
            assert client.post(url + "/double", json=x).json() == 2 * x
        with ThreadPoolExecutor(40) as pool:
            return list(pool.map(lambda x: client.post(url + "/double", json=x).status_code, range(40)))


def test_runners_json_reports_workers_batches_and_the_reasons_of_refusals(slow_dir):
    with serve("service:svc", cwd=slow_dir) as srv:
        statuses = overload(srv.url)
        assert 503 in statuses and 200 in statuses
        body = httpx.get(srv.url + "/runners.json").json()
    assert body["api"]["pid"] == srv.pid and body["api"]["rss_bytes"] >= body["api"]["pss_bytes"] > 0
    assert body["fork_server"] is None  # a lone worker is spawned
    runner = body["runners"]["slow"]
    [worker] = runner["workers"]
    assert worker["alive"] and worker["rss_bytes"] >= worker["pss_bytes"] > 0 and worker["cpu_percent"] is not None
    work = runner["methods"]["work"]
    assert work["max_batch_size"] == 4 and work["max_latency_ms"] == 60
    assert sum(int(size) * n for size, n in work["sizes"].items()) == statuses.count(200) + 6
    assert work["cost"]["warm"] and work["cost"]["per_row_ms"] + work["cost"]["fixed_ms"] > 0
    assert sum(work["refused"].values()) == statuses.count(503)
    assert any("over max_latency_ms=60" in refusal["message"] for refusal in work["refusals"])


def test_a_server_without_runners_has_an_empty_runner_list(tmp_path):
    from tests.tui.test_server_flows import ECHO_SERVICE

    (tmp_path / "service.py").write_text(ECHO_SERVICE)
    with serve("service:svc", cwd=tmp_path) as srv:
        body = httpx.get(srv.url + "/runners.json").json()
    assert body["runners"] == {} and body["api"]["pid"] == srv.pid


async def test_b_opens_the_panel_with_the_cost_line_histogram_and_refusals(make_app, slow_dir):
    """Servers shows the selected server's worker CPU and memory beside its latency; ``b`` opens
    the panel, which explains the 503s an overload brought."""
    with serve("service:svc", cwd=slow_dir) as srv:
        app = make_app(poll_interval=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("2")
            await wait_for(pilot, lambda: entry_state(app, srv.run.id) == READY, what="server ready")
            # beside the latency sparklines: the selected server's workers, measured by the server
            detail = app.screen.query_one("#last-log", Static)
            await wait_for(pilot, lambda: "slow/0 pid " in str(detail.render()) and "pss " in str(detail.render()),
                           what="worker usage in the Servers detail")
            await pilot.press("b")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, BatchingScreen) and app.screen, what="panel")
            statuses = await asyncio.to_thread(overload, srv.url)
            assert 503 in statuses

            def panel_text() -> str:
                return str(screen.query_one("#batching-panel", Static).render())

            await wait_for(pilot, lambda: "refused:" in panel_text() and "none" not in panel_text().split("refused:")[1][:6],
                           what="refusals shown")
            text = panel_text()
            assert "runner slow · 1 worker slot" in text
            assert "work: max_batch_size 4 · max_latency_ms 60.0ms" in text
            assert "cost line: fixed" in text and "a full batch (4 rows)" in text
            assert "  1 │█" in text and "2-3 │" in text and "  4 │" in text  # the batch-size bins
            assert "over max_latency_ms=60" in text
            await wait_for(pilot, lambda: "cpu " in panel_text() and "pss " in panel_text(), what="usage sparklines")
            await pilot.press("p")
            assert screen.paused and screen.sub_title == "paused"
            await pilot.press("escape")
            assert not isinstance(app.screen, BatchingScreen)


def test_histogram_bins_are_powers_of_two_up_to_the_batch_limit():
    lines = batching_view.histogram({"1": 2, "3": 1, "4": 4, "100": 8}, 100, width=8)
    assert [line.split("│")[0].strip() for line in lines] == ["1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-100"]
    assert lines[0].endswith("██ 2") and lines[2].endswith("████ 4") and lines[-1].endswith("████████ 8")
    assert lines[3].endswith("│")  # an empty bin has no bar and no count


def test_cost_line_and_refusals_read_as_sentences():
    assert batching_view.cost_line({}, 8) == "cost line: no batch measured yet"
    line = batching_view.cost_line({"fixed_ms": 1.2, "per_row_ms": 0.05, "warm": True}, 100)
    assert line == "cost line: fixed 1.20ms + 0.050ms/row; a full batch (100 rows) ≈ 6.2ms"
    info = {
        "max_batch_size": 8, "max_latency_ms": 200, "queued_rows": 3, "batches": 2, "sizes": {"8": 2},
        "cost": {"fixed_ms": 1.0, "per_row_ms": 70.0, "warm": True},
        "queue_wait_ms": {"p50": 1.0, "p99": 2.0, "max": 3.0}, "exec_ms": None,
        "refused": {"overloaded": 3},
        "refusals": [{"at": 0, "kind": "overloaded", "calls": 3,
                      "message": "runner 'r' is overloaded: m would take about 586 ms, over max_latency_ms=200"}],
    }
    lines = batching_view.method_lines("m", info, now=65)
    texts = [text for text, _ in lines]
    assert texts[0] == "  m: max_batch_size 8 · max_latency_ms 200ms · 3 rows queued · 2 batches"
    assert "    queue wait p50 1.0ms p99 2.0ms max 3.0ms · run -" in texts
    assert texts[-2] == "    refused: 3 (3 overloaded); the latest:"
    assert texts[-1] == "      1m05s ago ×3 runner 'r' is overloaded: m would take about 586 ms, over max_latency_ms=200"
    assert lines[-1][1] == "warning" and lines[-2][1] == "error"


@pytest.mark.skipif(not forkserver.supported(), reason="the fork server needs Linux pidfds")
def test_runners_json_names_the_fork_server_and_splits_the_shared_pages_in_pss(slow_dir):
    """Two workers forked from one fork server share the pages of what it imported: each one's
    RSS counts them whole, its PSS only its share, so the PSS figures add up."""
    env = {forkserver.START_ENV: "forkserver"}
    with serve("service:svc", cwd=slow_dir, env=env, args=["--runner-workers", "2"]) as srv:
        body = httpx.get(srv.url + "/runners.json").json()
    forker = body["fork_server"]
    workers = body["runners"]["slow"]["workers"]
    assert len(workers) == 2 and forker["pid"] not in {srv.pid} | {worker["pid"] for worker in workers}
    for process in (forker, *workers):
        assert process["rss_bytes"] > process["pss_bytes"] > 0
    lines = [text for text, _ in batching_view.panel(body, batching_view.UsageHistory(), now=0)]
    assert lines[1].startswith(f"fork server pid {forker['pid']} · cpu ") and " · pss " in lines[1]


def test_usage_history_keeps_a_series_per_worker_slot():
    usage = batching_view.UsageHistory(size=3)
    for cpu in (10, 50, 90, 30):
        usage.add({"runners": {"r": {"workers": [{"pid": 7, "alive": True, "cpu_percent": cpu, "rss_bytes": 2**20}]}}})
    assert list(usage.cpu[("r", 0)]) == [50, 90, 30]
    [(line, tone)] = batching_view.worker_lines("r", [{"pid": 7, "alive": True, "inflight": 1, "restarts": 0}], usage)
    assert line.startswith("  worker 0 pid 7 up · 1 in flight · 0 restarts · cpu ") and "30% (max 90%)" in line
    assert " · rss " in line and line.endswith("1.0 MiB") and tone is None
    usage.add({"runners": {"r": {"workers": [{"pid": 7, "alive": True, "cpu_percent": 5,
                                               "rss_bytes": 2**21, "pss_bytes": 2**19}]}}})
    [(line, _)] = batching_view.worker_lines("r", [{"pid": 7, "alive": True}], usage)
    assert line.endswith(" 512.0 KiB") and " · pss " in line  # PSS, where the server measured it
    [(remote, tone)] = batching_view.worker_lines("r", [{"pid": None, "address": "tcp://h:1", "alive": False}], usage)
    assert "at tcp://h:1 down" in remote and tone == "error"
