"""App-wide behaviour: areas, help, palette, theme, keymap from the config file, and the log view."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

from bentotui.tui.app import BentoApp
from bentotui.tui.screens.help import HelpScreen
from bentotui.tui.screens.logs import WINDOW, LogsScreen
from bentotui.tui.screens.models import ModelsScreen
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.servers import ServersScreen
from bentotui.tui.settings import load_settings
from tests.tui.conftest import SIZE, store_listed, wait_for


async def test_areas_help_and_theme(make_app):
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        for key, screen in (("2", ServersScreen), ("3", RequestsScreen), ("1", ModelsScreen)):
            await pilot.press(key)
            assert isinstance(app.screen, screen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)
        dark = app.theme
        await pilot.press("f2")
        assert app.theme != dark
        await pilot.press("f2")
        assert app.theme == dark


async def test_command_palette_switches_areas(make_app):
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Servers")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ServersScreen), what="palette command")


async def test_keymap_and_theme_from_config_file(bentotui_home: Path):
    (bentotui_home / "config.yaml").write_text("keymap:\n  app.servers: '9'\ntui:\n  theme: textual-light\n")
    app = BentoApp(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("9")
        assert isinstance(app.screen, ServersScreen)
        assert app.theme == "textual-light"
        await pilot.press("question_mark")
        assert "`9`" in app.screen.query_one("Markdown").source


async def test_broken_config_and_unknown_theme_still_start(bentotui_home: Path):
    (bentotui_home / "config.yaml").write_text("keymap: [oops\n")
    assert load_settings().error and "YAML" in load_settings().error
    app = BentoApp(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any(n.severity == "error" for n in app._notifications)
    (bentotui_home / "config.yaml").write_text("tui:\n  theme: no-such-theme\n")
    app = BentoApp(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"


async def test_log_view_tails_filters_finds_and_follows(make_app, tmp_path: Path):
    """A big log: only the newest window is loaded; filter, level, find and follow work on it."""
    log = tmp_path / "server.log"
    lines = [f"INFO request {i}" for i in range(WINDOW * 4)]
    lines[-10] = "ERROR runner crashed"
    lines[-5] = "WARNING slow batch"
    log.write_text("\n".join(lines) + "\n")
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        app.push_screen(LogsScreen(str(log), title="test"))
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.lines and app.screen
        )
        view = screen.query_one(Log)
        assert len(screen.lines) == WINDOW and view.lines[-1] == lines[-1]
        assert screen.follow

        await pilot.press("slash", *"crash", "enter")
        assert list(view.lines) == ["ERROR runner crashed"]
        await pilot.press("slash", "ctrl+u", "enter")  # empty filter: everything again
        assert len(view.lines) == WINDOW

        await pilot.press("v", "v")  # level >= WARNING
        assert list(view.lines) == ["ERROR runner crashed", "WARNING slow batch"]
        await pilot.press("v", "v")  # back to all
        assert screen.min_level is None

        await pilot.press("n")  # next error line; pauses follow
        assert not screen.follow and view.lines[screen.cursor] == "ERROR runner crashed"
        await pilot.press("ctrl+f", *"request 19", "enter")
        first = screen.cursor
        assert "request 19" in view.lines[first]
        await pilot.press("n")
        assert screen.cursor > first
        await pilot.press("N")
        assert screen.cursor == first

        await pilot.press("G")
        assert screen.follow
        with log.open("a") as f:
            f.write("INFO appended after open\n")
        await wait_for(pilot, lambda: view.lines[-1] == "INFO appended after open", what="followed line")
        await pilot.press("f")
        assert not screen.follow and "PAUSED" in screen.sub_title
        await pilot.press("escape")  # the first esc clears the find text, the second closes
        assert isinstance(app.screen, LogsScreen) and not screen.find_text
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)
