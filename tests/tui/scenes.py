"""Fixed TUI scenes: the app fed with ``snapshot_data`` (frozen clock, pollers off), one function
per screen.  The snapshot tests compare them; ``scripts/tui_screenshots.py`` saves them as the
screenshots of docs/tui.md, so the pictures show what the tests check."""

from __future__ import annotations

from pathlib import Path

from bentotui.tui.app import BentoApp
from bentotui.tui.messages import (
    ApisLoaded,
    ResponseReceived,
    RunnersFetched,
    RunsListed,
    ServerProbed,
    StoreLoaded,
    TasksLoaded,
)
from bentotui.tui.screens.batching import BatchingScreen
from bentotui.tui.screens.dialogs import ConfirmDialog
from bentotui.tui.screens.logs import LogsScreen
from bentotui.tui.settings import TuiSettings
from tests.tui import snapshot_data as data


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


async def show_requests(pilot) -> None:
    await settle(pilot)
    await pilot.press("3")
    screen = pilot.app.screen
    screen.url = data.URL
    screen.post_message(ApisLoaded(data.URL, data.APIS))
    await pilot.pause()
    for entry in reversed(data.history()):
        screen.post_message(ResponseReceived(entry))
    await pilot.pause()


async def show_stream(pilot) -> None:
    """Requests on a streaming API after its stream finished (the entry a stream's end records)."""
    await settle(pilot)
    await pilot.press("3")
    screen = pilot.app.screen
    screen.url = data.URL
    screen.post_message(ApisLoaded(data.URL, [data.STREAM_API, *data.APIS]))
    await pilot.pause()
    screen.post_message(ResponseReceived(data.stream_entry()))
    await pilot.pause()


async def show_tasks(pilot) -> None:
    """Requests on a task service with its task list focused, the cursor on the newest (queued) task."""
    await settle(pilot)
    await pilot.press("3")
    screen = pilot.app.screen
    screen.url, screen.task_service = data.URL, data.TASK_SERVICE
    screen.post_message(ApisLoaded(data.URL, data.TASK_APIS))
    screen.post_message(TasksLoaded(data.TASK_SERVICE, data.tasks()))
    await pilot.pause()
    await pilot.press("ctrl+o")
    await pilot.pause()


async def show_batching(pilot) -> None:
    """The batching panel of run-a after three polls of its ``/runners.json``."""
    await show_servers(pilot)
    screen = BatchingScreen(data.URL, "service:svc (run-a)")
    pilot.app.push_screen(screen)
    await pilot.pause()
    for body in data.runners_bodies():  # one at a time: a newer poll replaces one still queued
        screen.post_message(RunnersFetched(data.URL, body))
        await pilot.pause()


async def show_predictions(pilot) -> None:
    """The Predictions area over ``data.write_monitor``'s prediction log."""
    from bentotui import paths

    await settle(pilot)
    data.write_monitor(paths.home() / "monitoring")
    await pilot.press("4")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def show_log(pilot, folder: Path) -> None:
    """The log view over ``data.LOG_LINES``, written to ``folder/run-a.log``."""
    log = folder / "run-a.log"
    log.write_text("\n".join(data.LOG_LINES) + "\n")
    await settle(pilot)
    pilot.app.push_screen(LogsScreen(str(log), title="service:svc (run-a)"))
    for _ in range(20):
        await pilot.pause(0.05)
        if len(pilot.app.screen.lines) == len(data.LOG_LINES):
            break
