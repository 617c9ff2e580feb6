"""The batching panel: one server's runner workers (CPU, memory) and what adaptive batching does.

Opened with ``b`` on the Servers area; it polls the server's ``/runners.json`` once a second and
draws :func:`bentotui.tui.batching_view.panel`.  It answers the question BentoML users cannot
ask their server: why was this request refused, and would a bigger ``max_batch_size`` or
``max_latency_ms`` have helped?
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from bentotui.exceptions import BentotuiError
from bentotui.tui import batching_view, bridge
from bentotui.tui.messages import RunnersFetched

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

POLL_S = 1.0


class BatchingScreen(Screen[None]):
    app: BentoApp
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="batching.back"),
        Binding("p", "pause", "Pause", id="batching.pause", tooltip="Stop / resume polling the server"),
    ]

    def __init__(self, url: str, title: str) -> None:
        super().__init__()
        self.url = url
        self.title = f"Batching: {title}"
        self.usage = batching_view.UsageHistory()
        self.paused = False
        self._body: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="batching"):
            yield Static("reading /runners.json ...", id="batching-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._draw())
        if self.app.poll_interval is not None:  # None: the app's pollers are off (tests, snapshots)
            self.poll()
            self.set_interval(POLL_S, self.poll)

    def poll(self) -> None:
        if not self.paused:
            self.fetch()

    @work(exclusive=True, group="batching", exit_on_error=False)
    async def fetch(self) -> None:
        try:
            body = await bridge.fetch_runners(self.app.http, self.url)
        except BentotuiError as exc:
            self.post_message(RunnersFetched(self.url, None, str(exc)))
            return
        self.post_message(RunnersFetched(self.url, body))

    def on_runners_fetched(self, message: RunnersFetched) -> None:
        if message.body is None:
            self.sub_title = message.error or "no answer"
            return
        self.usage.add(message.body)
        self._body = message.body
        self._say_pace()
        self._draw()

    def _say_pace(self) -> None:
        if self.app.poll_interval is None:
            self.sub_title = "not polling"
        else:
            self.sub_title = "paused" if self.paused else f"every {POLL_S:g} s"

    def _draw(self) -> None:
        if self._body is None:
            return
        variables = self.app.theme_variables
        text = Text()
        for line, tone in batching_view.panel(self._body, self.usage, self.app.clock()):
            if tone == "dim":
                style = Style(dim=True)
            elif tone == "accent":
                style = Style(bold=True, color=variables.get("text-accent"))
            elif tone is not None:
                style = Style(color=variables[f"text-{tone}"])
            else:
                style = Style()
            text.append(line + "\n", style=style)
        self.query_one("#batching-panel", Static).update(text)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._say_pace()
