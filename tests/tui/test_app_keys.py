"""App-wide keys and exits, with Pilot: keymap problems are reported, help groups this screen's
keys before the global ones, the palette lists each entry once, and quitting says which servers
keep running."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Markdown

from bentotui.runs import RunInfo
from bentotui.tui.app import BentoApp
from bentotui.tui.commands import still_running
from bentotui.tui.screens.help import HelpScreen
from bentotui.tui.screens.models import ModelsScreen
from bentotui.tui.settings import TuiSettings, keymap_warnings
from tests.tui.conftest import SIZE, store_listed


def warnings(app: BentoApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


async def test_a_keymap_clash_and_an_unknown_id_are_reported(bentotui_home: Path):
    """Before: ``app.servers: "1"`` silently left Models without a key, and ``app.nothing`` did nothing."""
    (bentotui_home / "config.yaml").write_text("keymap:\n  app.servers: '1'\n  app.nothing: x\n")
    app = BentoApp(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        found = warnings(app)
        assert any("app.models" in w and "app.servers" in w for w in found), found
        assert any("unknown binding id 'app.nothing'" in w for w in found), found


def test_a_good_keymap_gives_no_warning():
    assert keymap_warnings({"app.servers": "9", "requests.send": "ctrl+s,f5"}, BentoApp) == []
    # a screen key is also checked against the app's: "?" would hide help on Models
    [clash] = keymap_warnings({"models.reload": "?"}, BentoApp)
    assert "app.help" in clash and "models.reload" in clash


async def test_help_lists_this_screens_keys_before_the_global_ones(make_app):
    """Before: one table sorted by action name, global and Models keys mixed."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        source = app.screen.query_one(Markdown).source
        local, everywhere = source.index("## This screen"), source.index("## Everywhere")
        assert local < source.index("| Filter |") < everywhere < source.index("| Models |")
        # in the footer's order: filter before sort, not alphabetical
        assert source.index("| Filter |") < source.index("| Sort |") < source.index("| Serve |")


async def test_the_palette_lists_each_entry_once(make_app):
    """Before: two "Quit" entries and two theme entries (Textual's and the app's)."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)), titles
        assert sum("heme" in t for t in titles) == 1 and "Quit" in titles


async def test_quitting_says_how_many_servers_keep_running(make_app, capsys):
    """Before: ctrl+q left without a word while the TUI's servers kept running."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        assert isinstance(app.screen, ModelsScreen)
        run = RunInfo("run-a", os.getpid(), "127.0.0.1", 3001, "service:svc", "a.log", "", ".")
        app.book.update_runs([run], app.clock())
        await pilot.press("ctrl+q")
    assert "1 server still running (bentotui runs list)" in capsys.readouterr().err


async def test_quitting_with_no_server_prints_nothing(make_app, capsys):
    app = make_app(settings=TuiSettings(), poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("ctrl+q")
    assert "still running" not in capsys.readouterr().err
    assert still_running(3) == "3 servers still running (bentotui runs list)"
