"""Requests: pick a server and an API, edit the example body, send, read the response, history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from bentotui.exceptions import BentotuiError
from bentotui.tui import bridge
from bentotui.tui.messages import ApisLoaded, ResponseReceived
from bentotui.tui.request_view import ApiInfo, HistoryEntry, curl_command

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

HISTORY = 50


class RequestsScreen(Screen[None]):
    app: BentoApp  # the screen's App, typed (Textual's own annotation is App[Any])
    TITLE = "Requests"
    AUTO_FOCUS = "#apis"
    BINDINGS = [
        Binding(
            "ctrl+j,alt+enter", "send", "Send", id="requests.send", priority=True, tooltip="Send the request"
        ),
        Binding(
            "ctrl+y",
            "copy_curl",
            "Copy curl",
            id="requests.copy_curl",
            priority=True,
            tooltip="Copy the request as a curl command",
        ),
        Binding(
            "ctrl+e",
            "edit_body",
            "Edit body",
            id="requests.body",
            tooltip="Focus the body editor (f7 selects all)",
        ),
        Binding("ctrl+r", "reload_apis", "Reload APIs", id="requests.reload", show=False),
        Binding("escape", "leave_editor", "Back", id="requests.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.url: str | None = None
        self.apis: list[ApiInfo] = []
        self.api: ApiInfo | None = None
        self.history: list[HistoryEntry] = []
        self.last_curl = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="request-side"):
                yield Select([], prompt="server", id="server")
                yield Label("APIs", classes="section")
                yield OptionList(id="apis")
                yield Label("history", classes="section")
                yield OptionList(id="history")
            with Vertical(id="request-main"):
                with Horizontal(id="request-line"):
                    yield Static("", id="route")
                    yield Input(placeholder="content type", id="content-type")
                    yield Button("Send", variant="primary", id="send")
                yield TextArea("", id="body", language=None, soft_wrap=True)
                yield Static("", id="status")
                with VerticalScroll(id="response"):
                    yield Static("", id="response-headers", markup=False)
                    yield Static("", id="response-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.app.servers_changed.subscribe(self, lambda _: self.refresh_servers())
        self.refresh_servers()

    def on_screen_resume(self) -> None:
        self.refresh_servers()

    def refresh_servers(self) -> None:
        """Offer the ready servers; keep the current pick while it is still there."""
        select = self.query_one("#server", Select)
        options = [(f"{e.run.target}  {e.url}", e.url) for e in self.app.book.ready()]
        wanted = self.url or self.app.request_target
        select.set_options(options)
        if wanted and any(url == wanted for _, url in options):
            with self.prevent(Select.Changed):
                select.value = wanted
            if wanted != self.url:
                self.choose_server(wanted)

    def choose_server(self, url: str) -> None:
        self.url = url
        self.app.request_target = url
        self.load_apis(url)

    @on(Select.Changed, "#server")
    def _server_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.choose_server(event.value)

    @work(exclusive=True, group="load-apis", exit_on_error=False)
    async def load_apis(self, url: str) -> None:
        try:
            self.post_message(ApisLoaded(url, await bridge.fetch_apis(self.app.http, url)))
        except BentotuiError as exc:
            self.post_message(ApisLoaded(url, [], error=exc.message))

    def on_apis_loaded(self, message: ApisLoaded) -> None:
        if message.url != self.url:
            return
        if message.error:
            self.notify(message.error, severity="error")
        self.apis = message.apis
        options = self.query_one("#apis", OptionList)
        options.clear_options()
        options.add_options([Option(f"{a.method.upper()} {a.route}", id=a.name) for a in self.apis])
        if self.apis:
            options.highlighted = 0
            self.choose_api(self.apis[0])

    def choose_api(self, api: ApiInfo, body: str | None = None, content_type: str | None = None) -> None:
        self.api = api
        self.query_one("#route", Static).update(f"{api.method.upper()} {self.url}{api.route}")
        self.query_one("#content-type", Input).value = content_type or api.content_type
        self.query_one("#body", TextArea).text = api.example if body is None else body

    @on(OptionList.OptionSelected, "#apis")
    @on(OptionList.OptionHighlighted, "#apis")
    def _api_picked(self, event: OptionList.OptionHighlighted) -> None:
        api = next((a for a in self.apis if a.name == event.option.id), None)
        if api is not None and api != self.api:
            self.choose_api(api)

    @on(OptionList.OptionSelected, "#history")
    def _history_picked(self, event: OptionList.OptionSelected) -> None:
        entry = self.history[event.option_index]
        self.url = entry.url
        self.choose_api(entry.api, entry.body, entry.content_type)
        self.show_response(entry)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "copy_curl") and (self.api is None or self.url is None):
            return None
        return True

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        if self.api is None or self.url is None:
            self.notify("pick a ready server and an API first", severity="warning")
            return
        self.query_one("#status", Static).update("sending…")
        self.send(
            self.url,
            self.api,
            self.query_one("#content-type", Input).value,
            self.query_one("#body", TextArea).text,
        )

    @work(exclusive=True, group="send-request", exit_on_error=False)
    async def send(self, url: str, api: ApiInfo, content_type: str, body: str) -> None:
        self.post_message(ResponseReceived(await bridge.send(self.app.http, url, api, content_type, body)))

    def on_response_received(self, message: ResponseReceived) -> None:
        entry = message.entry
        self.history.insert(0, entry)
        del self.history[HISTORY:]
        history = self.query_one("#history", OptionList)
        history.clear_options()
        history.add_options([h.label() for h in self.history])
        self.show_response(entry)

    def show_response(self, entry: HistoryEntry) -> None:
        status = self.query_one("#status", Static)
        status.set_class(entry.response is None or not entry.response.ok, "failed")
        if entry.response is None:
            status.update(f"failed: {entry.error}")
            self.query_one("#response-headers", Static).update("")
            self.query_one("#response-body", Static).update("")
            return
        r = entry.response
        status.update(f"{r.status} {r.reason}  ·  {r.latency_ms:.1f} ms")
        self.query_one("#response-headers", Static).update(r.headers_text() + "\n")
        self.query_one("#response-body", Static).update(r.body)

    def action_copy_curl(self) -> None:
        if self.api is None or self.url is None:
            return
        self.last_curl = curl_command(
            self.url,
            self.api,
            self.query_one("#content-type", Input).value,
            self.query_one("#body", TextArea).text,
        )
        self.app.copy_to_clipboard(self.last_curl)
        self.notify("copied as curl: " + self.last_curl[:80])

    def action_edit_body(self) -> None:
        self.query_one("#body", TextArea).focus()

    def action_leave_editor(self) -> None:
        """Back out of a text field to the API list, where the area keys (1/2/3) work again."""
        self.query_one("#apis", OptionList).focus()

    def action_reload_apis(self) -> None:
        if self.url:
            self.load_apis(self.url)
