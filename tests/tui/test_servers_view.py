"""The Servers view model: number formats, sparkline scale, state rules, crashes, layout (no Textual)."""

from __future__ import annotations

import signal

import pytest

from bentotui.runs import RunInfo
from bentotui.tui import fmt
from bentotui.tui.server_view import (
    CELL_PADDING,
    CRASHED,
    FAILING,
    READY,
    SCROLLBAR,
    SPARK_BARS,
    STOPPED,
    ServerBook,
    crash_notice,
    last_error_line,
    layout,
    spark,
    spark_label,
)
from bentotui.tui.stats import Scrape
from tests.tui.snapshot_data import run_info as run

SLOW = {1.0: 0.0, 2.5: 10.0, float("inf"): 10.0}  # ten requests between 1 s and 2.5 s: p50 1.75 s


def ready_book(*runs: RunInfo) -> ServerBook:
    book = ServerBook()
    book.update_runs(runs, now=0)
    for r in runs:
        book.record_probe(r.id, True, None)
    return book


def test_latency_keeps_its_unit_and_fits_the_column():
    """Bug 1: p50 1750 ms read '175' (the column cut '1750ms'); now every value fits NUMBER_WIDTH."""
    assert fmt.ms(59.3) == "59.3ms"
    assert fmt.ms(364) == "364ms"
    assert fmt.ms(1750) == "1.75s"
    assert fmt.ms(17_500) == "17.5s"
    assert fmt.ms(175_000) == "175s"
    values = [0.01 * 1.37**i for i in range(80)]  # 0.01 ms up to about a day
    assert max(len(fmt.ms(v)) for v in values) <= fmt.NUMBER_WIDTH
    assert max(len(fmt.rate(v)) for v in values) <= fmt.NUMBER_WIDTH
    assert fmt.rate(2480.4) == "2480" and fmt.rate(19.44) == "19.4"
    assert fmt.percent(1.0) == "100.0%"


def test_spark_scale_starts_at_zero_and_idle_draws_a_baseline():
    """Textual's Sparkline scaled min..max: an idle server (one value, or a flat line) drew full bars."""
    assert spark([0.0, 0.0, 0.0], 10) == SPARK_BARS[0] * 3
    assert spark([0.0], 10) == SPARK_BARS[0]
    assert spark([10.0, 5.0, 0.0, 0.1], 10) == "█▅▁▂"  # any traffic shows, the max is a full bar
    assert spark([1.0] * 100, 8) == "█" * 8  # only the last `width` values
    label = spark_label("p50", [59.3, 1750.0], [100.0, 160.0], 60, fmt.ms)
    assert label == "p50  now 1.75s  max 1.75s  last 1m00s"
    assert "no traffic" in spark_label("req/s", [], [], 60, fmt.rate)


def test_ready_server_fails_after_two_missed_probes_and_numbers_go_blank():
    """Bug 7: one missed probe is noise, two are a hung server; a failed scrape is '-', not 0.0."""
    book = ready_book(run("a"))
    book.record_probe("a", True, Scrape(t=0.0, count=0, buckets={0.01: 0.0, float("inf"): 0.0}))
    book.record_probe("a", True, Scrape(t=1.0, count=0, buckets={0.01: 0.0, float("inf"): 0.0}))
    entry = book.entries["a"]
    assert entry.cells(now=0)["rps"].text == "0.0"
    book.record_probe("a", False, None)
    assert entry.state == READY and entry.cells(now=0)["rps"].text == "-"
    book.record_probe("a", False, None)
    assert entry.state == FAILING
    assert entry.cells(now=0)["state"].tone == "error"
    book.record_probe("a", True, Scrape(t=4.0, count=8, buckets={0.01: 8.0, float("inf"): 8.0}))
    assert entry.state == READY and entry.cells(now=0)["rps"].text == "2.7"  # 8 requests over the 3 s gap


@pytest.mark.parametrize(
    ("code", "requested", "state", "label", "reported"),
    [
        (2, False, CRASHED, "crashed (exit 2)", True),
        (-signal.SIGKILL, False, CRASHED, "killed (SIGKILL)", True),
        (-signal.SIGKILL, True, CRASHED, "killed (SIGKILL)", False),  # stop timed out: still shown
        (0, False, STOPPED, "stopped", False),
        (-signal.SIGTERM, True, STOPPED, "stopped", False),  # the person's own SIGTERM
    ],
)
def test_exit_status_decides_crashed_or_stopped(code, requested, state, label, reported):
    """Bug 4: a crash looked like a clean stop.  The exit status may arrive a poll after the row
    left the registry (the server removes its entry, then exits 2)."""
    book = ready_book(run("a"))
    if requested:
        book.request_stop("a")
    assert book.update_runs([], now=5) == []  # gone, status not known yet: an ordinary stop
    assert book.entries["a"].state == STOPPED
    news = book.update_runs([], now=6, exits={"a": code})
    entry = book.entries["a"]
    assert (entry.state, entry.label, news == [entry]) == (state, label, reported)
    assert book.update_runs([], now=7, exits={"a": code}) == []  # told once
    assert entry.cells(now=8)["state"].tone == ("error" if state == CRASHED else "dim")


