"""Snapshots of each main screen (layout only; behaviour is asserted in the Pilot tests).

Data is fixed (``snapshot_data``), the clock is frozen, pollers are off and the terminal size is
fixed.  Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the
SVG diffs; each test's docstring says what the screen should show.
"""

from __future__ import annotations

from pathlib import Path

from tests.tui.scenes import (
    make_app,
    show_batching,
    show_log,
    show_predictions,
    show_requests,
    show_servers,
    show_store,
    show_stream,
    show_tasks,
)

SIZE = (130, 36)


def test_models_screen(snap_compare):
    """Models area: five rows (four models, one bento) newest first; the bento's framework cell is
    blank; the detail pane shows the selected bento's service (no "framework" line) and the model it
    packs; footer shows Filter/Sort/Serve/Delete/Export/Import and ^r Reload."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_store)


def test_models_screen_filtered_light(snap_compare):
    """Light theme; the filter box reads 'stage=prod' and only iris-classifier:20261101… is listed."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("slash", *"stage=prod")

    assert snap_compare(make_app("textual-light"), terminal_size=SIZE, run_before=run_before)


def test_servers_screen(snap_compare):
    """Servers area: run-a ready (green) with req/s 15.0, p50 2.7ms, p99 44.0ms and 0.0% errors, every
    number with its unit and uncut; run-b ('model iris-classifier:latest') starting (yellow) with dashes;
    three one-line sparklines scaled 0..max, each labelled 'now … max … last 8s'."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_servers)


def test_batching_panel(snap_compare):
    """Batching panel of run-a ('Batching: service:svc (run-a)'): the API process line (dim); runner
    iris_clf with 2 worker slots, each 'pid … up · 1 in flight · 0 restarts' with a CPU sparkline
    rising to 88%/92% and an RSS one at 156/155 MiB; method predict (bold accent) with 'cost line:
    fixed 1.80ms + 0.420ms/row; a full batch (64 rows) ≈ 28.7ms', seven bins 1 … 64 with bars,
    queue wait and run quantiles, and 'refused: 7 (2 expired, 5 overloaded)' in red above the two
    refusals, newest first: '7s ago … would take about 586 ms, over max_latency_ms=200' and
    '42s ago ×2 … waited over max_latency_ms=200' in the warning colour."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_batching)


def test_predictions_screen(snap_compare):
    """Predictions area: monitor 'iris_classifier_prod' (with its size) on the left; a table with
    columns timestamp, request_id, sepal_len, petal_len, pred, proba and 8 rows newest first
    (11-28 05:33:17 ... 05:30:10), merged from two processes' files; the sub-title reads
    'iris_classifier_prod: 8 of 8 newest records · following'; footer with '/ Filter' and 'f Follow'."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_predictions)


def test_requests_screen(snap_compare):
    """Requests area: the full-width line 'http://127.0.0.1:3000 ▸ POST /predict' under the header;
    APIs /predict and /predict_proba, the content type beside an empty headers field (placeholder
    'headers: Name: value; Other: value'), the body pre-filled with the iris example, two history
    entries, the latest response (400 with its JSON error) shown in red; footer '^s Send'."""

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_requests)


def test_requests_finished_stream(snap_compare):
    """Requests area after a streaming API's stream ended: APIs /generate (picked), /predict and
    /predict_proba; the status line (green) reads '200 OK · stream done · TTFT 84.2ms · 29 chunks ·
    25.0 chunks/s · 120 B · 1.21s'; below it a bordered view titled 'stream · text/plain' holds the
    whole story, soft-wrapped ('Once upon a time, … showed each as it came.'); one history entry
    'POST /generate  200 TTFT 84.2ms / 1.21s'; the footer shows '^t Stop' dimmed next to '^s Send'
    (nothing is streaming)."""

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_stream)


def test_requests_task_list(snap_compare):
    """Requests area on the 'jobs' service: under the response pane a table titled 'tasks · jobs · 5'
    with columns id, task, state, created, finished, took, newest first: 5d0f3a1c summarize pending
    (under the cursor), 9be27c44 slow in_progress (warning yellow, took 12.0s, finished '-'),
    c41a90d2 summarize completed (green, 100ms), e7f01b5a slow canceled (dim, 59.0s), 0a6b2e93
    summarize failed (red, 200ms, created '11-01 13:58:20'); created and finished are UTC times
    to the second; ids dim; the footer starts with
    'c Cancel task', then 'g Get result' and 'r Retry' dimmed (a queued task has no result yet, nor
    anything to retry) and has '^o Tasks'."""

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_tasks)


def test_logs_screen(snap_compare, tmp_path: Path):
    """Log view of a server, sub-title FOLLOW: timestamps dim; the 400 access line and the WARNING
    line in the theme's warning colour; the ERROR line, its whole traceback (down to 'ValueError:
    asked to fail') and the 500 access line in its error colour; the 1250.00ms latency bold and
    underlined; the other lines plain."""

    async def run_before(pilot):
        await show_log(pilot, tmp_path)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    """The ? help over the Models area: the guide, then "This screen" with the Models keys in the
    footer's order (Filter, Sort, Serve, Delete, Export, Import, Reload, Back); the "Everywhere"
    table follows below the fold."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_delete_confirm_dialog(snap_compare):
    """Pressing d on the selected bento asks 'Delete bento …?' / 'This cannot be undone.', says
    'y  delete    esc  cancel', and draws Delete in red with No focused."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("d")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
