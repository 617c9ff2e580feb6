"""The bentotui Textual app: four areas (Models, Servers, Requests, Predictions), the pollers, the settings.

The App owns what several screens share: the :class:`ServerBook` (servers and their stats, fed
by a registry poller and one ``/readyz`` + ``/metrics`` probe per live server), the HTTP client,
and the server verbs (start/stop/restart) so every screen and the command palette use one path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from bentotui.exceptions import BentotuiError
from bentotui.tui import bridge
from bentotui.tui.commands import commands, quit_app
from bentotui.tui.messages import RunsListed, ServerProbed, ServerStarted, TaskDone
from bentotui.tui.screens.dialogs import StartDialog, StartRequest, for_tui
from bentotui.tui.screens.help import HelpScreen
from bentotui.tui.screens.models import ModelsScreen
from bentotui.tui.screens.predictions import PredictionsScreen
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.servers import ServersScreen
from bentotui.tui.server_view import ServerBook, crash_notice
from bentotui.tui.settings import DEFAULT_THEME, LIGHT_THEME, TuiSettings, keymap_warnings, load_settings

if TYPE_CHECKING:
    import httpx

    from bentotui.runs import RunInfo


class BentoApp(App[None]):
    TITLE = "bentotui"
    CSS_PATH = "app.tcss"
    MODES = {
        "models": ModelsScreen, "servers": ServersScreen, "requests": RequestsScreen, "predictions": PredictionsScreen,
    }
    BINDINGS = [
        Binding("1", "switch_mode('models')", "Models", id="app.models", tooltip="Models and bentos"),
        Binding("2", "switch_mode('servers')", "Servers", id="app.servers", tooltip="Running servers"),
        Binding("3", "switch_mode('requests')", "Requests", id="app.requests", tooltip="Test requests"),
        # off the footer, which has no room left for it at 130 columns (? Help would go): in ? and docs
        Binding(
            "4", "switch_mode('predictions')", "Predictions", id="app.predictions", show=False,
            tooltip="Prediction logs (bentoml.monitor)",
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Keys for this screen"),
        Binding("f2", "toggle_theme", "Theme", id="app.theme", show=False, tooltip="Light or dark theme"),
    ]

    def __init__(
        self,
        *,
        settings: TuiSettings | None = None,
        clock: Callable[[], float] = time.time,
        poll_interval: float | None = 1.0,
    ) -> None:
        """``clock`` and ``poll_interval=None`` let tests and snapshots freeze time and feed data."""
        super().__init__()
        self.settings = settings if settings is not None else load_settings()
        self.clock = clock
        self.poll_interval = poll_interval
        self.book = ServerBook()
        self.servers_changed: Signal[None] = Signal(self, "servers-changed")
        self.request_target: str | None = None
        self._probing: set[str] = set()
        self._http: httpx.AsyncClient | None = None

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
            for warning in keymap_warnings(self.settings.keymap, type(self)):
                self.notify(warning, severity="warning", timeout=10)
        try:
            self.theme = self.settings.theme
        except Exception:  # noqa: BLE001 - textual raises InvalidThemeError; an unknown name must not crash
            self.notify(f"unknown theme {self.settings.theme!r}, using {DEFAULT_THEME}", severity="warning")
            self.theme = DEFAULT_THEME
        if self.settings.error:
            self.notify(self.settings.error, severity="error", timeout=10)
        self.switch_mode("models")
        if self.poll_interval:
            self.poll_runs()
            self.set_interval(self.poll_interval, self.poll_runs)

    @property
    def http(self) -> httpx.AsyncClient:
        """One pooled client for probes and test requests, created on first use: importing httpx
        costs ~0.1 s, which the first paint should not pay."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0), trust_env=False)
        return self._http

    async def on_unmount(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from commands(self, screen, super().get_system_commands(screen))

    async def action_quit(self) -> None:
        """ctrl+q, like the palette's Quit: say which servers outlive the TUI."""
        quit_app(self)

    # ---- servers: poll the registry, probe each live server ------------------------------
    @work(thread=True, exclusive=True, group="runs-poll", exit_on_error=False)
    def poll_runs(self) -> None:
        self.post_message(RunsListed(*bridge.scan_runs()))

    def on_runs_listed(self, message: RunsListed) -> None:
        for entry in self.book.update_runs(message.runs, self.clock(), message.dead, message.exits):
            self.report_crash(f"{entry.run.target} {entry.label}", entry.run.log_path)
        if self.poll_interval:
            for entry in self.book.live():
                if entry.id not in self._probing:  # a slow server gets one probe at a time
                    self._probing.add(entry.id)
                    self.probe(entry.id, entry.url)
        self.servers_changed.publish(None)

    @work(group="probe", exit_on_error=False)
    async def probe(self, run_id: str, url: str) -> None:
        ready, scrape = await bridge.probe(self.http, url, self.clock)
        self.post_message(ServerProbed(run_id, ready, scrape))

    @work(thread=True, group="crash-report", exit_on_error=False)
    def report_crash(self, what: str, log_path: str) -> None:
        """A server died on its own: an error toast with the log line that says why."""
        lines = bridge.last_log_lines(log_path, 40)
        self.post_message(TaskDone(crash_notice(what, log_path, lines), error=True))

    def on_server_probed(self, message: ServerProbed) -> None:
        self._probing.discard(message.run_id)
        self.book.record_probe(message.run_id, message.ready, message.scrape)
        self.servers_changed.publish(None)

    # ---- verbs shared by screens and the palette ---------------------------------------
    def action_start_dialog(self) -> None:
        def answer(request: StartRequest | None) -> None:
            if request is not None:
                self.start_server(request.target, request.model, request.port)

        self.push_screen(StartDialog(), answer)

    def start_server(self, target: str | None, model: str | None, port: int) -> None:
        what = target or f"model {model}"
        self.notify(f"starting {what}…")

        def start() -> str:
            run = bridge.start(target, model, port)
            self.post_message(ServerStarted(run))
            return f"started {what} on port {run.port}"

        self.run_server_task(start)
        self.switch_mode("servers")

    def stop_server(self, run_id: str) -> None:
        self.book.request_stop(run_id)

        def stop() -> str:
            bridge.stop(run_id)
            return f"stopped {run_id}"

        self.run_server_task(stop)

    def restart_server(self, run: RunInfo) -> None:
        """Start ``run``'s target again (stopping it first if it runs); the new run takes its row."""
        self.book.request_stop(run.id)

        def restart() -> str:
            new = bridge.restart(run)
            self.post_message(ServerStarted(new, replaces=run.id))
            return f"restarted {new.target} on port {new.port}"

        self.run_server_task(restart)

    def on_server_started(self, message: ServerStarted) -> None:
        self.book.add_started(message.run, message.replaces)
        self.servers_changed.publish(None)

    def create_demo(self) -> None:
        """Build the demo models from the Models area, which shows the build until they appear."""
        self.switch_mode("models")
        if isinstance(self.screen, ModelsScreen):
            self.screen.create_demo()

    @work(thread=True, group="server-task", exit_on_error=False)
    def run_server_task(self, task: Callable[[], str]) -> None:
        try:
            self.post_message(TaskDone(task(), refresh_runs=True))
        except BentotuiError as exc:
            self.post_message(TaskDone(for_tui(exc.message), error=True, refresh_runs=True))

    def on_task_done(self, message: TaskDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information")
        if message.refresh_runs and self.poll_interval:
            self.poll_runs()

    def open_requests(self, url: str) -> None:
        self.request_target = url
        self.switch_mode("requests")

    # ---- look and help -----------------------------------------------------------------
    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.theme != LIGHT_THEME else DEFAULT_THEME

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))