def test_entry_left_behind_by_a_dead_pid_is_a_crash():
    """A server started elsewhere: no exit status, but its registry entry outlived it."""
    book = ready_book(run("a"), run("b", pid=101))
    news = book.update_runs([run("b", pid=101)], now=5, dead=[run("a")])
    assert [e.id for e in news] == ["a"] and book.entries["a"].label == CRASHED
    assert book.entries["b"].state == READY


def test_restart_takes_the_old_row_and_the_cursor():
    """Bug 11: a restart added a row at the bottom and left the old one stopped."""
    book = ready_book(run("a"), run("b", pid=101), run("c", pid=102))
    book.request_stop("b")
    book.update_runs([run("a"), run("c", pid=102), run("b2", pid=103)], now=5)  # the poll saw b2 first
    book.add_started(run("b2", pid=103), replaces="b")
    assert list(book.entries) == ["a", "b2", "c"] and book.cursor == "b2"
    book.add_started(run("d", pid=104))
    assert list(book.entries) == ["a", "b2", "c", "d"] and book.cursor == "d"


def test_error_rate_above_zero_is_red():
    book = ready_book(run("a"))
    book.record_probe("a", True, Scrape(t=0.0, count=0, buckets={0.01: 0.0, float("inf"): 0.0}))
    book.record_probe("a", True, Scrape(t=1.0, count=0, buckets={0.01: 0.0, float("inf"): 0.0}))
    assert book.entries["a"].cells(now=0)["err"].tone is None  # no traffic: no colour
    book.record_probe("a", True, Scrape(t=2.0, count=10, errors=1, buckets={1.0: 0.0, **SLOW}))
    cells = book.entries["a"].cells(now=0)
    assert cells["err"] == cells["err"].__class__("10.0%", "error")
    assert cells["p50"].text == "1.75s"


def test_narrow_layout_drops_pid_and_shortens_the_target_first():
    """Bug 19: at 80 columns p50, p99 and errors went off screen behind a long target."""
    runs = [run("a", target="--model iris-classifier:20261101-120000-a1b2c3", pid=1234567)]
    book = ready_book(*runs)
    book.update_runs([], now=1, exits={"a": -signal.SIGKILL})  # the widest state label
    narrow = layout(80, book.entries.values())
    keys = [c.key for c in narrow]
    assert keys == ["target", "port", "state", "uptime", "rps", "p50", "p99", "err"]
    assert sum(c.width + 2 * CELL_PADDING for c in narrow) <= 80 - SCROLLBAR
    target = narrow[0].width
    assert 6 <= target < len("model iris-classifier:20261101-120000-a1b2c3")
    cells = book.entries["a"].row(narrow, now=0)
    assert cells[0].text.endswith("…") and len(cells[0].text) == target
    assert all(len(cell.text) <= column.width for cell, column in zip(cells, narrow, strict=True))
    wide = layout(130, book.entries.values())
    assert "pid" in [c.key for c in wide] and wide[0].width == len(
        "model iris-classifier:20261101-120000-a1b2c3"
    )


def test_crash_notice_names_the_error_line():
    lines = [
        "2026-12-02 04:37:51,689 ERROR bentotui.server: startup failed",
        "Traceback (most recent call last):",
        '  File "service.py", line 9, in boom',
        "ModuleNotFoundError: No module named 'fancylib'",
        "2026-12-02 04:37:51,945 INFO bentotui.server: Running on http://127.0.0.1:40451",
        "error: startup failed: ModuleNotFoundError: No module named 'fancylib'",
    ]
    assert last_error_line(lines) == "startup failed: ModuleNotFoundError: No module named 'fancylib'"
    assert last_error_line(lines[:4]) == "ModuleNotFoundError: No module named 'fancylib'"
    assert last_error_line(["INFO all fine"]) is None
    assert (
        crash_notice("svc killed (SIGKILL)", "/l.log", ["INFO all fine"])
        == "svc killed (SIGKILL) (log: /l.log)"
    )
