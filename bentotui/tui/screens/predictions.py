"""Predictions: the prediction logs ``bentoml.monitor`` writes, newest first, live and filtered.

The fourth area (``4``).  The monitors under ``$BENTOTUI_HOME/monitoring`` are listed on the left
(most recently written first); the highlighted one's newest records fill the table, one column per
schema column, re-read every poll while following (``f``).  ``/`` filters (``field=value``,
``field>N``, a bare word: :mod:`bentotui.tui.monitor_view`), ``enter`` on a row shows the whole
record.  The files are read in a worker thread, the tail of each only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from bentotui import paths
from bentotui.tui import fmt
from bentotui.tui.messages import PredictionsLoaded
from bentotui.tui.monitor_view import MonitorInfo, cell, list_monitors, matches, parse_filter, read_records

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

CELL_WIDTH = 24  # a column shows this much of a value; enter shows the whole record


class PredictionsScreen(Screen[None]):
    app: BentoApp
    TITLE = "Predictions"
    AUTO_FOCUS = "#records"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="predictions.filter", tooltip="Filter: field=value field>N word"),
        Binding("f", "follow", "Follow", id="predictions.follow", tooltip="Pause / resume reading new records"),
        Binding("ctrl+r", "reload", "Reload", id="predictions.reload", show=False),
        Binding("escape", "leave_filter", "Back", id="predictions.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.monitors: list[MonitorInfo] = []
        self.monitor: str | None = None
        self.records: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.follow = True
        self._columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="monitor-side"):
                yield Label("monitors", classes="section")
                yield OptionList(id="monitors")
            with Vertical(id="monitor-main"):
                yield Input(placeholder="filter: field=value  field>0.5  word  (enter applies, esc leaves)",
                            id="monitor-filter")
                yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
                yield Static("", id="record-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # the first read comes from on_screen_resume, which also runs when the area first shows
        if self.app.poll_interval:
            self.set_interval(self.app.poll_interval, self._poll)

    def on_screen_resume(self) -> None:
        self.reload()

    def _poll(self) -> None:
        if self.follow:
            self.reload()

    @work(thread=True, exclusive=True, group="predictions", exit_on_error=False)
    def reload(self) -> None:
        monitors = list_monitors(paths.home() / "monitoring")
        name = self.monitor if any(m.name == self.monitor for m in monitors) else (monitors[0].name if monitors else None)
        chosen = next((m for m in monitors if m.name == name), None)
        records = read_records(chosen) if chosen is not None else []
        self.post_message(PredictionsLoaded(monitors, name, records))

    def on_predictions_loaded(self, message: PredictionsLoaded) -> None:
        current = self.monitor
        if current is not None and message.monitor != current and any(m.name == current for m in message.monitors):
            return  # read for a monitor the person has since left (its own read is on the way)
        self.monitors, self.monitor, self.records = message.monitors, message.monitor, message.records
        self._show_monitors()
        self._show_records()

    def _show_monitors(self) -> None:
        options = self.query_one("#monitors", OptionList)
        wanted = [
            Option(f"{m.name}  {fmt.size(m.size)}", id=m.name) for m in self.monitors
        ]
        if [o.id for o in wanted] != [options.get_option_at_index(i).id for i in range(options.option_count)]:
            with self.prevent(OptionList.OptionHighlighted):
                options.clear_options()
                options.add_options(wanted)
                if self.monitor is not None:
                    options.highlighted = next(i for i, m in enumerate(self.monitors) if m.name == self.monitor)
        self.sub_title = self._status()

    def _status(self) -> str:
        if not self.monitors:
            return "no prediction logs yet: bentoml.monitor(...) in an API writes them"
        pace = "following" if self.follow else "paused"
        return f"{self.monitor}: {len(self.shown)} of {len(self.records)} newest records · {pace}"

    def _show_records(self) -> None:
        table = self.query_one("#records", DataTable)
        monitor = next((m for m in self.monitors if m.name == self.monitor), None)
        columns = monitor.columns if monitor is not None else ()
        terms = parse_filter(self.query_one("#monitor-filter", Input).value)
        self.shown = [r for r in self.records if matches(r, terms)]
        if columns != self._columns:
            table.clear(columns=True)
            for column in columns:
                table.add_column(column, key=column)
            self._columns = columns
        else:
            table.clear()
        for record in self.shown:
            table.add_row(*(Text(self._cell(column, record.get(column)), no_wrap=True) for column in columns))
        self.sub_title = self._status()

    @staticmethod
    def _cell(column: str, value: Any) -> str:
        text = cell(value)
        if column == "timestamp" and len(text) >= 19:
            text = text[5:19].replace("T", " ")  # MM-DD HH:MM:SS (UTC, as written)
        return fmt.truncate(text, CELL_WIDTH)

    @on(OptionList.OptionHighlighted, "#monitors")
    def _monitor_picked(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id != self.monitor:
            self.monitor = event.option.id
            self.records = []
            self._show_records()
            self.reload()

    @on(DataTable.RowHighlighted, "#records")
    @on(DataTable.RowSelected, "#records")
    def _record_picked(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.shown):
            record = self.shown[event.cursor_row]
            self.query_one("#record-detail", Static).update(json.dumps(record, indent=None, ensure_ascii=False))

    @on(Input.Submitted, "#monitor-filter")
    @on(Input.Changed, "#monitor-filter")
    def _filter_changed(self) -> None:
        self._show_records()

    def action_filter(self) -> None:
        self.query_one("#monitor-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one("#records", DataTable).focus()

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.sub_title = self._status()
        if self.follow:
            self.reload()

    def action_reload(self) -> None:
        self.reload()
