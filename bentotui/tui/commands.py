"""Command palette (``ctrl+p``): the main actions, offered only where they apply, and quitting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: Textual's own entries that the app replaces: its Quit would leave without saying which
#: servers keep running.  (Its "Theme" picker stays; the app adds no theme entry of its own.)
REPLACED = {"Quit"}


def commands(
    app: BentoApp, screen: Screen[object], builtin: Iterable[SystemCommand]
) -> Iterable[SystemCommand]:
    """Textual's ``builtin`` entries (less those the app replaces), then the app's: each title once."""
    yield from (command for command in builtin if command.title not in REPLACED)
    yield SystemCommand("Models", "Browse the model and bento store (1)", lambda: app.switch_mode("models"))
    yield SystemCommand(
        "Servers", "Running servers, their health and latency (2)", lambda: app.switch_mode("servers")
    )
    yield SystemCommand(
        "Requests", "Send a test request to a server (3)", lambda: app.switch_mode("requests")
    )
    yield SystemCommand(
        "Predictions", "Prediction logs written by bentoml.monitor (4)", lambda: app.switch_mode("predictions")
    )
    yield SystemCommand("Start server", "Serve a service file, bento or model", app.action_start_dialog)
    yield SystemCommand(
        "Create demo models", "Save the iris and text classifiers into the store", app.create_demo
    )
    yield SystemCommand("Help", "The keys that work on this screen (?)", app.action_help)
    for name, verb in (
        ("serve", "Serve selected"),
        ("delete", "Delete selected"),
        ("export", "Export selected"),
        ("import", "Import a model archive"),
        ("logs", "Logs of selected server"),
        ("restart", "Restart selected server"),
        ("start_stop", "Start/stop selected server"),
    ):
        if hasattr(screen, f"action_{name}") and screen.check_action(name, ()):
            yield SystemCommand(verb, f"{screen.title}: {verb.lower()}", getattr(screen, f"action_{name}"))
    yield SystemCommand("Quit", "Leave the TUI (servers keep running)", lambda: quit_app(app))


def quit_app(app: BentoApp) -> None:
    """Leave the TUI; the servers it knows keep running, so say how many and where to find them."""
    app.exit(message=still_running(len(app.book.live())))


def still_running(count: int) -> str | None:
    """The line printed after the TUI closes, or None when no server outlives it."""
    if not count:
        return None
    return f"{count} server{'s' if count > 1 else ''} still running (bentotui runs list)"
