"""Servers: every run in the registry with health and traffic, sparklines, and the run verbs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Sparkline, Static

from bentotui.tui import bridge
from bentotui.tui.messages import LastLogLines
from bentotui.tui.server_view import COLUMNS, STOPPED, ServerEntry
from bentotui.tui.stats import StatsHistory

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

SPARKS = (("req/s", "rps"), ("p50 ms", "p50"), ("p99 ms", "p99"))


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
            tooltip="Stop the selected server, or start one",
        ),
        Binding(
            "n", "start", "New", id="servers.start", tooltip="Start a server (service file, bento or model)"
        ),
        Binding(
            "r", "restart", "Restart", id="servers.restart", tooltip="Stop and start the selected server"
        ),
        Binding("l", "logs", "Logs", id="servers.logs", tooltip="Follow the selected server's log"),
        Binding("t", "test", "Test", id="servers.test", tooltip="Send a test request to the selected server"),
        Binding(
            "x", "forget", "Forget", id="servers.forget", show=False, tooltip="Remove a stopped server's row"
        ),
        Binding("enter", "logs", "Logs", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        table: DataTable[Text] = DataTable(id="server-table", cursor_type="row", zebra_stripes=True)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        yield table
        with Horizontal(id="server-detail"):
            with Vertical(id="sparks"):
                for title, key in SPARKS:
                    yield Label(title, id=f"label-{key}", classes="spark-label")
                    yield Sparkline([], id=f"spark-{key}", summary_function=max)
            yield Static("", id="last-log", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.app.servers_changed.subscribe(self, lambda _: self.refresh_table())
        self.refresh_table()

    @property
    def selected(self) -> ServerEntry | None:
        table = self.query_one(DataTable)
        entries = list(self.app.book.entries.values())
        if not entries or table.cursor_row >= len(entries):
            return None
        return entries[table.cursor_row]

    def refresh_table(self) -> None:
        """Update cells in place (rows keyed by run id) so the cursor and scroll stay put."""
        table = self.query_one(DataTable)
        now = self.app.clock()
        entries = self.app.book.entries
        for key in [k for k in table.rows if k.value not in entries]:
            table.remove_row(key)
        for run_id, entry in entries.items():
            cells = [Text(cell) for cell in entry.cells(now)]
            if run_id in table.rows:
                for (col, _), value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(run_id, col, value)
            else:
                table.add_row(*cells, key=run_id)
        self.sub_title = f"{len(self.app.book.live())} running"
        self.show_detail()

    def show_detail(self) -> None:
        entry = self.selected
        series = (entry.stats if entry else StatsHistory()).series()
        for title, key in SPARKS:
            data = series[title]
            self.query_one(f"#spark-{key}", Sparkline).data = data
            latest = f" (now {data[-1]:.1f})" if data else ""
            self.query_one(f"#label-{key}", Label).update(f"{title}{latest}")
        if entry is not None and entry.state == STOPPED:
            self.load_last_lines(entry.id, entry.run.log_path)
        elif entry is not None:
            self.query_one("#last-log", Static).update(f"{entry.url}\nlog: {entry.run.log_path}")
        else:
            self.query_one("#last-log", Static).update("no servers: press n to start one, or s on a model")

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    @work(thread=True, exclusive=True, group="last-log", exit_on_error=False)
    def load_last_lines(self, run_id: str, log_path: str) -> None:
        self.post_message(LastLogLines(run_id, bridge.last_log_lines(log_path)))

    def on_last_log_lines(self, message: LastLogLines) -> None:
        entry = self.selected
        if entry is not None and entry.id == message.run_id:
            body = "\n".join(message.lines) or "(empty log)"
            self.query_one("#last-log", Static).update(f"stopped; last log lines:\n{body}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        entry = self.selected
        if action in ("restart", "logs") and entry is None:
            return None
        if action == "test" and (entry is None or not entry.alive):
            return None
        if action == "forget" and (entry is None or entry.alive):
            return None
        return True

    def action_start_stop(self) -> None:
        entry = self.selected
        if entry is not None and entry.alive:
            self.app.stop_server(entry.id)
        else:
            self.action_start()

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

    def action_forget(self) -> None:
        if (entry := self.selected) is not None:
            self.app.book.forget(entry.id)
            self.refresh_table()
