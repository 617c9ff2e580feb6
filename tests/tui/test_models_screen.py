"""Models area, driven with Pilot against the real store: enter opens the detail pane, a store
task is reported once, the table follows changes made outside the TUI, and delete names who
still uses a model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

import bentotui
from bentotui.runs import RunInfo
from bentotui.tui.screens.dialogs import ConfirmDialog
from bentotui.tui.screens.models import ModelsScreen
from tests.bento.conftest import iris_bento, iris_project
from tests.tui.conftest import SIZE, wait_for

#: the bento fixtures come from tests/bento/conftest.py
__all__ = ["iris_bento", "iris_project"]


async def loaded(pilot) -> ModelsScreen:
    return await wait_for(
        pilot,
        lambda: pilot.app.screen if getattr(pilot.app.screen, "loaded", False) else None,
        what="store listing",
    )


def detail(screen: ModelsScreen) -> str:
    return str(screen.query_one("#detail", Static).render())


def notices(app, text: str) -> list[str]:
    return [n.message for n in app._notifications if text in n.message]


async def test_enter_focuses_the_detail_pane_and_down_scrolls_it(make_app, iris_model, iris_lr):
    """Before: the table's own enter binding took the key, so the pane never got focus and
    down moved the table cursor to the second row."""
    bentotui.sklearn.save_model("flowers", iris_lr)
    app = make_app(poll_interval=None)
    async with app.run_test(size=(130, 16)) as pilot:  # short, so the detail overflows its pane
        screen = await loaded(pilot)
        table = screen.query_one(DataTable)
        assert table.has_focus and table.cursor_row == 0
        await pilot.press("enter")
        pane = screen.query_one("#detail-pane")
        assert pane.has_focus
        await pilot.press("down")
        assert table.cursor_row == 0 and pane.scroll_y > 0
        await pilot.press("escape")
        assert table.has_focus


async def test_an_export_is_reported_once(make_app, iris_model, tmp_path: Path):
    """Before: the screen and the App both handled TaskDone (it bubbled): two toasts, two reloads."""
    archive = tmp_path / "iris.bentomodel"
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        app.screen.query_one(Input).value = str(archive)
        await pilot.press("enter")
        await wait_for(pilot, lambda: notices(app, "exported"), what="export notice")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(notices(app, "exported")) == 1


async def test_a_conflict_names_no_cli_flag(make_app, iris_model, tmp_path: Path):
    """Before: "… already exists (use --force to overwrite it)", a flag the TUI has no control for."""
    archive = tmp_path / "iris.bentomodel"
    archive.write_bytes(b"already here")
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        app.screen.query_one(Input).value = str(archive)
        await pilot.press("enter")
        [text] = await wait_for(pilot, lambda: notices(app, "already exists"), what="conflict notice")
        assert "--force" not in text and "choose another path" in text


async def test_a_model_saved_elsewhere_shows_when_the_screen_comes_back(make_app, iris_model, iris_lr):
    """Before: only ctrl+r reloaded the store; coming back to Models showed the old listing."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        other = bentotui.sklearn.save_model("flowers", iris_lr)  # as from another shell
        await pilot.press("2", "1")
        await wait_for(
            pilot, lambda: str(other.tag) in [r.tag for r in screen.rows], what="model saved elsewhere"
        )


async def test_the_store_poll_reloads_on_change_and_renews_the_age(make_app, iris_model, iris_lr):
    """Before: no timer at all; "created (… ago)" stayed frozen until the cursor moved."""
    now = [iris_model.info.creation_time.timestamp() + 5]
    app = make_app(poll_interval=None, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert "(5s ago)" in detail(screen)
        now[0] += 120
        screen.poll_store()
        assert "(2m05s ago)" in detail(screen)

        other = bentotui.sklearn.save_model("flowers", iris_lr)
        screen.poll_store()
        await wait_for(pilot, lambda: str(other.tag) in [r.tag for r in screen.rows], what="polled model")


async def test_the_footer_offers_reload(make_app, iris_model):
    """Before: ctrl+r was hidden (show=False), so nobody knew the table could be reloaded."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        shown = {a.binding.action for a in screen.active_bindings.values() if a.binding.show}
        assert "reload" in shown


async def test_deleting_a_model_in_use_names_its_bento_and_servers(make_app, iris_model, iris_bento):
    """Before: the plain "Delete model …? This cannot be undone." for a model still in use."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        # two live servers as the registry lists them: one for the model, one for the bento
        runs = [
            RunInfo("run-m", os.getpid(), "127.0.0.1", 3001, "--model iris:latest", "m.log", "", "."),
            RunInfo("run-b", os.getpid(), "127.0.0.1", 3002, str(iris_bento.tag), "b.log", "", "."),
            RunInfo("run-x", os.getpid(), "127.0.0.1", 3003, "--model other:latest", "x.log", "", "."),
        ]
        app.book.update_runs(runs, app.clock())
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(f"model/{iris_model.tag}"))
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        assert f"used by bento {iris_bento.tag} and 2 running servers" in app.screen.question
        await pilot.press("escape")

        table.move_cursor(row=table.get_row_index(f"bento/{iris_bento.tag}"))
        await pilot.press("d")
        assert "used by 1 running server." in app.screen.question


@pytest.mark.slow
async def test_the_palettes_demo_build_shows_on_the_models_screen(make_app, iris_model):
    """Before: the palette's build ran in the App with a 5 s toast as its only trace."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("2")
        app.create_demo()  # what the palette's "Create demo models" calls
        assert app.screen is screen and screen.query_one(DataTable).loading
        await wait_for(
            pilot,
            lambda: {r.name for r in screen.rows} >= {"iris-classifier", "text-classifier"},
            timeout=240,
        )
        assert not screen.query_one(DataTable).loading
