"""Snapshots of each main screen (layout only; behaviour is asserted in the Pilot tests).

Data is fixed (``snapshot_data``), the clock is frozen, pollers are off and the terminal size is
fixed.  Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the
SVG diffs; each test's docstring says what the screen should show.
"""

from __future__ import annotations

from pathlib import Path

from bentotui.tui.app import BentoApp
from bentotui.tui.messages import ApisLoaded, ResponseReceived, RunsListed, ServerProbed, StoreLoaded
from bentotui.tui.screens.dialogs import ConfirmDialog
from bentotui.tui.screens.logs import LogsScreen
from bentotui.tui.settings import TuiSettings
from tests.tui import snapshot_data as data

SIZE = (130, 36)


def make_app(theme: str = "textual-dark") -> BentoApp:
    return BentoApp(settings=TuiSettings(theme=theme), clock=data.clock, poll_interval=None)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    if isinstance(pilot.app.screen, ConfirmDialog):  # the empty test store's demo offer
        await pilot.press("escape")


async def show_store(pilot) -> None:
    await settle(pilot)
    pilot.app.screen.post_message(StoreLoaded(data.store_rows()))
    await pilot.pause()


async def show_servers(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.post_message(RunsListed(data.runs()))
    await pilot.pause()
    for scrape in data.scrapes(data.clock() - 10):
        app.post_message(ServerProbed("run-a", True, scrape))
    app.post_message(ServerProbed("run-b", False, None))
    await pilot.press("2")
    await pilot.pause()


def test_models_screen(snap_compare):
    """Models area: five rows (four models, one bento) newest first; the detail pane shows the
    selected bento's service and the model it packs; footer shows Filter/Sort/Serve/Delete/Export/Import."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_store)


def test_models_screen_filtered_light(snap_compare):
    """Light theme; the filter box reads 'stage=prod' and only iris-classifier:20261101… is listed."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("slash", *"stage=prod")

    assert snap_compare(make_app("textual-light"), terminal_size=SIZE, run_before=run_before)


def test_servers_screen(snap_compare):
    """Servers area: run-a ready with req/s, p50, p99 and 0.0% errors and three filled sparklines;
    run-b (a --model target) still starting with dashes for its traffic."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=show_servers)


def test_requests_screen(snap_compare):
    """Requests area: APIs /predict and /predict_proba, the body pre-filled with the iris example,
    two history entries, and the latest response (400 with its JSON error) shown in red."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("3")
        screen = pilot.app.screen
        screen.url = data.URL
        screen.post_message(ApisLoaded(data.URL, data.APIS))
        await pilot.pause()
        for entry in reversed(data.history()):
            screen.post_message(ResponseReceived(entry))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_logs_screen(snap_compare, tmp_path: Path):
    """Log view of a server: eight lines, the WARNING and the ERROR line highlighted, sub-title FOLLOW."""
    log = tmp_path / "run-a.log"
    log.write_text("\n".join(data.LOG_LINES) + "\n")

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.push_screen(LogsScreen(str(log), title="service:svc (run-a)"))
        for _ in range(20):
            await pilot.pause(0.05)
            if len(pilot.app.screen.lines) == len(data.LOG_LINES):
                break

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    """The ? help over the Models area: the guide and a table of the live key bindings."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_delete_confirm_dialog(snap_compare):
    """Pressing d on a model asks 'Delete model …? This cannot be undone.' with No focused."""

    async def run_before(pilot):
        await show_store(pilot)
        await pilot.press("d")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
