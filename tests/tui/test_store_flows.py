"""Models/Bentos area against the real store: table, filter, sort, detail, delete, export, import."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Label, Static

import bentotui
from bentotui.tui.screens.dialogs import ConfirmDialog, PromptDialog
from bentotui.tui.screens.models import ModelsScreen
from tests.tui.conftest import SIZE, store_listed, wait_for


def dialog_hint(app) -> str:
    return str(app.screen.query_one("#hint", Label).render())


def table_tags(app) -> list[str]:
    return [row.tag for row in app.screen.shown]


async def loaded(pilot) -> ModelsScreen:
    screen = await wait_for(
        pilot,
        lambda: pilot.app.screen if getattr(pilot.app.screen, "loaded", False) else None,
        what="store listing",
    )
    return screen


async def test_table_filter_sort_and_detail(make_app, iris_model, iris_lr):
    other = bentotui.sklearn.save_model("flowers", iris_lr, labels={"stage": "prod"})
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert sorted(table_tags(app)) == sorted([str(iris_model.tag), str(other.tag)])
        assert app.screen.query_one(DataTable).row_count == 2
        # detail pane follows the cursor and shows signatures and files
        detail = str(screen.query_one("#detail", Static).render())
        assert "signatures" in detail and "predict" in detail and "files (" in detail

        await pilot.press("slash", *"stage=prod")
        assert screen.query_one("#filter", Input).has_focus
        assert table_tags(app) == [str(other.tag)]
        await pilot.press("enter")
        assert screen.query_one(DataTable).has_focus
        await pilot.press("escape")  # clears the filter
        assert len(table_tags(app)) == 2 and not screen.query_one("#filter", Input).display

        await pilot.press("slash", "exclamation_mark", *"flowers", "enter")
        assert table_tags(app) == [str(iris_model.tag)]
        await pilot.press("escape")

        sort_before = screen.sort_key
        await pilot.press("o")
        assert screen.sort_key != sort_before and "sort:" in str(screen.sub_title)
        await pilot.click("#store-table", offset=(10, 0))  # header click sorts by that column
        await pilot.pause()
        assert screen.sort_key in ("kind", "name")


async def test_delete_asks_first_and_esc_keeps_the_model(make_app, iris_model):
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        # destructive: starts on No (enter keeps the model), says which keys answer
        assert app.screen.query_one("#no", Button).has_focus
        assert app.screen.query_one("#yes", Button).variant == "error"
        assert dialog_hint(app) == "y  delete    esc  cancel"
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)
        assert [str(m.tag) for m in bentotui.models.list()] == [str(iris_model.tag)]

        await pilot.press("d", "y")
        await wait_for(pilot, lambda: not bentotui.models.list(), what="delete")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ModelsScreen) and not app.screen.rows, what="reload"
        )
        assert not isinstance(app.screen, ConfirmDialog)  # the demo offer is for the first listing only


async def test_export_then_import(make_app, iris_model, tmp_path: Path):
    archive = tmp_path / "iris.bentomodel"
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, PromptDialog)
        box = app.screen.query_one(Input)
        box.value = str(archive)
        await pilot.press("enter")
        await wait_for(pilot, archive.exists, what="export")

        bentotui.models.delete(str(iris_model.tag))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.screen.rows, what="reload after delete")
        await pilot.press("i")
        app.screen.query_one(Input).value = str(archive)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: [r.tag for r in getattr(app.screen, "rows", [])] == [str(iris_model.tag)],
            what="import",
        )
        # an import is untrusted: the table's trust cell is marked, the detail pane says how to trust it
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        cell = table.get_cell(f"model/{iris_model.tag}", "trust")
        assert str(cell) == "untrusted" and "red" in str(cell.style)
        detail = str(app.screen.query_one("#detail", Static).render())
        assert f"trust      untrusted: imported from {archive.name}" in detail
        assert f"bentotui models trust {iris_model.tag}" in detail


async def test_import_of_a_bad_archive_is_an_error_notice(make_app, tmp_path: Path):
    bad = tmp_path / "junk.bentomodel"
    bad.write_bytes(b"not an archive")
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("i")
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: any(n.severity == "error" for n in app._notifications), what="error notice"
        )
        assert bentotui.models.list() == []


async def test_empty_store_offers_demo_models(make_app):
    """Before: the offer started on No, drew Create as a red error button and showed no keys."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="demo offer")
        assert "demo models" in app.screen.question
        create = app.screen.query_one("#yes", Button)
        assert create.has_focus and create.variant == "primary"
        assert dialog_hint(app) == "y  create    esc  cancel"
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)
        assert "ctrl+p" in str(app.screen.query_one("#detail", Static).render())  # the way back to the offer


@pytest.mark.slow
async def test_accepting_the_demo_offer_fills_the_store(make_app):
    """The first run on an empty store builds the demo models in a `bentotui demo` subprocess;
    enter accepts, the table shows a loading indicator until the models are listed (before: enter
    declined, and a 5 s toast was the only sign of a 10-30 s build), and the build toasts once."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="demo offer")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ModelsScreen) and screen.query_one(DataTable).loading
        assert "building the demo models" in str(screen.query_one("#detail", Static).render())
        await wait_for(
            pilot,
            lambda: {r.name for r in screen.rows} >= {"iris-classifier", "text-classifier"},
            timeout=240,
            what="demo models listed",
        )
        assert not screen.query_one(DataTable).loading
        assert [n.message for n in app._notifications].count("demo models created") == 1


async def test_palette_offers_the_verbs_of_the_screen(make_app, iris_model):
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Serve selected", "Delete selected", "Export selected", "Start server"} <= set(titles)
        await pilot.press("ctrl+p", *"Delete selected")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="confirm from the palette")
        await pilot.press("escape")
        assert [str(m.tag) for m in bentotui.models.list()] == [str(iris_model.tag)]
