"""Models / Bentos: the store table with filter and sort, a detail pane, and the row verbs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from bentotui.exceptions import BentotuiError
from bentotui.tui import bridge
from bentotui.tui.messages import StoreLoaded, TaskDone
from bentotui.tui.screens.dialogs import ConfirmDialog, PromptDialog, for_tui
from bentotui.tui.store_view import (
    COLUMNS,
    StoreRow,
    detail_text,
    in_use,
    next_sort,
    store_stamp,
    used_by,
    visible_rows,
)

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: rows added before the first paint; the rest follow right after it, so 1,000 models paint fast
FIRST_ROWS = 80
#: an untrusted model's mark stands out: its pickled files will not load until it is trusted
UNTRUSTED_STYLE = "bold red"
#: how often the screen looks for store changes made elsewhere (another shell, the CLI) and
#: renews the detail pane's "… ago"; a look is one stat per item, a reload only on a change
STORE_POLL_S = 5.0
EMPTY_HINT = "no models yet: press i to import, or ctrl+p → Create demo models"
NO_MATCH_HINT = "nothing matches the filter (esc clears it)"
DEMO_HINT = "building the demo models (iris, text classifier)…\nthis takes 10 to 30 seconds"


@dataclass
class DemoBuilt(TaskDone):
    """The demo build ended, either way: the loading state ends with the listing it triggers."""


class ModelsScreen(Screen[None]):
    app: BentoApp  # the screen's App, typed (Textual's own annotation is App[Any])
    TITLE = "Models"
    AUTO_FOCUS = "#store-table"
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="models.filter",
            tooltip="Show only rows matching words (! inverts)",
        ),
        Binding("o", "sort", "Sort", id="models.sort", tooltip="Cycle the sort column (click a header too)"),
        Binding(
            "s", "serve", "Serve", id="models.serve", tooltip="Start a server for the selected model or bento"
        ),
        Binding("d", "delete", "Delete", id="models.delete", tooltip="Delete the selected item (asks first)"),
        Binding(
            "e", "export", "Export", id="models.export", tooltip="Export the selected model to an archive"
        ),
        Binding("i", "import", "Import", id="models.import", tooltip="Import a model archive"),
        Binding("enter", "open", "Open", id="models.open", show=False),
        Binding("ctrl+r", "reload", "Reload", id="models.reload", tooltip="Reload the store now"),
        Binding("escape", "back", "Back", id="models.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StoreRow] = []
        self.shown: list[StoreRow] = []
        self.query_text = ""
        self.sort_key, self.sort_reverse = "created", True
        self.loaded = False
        self.building_demo = False
        self._generation = 0
        #: the store folders' mtimes at the last listing (see ``store_stamp``)
        self._stamp: tuple[tuple[str, int], ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter: words, key=value labels, ! to invert", id="filter")
        with Horizontal():
            table: DataTable[Text] = DataTable(id="store-table", cursor_type="row", zebra_stripes=True)
            for key, title in COLUMNS:
                table.add_column(title, key=key)
            yield table
            with VerticalScroll(id="detail-pane"):
                yield Static("", id="detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        if self.app.poll_interval:  # tests and snapshots switch the pollers off to freeze the data
            self.set_interval(STORE_POLL_S, self.poll_store)

    # ---- loading -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="store-scan", exit_on_error=False)
    def reload(self) -> None:
        self._stamp = store_stamp(_store_roots())  # before the listing: a change during it shows next time
        try:
            self.post_message(StoreLoaded(bridge.load_store()))
        except BentotuiError as exc:
            self.post_message(StoreLoaded([], error=exc.message))

    def on_screen_resume(self) -> None:
        """Back on this screen (a mode switch, a closed dialog): catch up with the store."""
        if self.loaded:
            self.reload_if_changed()

    def poll_store(self) -> None:
        """The slow timer: renew the relative times and pick up changes made outside the TUI."""
        if self.is_current:
            self.show_detail()
            self.reload_if_changed()

    @work(thread=True, exclusive=True, group="store-stamp", exit_on_error=False)
    def reload_if_changed(self) -> None:
        if store_stamp(_store_roots()) != self._stamp:
            self.app.call_from_thread(self.reload)

    def on_store_loaded(self, message: StoreLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
        first, self.rows, self.loaded = not self.loaded, message.rows, True
        self.query_one(DataTable).loading = self.building_demo
        self.refresh_table()
        if first and not self.rows and message.error is None:
            self.app.push_screen(
                ConfirmDialog(
                    "The store is empty. Create the demo models (iris, text classifier)?",
                    yes="Create",
                    destructive=False,
                ),
                self._demo_answer,
            )

    def _demo_answer(self, yes: bool | None) -> None:
        if yes:
            self.create_demo()

    def create_demo(self) -> None:
        """Build the demo models in a ``bentotui demo`` subprocess; the table shows a loading
        indicator and the pane says what is happening until the models are listed (a toast
        would be gone long before a 10-30 s build ends)."""
        if self.building_demo:
            return
        self.building_demo = True
        self.query_one(DataTable).loading = True
        self.show_detail()
        self.run_task(bridge.create_demo_models, done=DemoBuilt)

    def on_demo_built(self, message: DemoBuilt) -> None:
        self.building_demo = False  # the table's loading indicator goes with the reload's listing
        self.on_task_done(message)

    def refresh_table(self) -> None:
        """Rebuild the rows from the view model, keeping the cursor on the same item."""
        table = self.query_one(DataTable)
        current = self.selected
        self.shown = visible_rows(self.rows, self.query_text, self.sort_key, self.sort_reverse)
        table.clear()
        self._generation += 1
        self._add_rows(0, FIRST_ROWS, current.key if current else None, self._generation)
        self.sub_title = f"{len(self.shown)} of {len(self.rows)} · sort: {self.sort_key}{' ↓' if self.sort_reverse else ' ↑'}"
        self.show_detail()

    def _add_rows(self, start: int, stop: int, keep: str | None, generation: int) -> None:
        """Add ``shown[start:stop]``; the first screenful paints at once, the rest right after it."""
        if generation != self._generation:  # a newer refresh has replaced these rows
            return
        table = self.query_one(DataTable)
        for row in self.shown[start:stop]:
            # Text cells: no markup parsing (a label like "[x]" stays literal), and cheaper to measure
            cells = [
                Text(cell, style=UNTRUSTED_STYLE if key == "trust" and cell == "untrusted" else "")
                for (key, _), cell in zip(COLUMNS, row.cells(), strict=True)
            ]
            table.add_row(*cells, key=row.key)
        if stop < len(self.shown):
            self.call_after_refresh(self._add_rows, stop, len(self.shown), keep, generation)
        elif keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))

    @property
    def selected(self) -> StoreRow | None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def show_detail(self) -> None:
        row = self.selected
        now = datetime.fromtimestamp(self.app.clock(), timezone.utc)
        self.query_one("#detail", Static).update(
            detail_text(row, used_by(self.rows), now) if row else self._hint()
        )

    def _hint(self) -> str:
        """What the pane says when no row is selected."""
        if self.building_demo:
            return DEMO_HINT
        return NO_MATCH_HINT if self.rows else EMPTY_HINT

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        """``enter`` on a row (the table's own binding, which the screen's never sees): open it."""
        self.action_open()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        self.sort_reverse = not self.sort_reverse if key == self.sort_key else key in ("size", "created")
        self.sort_key = key
        self.refresh_table()

    # ---- filter ---------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or self.query_text:
            box.value, self.query_text, box.display = "", "", False
            self.refresh_table()
        self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        self.sort_key = next_sort(self.sort_key)
        self.sort_reverse = self.sort_key in ("size", "created")
        self.refresh_table()

    def action_open(self) -> None:
        self.query_one("#detail-pane").focus()

    # ---- verbs ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("serve", "delete", "export") and self.is_mounted and self.selected is None:
            return None  # shown greyed out: nothing is selected
        return True

    def action_serve(self) -> None:
        row = self.selected
        if row is None:
            return
        target, model = (None, row.tag) if row.kind == "model" else (row.tag, None)
        self.app.start_server(target, model, 0)

    def action_delete(self) -> None:
        row = self.selected
        if row is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:

                def delete() -> str:
                    bridge.delete(row)
                    return f"deleted {row.kind} {row.tag}"

                self.run_task(delete)

        self.app.push_screen(ConfirmDialog(self._delete_question(row), yes="Delete"), answer)

    def _delete_question(self, row: StoreRow) -> str:
        """The confirm text, naming the bentos and running servers that still need ``row``."""
        servers = [bridge.split_target(str(entry.run.target)) for entry in self.app.book.live()]
        users = in_use(row, self.rows, servers)
        warning = f"\nIt is {users}." if users else ""
        return f"Delete {row.kind} {row.tag}?{warning}\nThis cannot be undone."

    def action_export(self) -> None:
        row = self.selected
        if row is None:
            return

        def answer(path: str | None) -> None:
            if path:
                self.run_task(lambda: f"exported {row.tag} to {bridge.export(row, path)}")

        self.app.push_screen(
            PromptDialog(f"Export {row.tag} to:", f"{row.name}-{row.version}.bentomodel"), answer
        )

    def action_import(self) -> None:
        def answer(path: str | None) -> None:
            if path:
                self.run_task(lambda: f"imported {bridge.import_model(path)}")

        self.app.push_screen(
            PromptDialog("Import a model archive:", placeholder="path/to/model.bentomodel"), answer
        )

    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, group="store-task", exit_on_error=False)
    def run_task(self, task: Callable[[], str], done: type[TaskDone] = TaskDone) -> None:
        """Run a blocking store operation; report its outcome (as a ``done``) and reload the table."""
        try:
            text = task()
        except BentotuiError as exc:
            self.post_message(done(for_tui(exc.message), error=True, refresh_store=True))
            return
        self.post_message(done(str(text), refresh_store=True))

    def on_task_done(self, message: TaskDone) -> None:
        """The one place a store task is reported: stopped here, so the App (which reports the
        server tasks) does not toast it a second time."""
        message.stop()
        self.notify(message.text, severity="error" if message.error else "information")
        if message.refresh_store:
            self.reload()


def _store_roots() -> list[Path]:
    """The model and bento store folders, watched for changes made by other processes."""
    from bentotui import paths

    return [paths.models_dir(), paths.bentos_dir()]
