"""Servers: every run in the registry with health and traffic, sparklines, and the run verbs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Label, Static

from bentotui.exceptions import BentotuiError
from bentotui.tui import batching_view, bridge
from bentotui.tui.messages import LastLogLines, RunnersFetched
from bentotui.tui.server_view import SPARKS, Cell, Column, ServerEntry, layout, spark, spark_label
from bentotui.tui.stats import StatsHistory

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: Bars drawn before the first layout tells a sparkline its width.
DEFAULT_SPARK_WIDTH = 60


def styled(cell: Cell, theme_variables: Mapping[str, str]) -> Text:
    """A cell coloured by its meaning, in the theme's text colours (``$text-success`` and
    friends, which every theme defines and keeps readable on its own background)."""
    if cell.tone is None:
        return Text(cell.text)
    if cell.tone == "dim":
        return Text(cell.text, style=Style(dim=True))
    return Text(cell.text, style=Style(color=theme_variables[f"text-{cell.tone}"]))


class SparkBars(Widget):
    """A one-line bar chart on a 0-to-max scale (:func:`server_view.spark`), as wide as the widget.

    Textual's Sparkline scales from the series' minimum to its maximum, so a flat line of any
    height (an idle server included) draws the same bars; its label could not name a scale.
    """

    values: reactive[tuple[float, ...]] = reactive(())

    def render(self) -> Text:
        return Text(spark(self.values, self.size.width), no_wrap=True)


class ServersScreen(Screen[None]):
    app: BentoApp  # the screen's App, typed (Textual's own annotation is App[Any])
    TITLE = "Servers"
    AUTO_FOCUS = "#server-table"
    BINDINGS = [
        Binding(
            "s",
            "start_stop",
            "Start/Stop",
            id="servers.start_stop",
            tooltip="Stop the selected server, or start a stopped one again",
        ),
        Binding(
            "n", "start", "New", id="servers.start", tooltip="Start a server (service file, bento or model)"
        ),
        Binding(
            "r", "restart", "Restart", id="servers.restart", tooltip="Stop and start the selected server"
        ),
        Binding(
            "l", "logs", "Logs", id="servers.logs", tooltip="Follow the selected server's log (or enter)"
        ),
        Binding("t", "test", "Test", id="servers.test", tooltip="Send a test request to the selected server"),
        Binding(
            "b", "batching", "Batching", id="servers.batching",
            tooltip="The selected server's workers (CPU, memory) and adaptive batching: cost line, batch sizes, refusals",
        ),
        Binding(
            "x", "forget", "Forget", id="servers.forget", show=False, tooltip="Remove a stopped server's row"
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._columns: tuple[Column, ...] = ()
        #: per run: its workers' CPU and memory over the polls, and the last /runners.json
        self._usage: dict[str, tuple[batching_view.UsageHistory, dict[str, Any]]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="server-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="server-detail"):
            with Vertical(id="sparks"):
                for _, key, label, _ in SPARKS:
                    yield Label(label, id=f"label-{key}", classes="spark-label")
                    yield SparkBars(id=f"spark-{key}", classes="spark")
            yield Static("", id="last-log", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.app.servers_changed.subscribe(self, lambda _: self.refresh_table())
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh_table())
        self.refresh_table()
        if self.app.poll_interval:
            self.set_interval(self.app.poll_interval, self._poll_usage)

    def _poll_usage(self) -> None:
        """The selected live server's workers, while this area is on screen (one request a poll)."""
        entry = self.selected
        if entry is not None and entry.alive and self.app.screen is self:
            self.fetch_usage(entry.url)

    @work(exclusive=True, group="usage", exit_on_error=False)
    async def fetch_usage(self, url: str) -> None:
        try:
            self.post_message(RunnersFetched(url, await bridge.fetch_runners(self.app.http, url)))
        except BentotuiError as exc:
            self.post_message(RunnersFetched(url, None, str(exc)))

    def on_runners_fetched(self, message: RunnersFetched) -> None:
        entry = next((e for e in self.app.book.entries.values() if e.url == message.url and e.alive), None)
        if entry is None or message.body is None:
            return
        usage = self._usage[entry.id][0] if entry.id in self._usage else batching_view.UsageHistory()
        usage.add(message.body)
        self._usage = {run_id: kept for run_id, kept in self._usage.items() if run_id in self.app.book.entries}
        self._usage[entry.id] = (usage, message.body)
        if self.selected is entry:
            self.show_detail()

    def on_resize(self, event: events.Resize) -> None:
        self.refresh_table()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#server-table", DataTable)

    @property
    def selected(self) -> ServerEntry | None:
        """The entry under the cursor, found by the row's key (the run id)."""
        table = self.table
        if not table.is_valid_coordinate(table.cursor_coordinate):
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.app.book.entries.get(str(row_key.value))

    def refresh_table(self) -> None:
        """Update cells in place (rows keyed by run id) so the cursor and scroll stay put; rebuild
        only when the columns or the rows' order change (a resize, a crash label, a restart)."""
        table = self.table
        book = self.app.book
        columns = layout(self.size.width or self.app.size.width, book.entries.values())
        selected = self.selected
        wanted = book.cursor or (selected.id if selected else None)
        book.cursor = None
        now = self.app.clock()
        if columns != self._columns or [str(key.value) for key in table.rows] != list(book.entries):
            self._rebuild(columns, now)
        else:
            for run_id, entry in book.entries.items():
                for column, cell in zip(columns, entry.row(columns, now), strict=True):
                    table.update_cell(run_id, column.key, styled(cell, self.app.theme_variables))
        if wanted in book.entries and table.get_row_index(wanted) != table.cursor_row:
            table.move_cursor(row=table.get_row_index(wanted))
        self.sub_title = f"{len(book.live())} running"
        self.show_detail()

    def _rebuild(self, columns: tuple[Column, ...], now: float) -> None:
        table = self.table
        table.clear(columns=True)
        for column in columns:
            table.add_column(column.title, width=column.width, key=column.key)
        for run_id, entry in self.app.book.entries.items():
            table.add_row(
                *(styled(cell, self.app.theme_variables) for cell in entry.row(columns, now)), key=run_id
            )
        self._columns = columns

    def show_detail(self) -> None:
        entry = self.selected
        stats = entry.stats if entry else StatsHistory()
        series = stats.series()
        for series_key, key, label, number in SPARKS:
            bars = self.query_one(f"#spark-{key}", SparkBars)
            values = series[series_key]
            bars.values = tuple(values)
            width = bars.size.width or DEFAULT_SPARK_WIDTH
            self.query_one(f"#label-{key}", Label).update(
                spark_label(label, values, stats.times, width, number)
            )
        last_log = self.query_one("#last-log", Static)
        if entry is None:
            last_log.update("no servers: press n to start one, or s on a model")
        elif not entry.alive:
            self.load_last_lines(entry.id, entry.run.log_path)
        else:
            text = f"{entry.run.target}\n{entry.url}  pid {entry.run.pid}\nlog: {entry.run.log_path}"
            if entry.id in self._usage:  # beside the latency: what its workers cost (b: the batching panel)
                usage, body = self._usage[entry.id]
                text += "\n" + "\n".join(batching_view.usage_lines(body, usage))
            last_log.update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        """``enter`` (or a click on the cursor row): the table's own ``enter`` binding wins over
        the screen's, so its selection message is where the log opens."""
        self.action_logs()

    @work(thread=True, exclusive=True, group="last-log", exit_on_error=False)
    def load_last_lines(self, run_id: str, log_path: str) -> None:
        self.post_message(LastLogLines(run_id, bridge.last_log_lines(log_path)))

    def on_last_log_lines(self, message: LastLogLines) -> None:
        entry = self.selected
        if entry is not None and entry.id == message.run_id:
            body = "\n".join(message.lines) or "(empty log)"
            self.query_one("#last-log", Static).update(f"{entry.label}; last log lines:\n{body}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        entry = self.selected
        if action in ("restart", "logs", "forget") and entry is None:
            return None
        if action in ("test", "batching") and (entry is None or not entry.alive):
            return None
        return True

    def action_start_stop(self) -> None:
        """Stop a live server; start a stopped or crashed one again, in its row."""
        entry = self.selected
        if entry is None:
            self.action_start()
        elif entry.alive:
            self.app.stop_server(entry.id)
        else:
            self.app.restart_server(entry.run)

    def action_start(self) -> None:
        self.app.action_start_dialog()

    def action_restart(self) -> None:
        if (entry := self.selected) is not None:
            self.app.restart_server(entry.run)

    def action_logs(self) -> None:
        if (entry := self.selected) is not None:
            from bentotui.tui.screens.logs import LogsScreen

            self.app.push_screen(LogsScreen(entry.run.log_path, title=f"{entry.run.target} ({entry.id})"))

    def action_test(self) -> None:
        if (entry := self.selected) is not None:
            self.app.open_requests(entry.url)

    def action_batching(self) -> None:
        if (entry := self.selected) is not None:
            from bentotui.tui.screens.batching import BatchingScreen

            self.app.push_screen(BatchingScreen(entry.url, f"{entry.run.target} ({entry.id})"))

    def action_forget(self) -> None:
        entry = self.selected
        if entry is None:
            return
        if entry.alive:
            self.notify(f"{entry.run.target} is {entry.label}: x forgets stopped rows only (s stops it)")
            return
        self.app.book.forget(entry.id)
        self.refresh_table()
