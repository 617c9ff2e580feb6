"""The task list of the Requests area: the picked server's ``@bentoml.task`` runs and their states.

A table of its own (rather than rows of the Requests screen) so that its keys, ``c`` to cancel,
``g`` to get the result and ``r`` to retry the highlighted task, are plain letters that work while it has the
focus and never reach the body editor; the footer shows them then.  The screen reads the records
(a worker) and answers the requests this table posts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from bentotui.tui.screens.servers import styled
from bentotui.tui.server_view import Cell
from bentotui.tui.task_view import TASK_COLUMNS, TaskRow


class TaskTable(DataTable[Text]):
    """Rows keyed by task id, updated in place so the cursor stays on its task as states change;
    only cells whose text or tone changed are rewritten (a refresh every second over 200 rows
    would otherwise cost the UI ~90 ms each time)."""

    BINDINGS = [
        Binding(
            "c", "act('cancel')", "Cancel task", id="tasks.cancel", tooltip="Cancel the highlighted task"
        ),
        Binding(
            "g", "act('get')", "Get result", id="tasks.result", tooltip="Show the highlighted task's result"
        ),
        Binding(
            "r", "act('retry')", "Retry", id="tasks.retry",
            tooltip="Run the highlighted finished task again, as a new task with the same input",
        ),
    ]

    @dataclass
    class Requested(Message):
        """``c``, ``g`` or ``r`` on a task: ``action`` is the task route (``cancel``, ``get``, ``retry``)."""

        action: str
        row: TaskRow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: dict[str, TaskRow] = {}
        self._cells: dict[str, tuple[Cell, ...]] = {}  # what each row shows now

    def on_mount(self) -> None:
        for column in TASK_COLUMNS:
            self.add_column(column.title, width=column.width, key=column.key)
        self.app.theme_changed_signal.subscribe(self, lambda _: self._restyle())

    def _restyle(self) -> None:
        """Every cell again in the new theme's colours (a refresh rewrites changed cells only)."""
        variables = self.app.theme_variables
        for task_id, row_cells in self._cells.items():
            for column, cell in zip(TASK_COLUMNS, row_cells, strict=True):
                self.update_cell(task_id, column.key, styled(cell, variables))

    @property
    def selected(self) -> TaskRow | None:
        if not self.is_valid_coordinate(self.cursor_coordinate):
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self.rows_shown.get(str(row_key.value))

    def show(self, rows: list[TaskRow], now: float) -> None:
        """Show ``rows``: cells updated in place while the same tasks are listed, else the rows
        rebuilt with the cursor kept on the task it was on."""
        variables = self.app.theme_variables
        wanted = self.selected
        shown = {row.task_id: row for row in rows}
        cells = {row.task_id: row.cells(now) for row in rows}
        if list(shown) == list(self.rows_shown):
            for task_id, row_cells in cells.items():
                for column, cell, old in zip(TASK_COLUMNS, row_cells, self._cells[task_id], strict=True):
                    if cell != old:
                        self.update_cell(task_id, column.key, styled(cell, variables))
        else:
            self.clear()
            for task_id, row_cells in cells.items():
                self.add_row(*(styled(cell, variables) for cell in row_cells), key=task_id)
        self.rows_shown, self._cells = shown, cells
        if wanted is not None and wanted.task_id in shown:
            self.move_cursor(row=self.get_row_index(wanted.task_id))
        self.refresh_bindings()  # the highlighted task's state may have changed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel is offered (not dimmed) for an unfinished task, the result and a retry for a
        finished one."""
        if action != "act":
            return super().check_action(action, parameters)
        row = self.selected
        if row is None or row.finished != (parameters in (("get",), ("retry",))):
            return None
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def action_act(self, action: str) -> None:
        if (row := self.selected) is not None:
            self.post_message(self.Requested(action, row))
