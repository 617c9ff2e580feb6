"""Fixtures for driving the real app with Pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psutil
import pytest

from bentotui.tui.app import BentoApp
from bentotui.tui.settings import TuiSettings

SIZE = (130, 40)


@pytest.fixture
def make_app() -> Callable[..., BentoApp]:
    """The app as the CLI builds it, with settings passed in (no config file unless a test writes one)."""

    def build(**kw) -> BentoApp:
        kw.setdefault("settings", TuiSettings())
        return BentoApp(**kw)

    return build


async def wait_for(pilot, predicate: Callable[[], object], timeout: float = 60.0, what: str = "condition"):
    """Let the app run until ``predicate()`` is truthy; bounded, so a broken flow fails, not hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    notes = [n.message for n in pilot.app._notifications]
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}; screen {pilot.app.screen!r}, notices {notes}"
    )


@pytest.fixture
def stop_started_runs():
    """Stops (by pid, through the registry) every server a test's app started."""
    yield
    from bentotui import runs

    for run in runs.list_runs():
        if psutil.pid_exists(run.pid):
            runs.stop_run(run.id, timeout=10)


async def store_listed(pilot) -> None:
    """Wait for the first store listing; decline the demo offer an empty store brings up."""
    from bentotui.tui.screens.dialogs import ConfirmDialog

    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, ConfirmDialog) or getattr(app.screen, "loaded", False),
        what="first store listing",
    )
    if isinstance(app.screen, ConfirmDialog):
        await pilot.press("escape")
