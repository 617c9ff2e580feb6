"""Requests: pick a server and an API, edit the example body, send, read the response, history.

A streaming API's answer is shown as it arrives: the sending worker feeds a
:class:`~bentotui.tui.request_view.StreamProgress` and posts :class:`StreamPending` when it has
new text; the screen appends that text to a read-only TextArea at most :data:`FLUSH_HZ` times a
second (an append, not a re-render of the whole text) and redraws the TTFT and rate line, also
between chunks so a stall shows.  The stop key cancels the worker, which closes the HTTP stream.

The tasks of the picked server's service (``@bentoml.task`` runs) are listed under the response,
read from the task store by a worker every poll while this area is shown; ``c`` cancels the
highlighted one and ``g`` shows its result in the response pane (:mod:`.tasks`).

History is kept per service (the service name a server registered, so it survives restarts and
new ports) in ``$BENTOTUI_HOME/tui/history/<service>.jsonl`` and reloaded when a server of that
service is picked; the last "copy as curl" is also written to ``$BENTOTUI_HOME/tui/last-curl.sh``,
because OSC 52 reaches a clipboard only where the terminal (and tmux) allow it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker

from bentotui import paths
from bentotui.exceptions import BentotuiError
from bentotui.tui import bridge, fmt
from bentotui.tui.messages import (
    ApisLoaded,
    HistoryLoaded,
    ResponseReceived,
    StreamPending,
    TaskAnswered,
    TasksLoaded,
)
from bentotui.tui.request_view import (
    HISTORY,
    ApiInfo,
    HistoryEntry,
    RequestHeaders,
    StreamProgress,
    curl_command,
    format_headers,
    history_lines,
    media_type,
    parse_curl,
    parse_headers,
    parse_history,
)
from bentotui.tui.screens.servers import ServersScreen
from bentotui.tui.screens.tasks import TaskTable
from bentotui.tui.server_view import ServerEntry, display_target, epoch
from bentotui.tui.task_view import SHORT_ID, TaskRow

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: a server's label in the picker, cut so one server is one line of the 36-column side bar
_LABEL_WIDTH = 22
#: most appends of a stream's text per second: a fast stream is batched, a slow one shows each chunk
FLUSH_HZ = 30
#: seconds between redraws of a live stream's status line when no chunk arrives
_TICK_S = 0.25


def history_file(service: str) -> Path:
    """Where a service's request history lives (its name made safe as a file name)."""
    folder = paths.tui_dir() / "history"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (re.sub(r"[^A-Za-z0-9._-]", "_", service) + ".jsonl")


def curl_file() -> Path:
    return paths.tui_dir() / "last-curl.sh"


def _new_task_id(body: str) -> str:
    """The id in a retry's answer (``{"task_id": ..., "status": ...}``), or ``?``."""
    try:
        return str(json.loads(body)["task_id"])
    except (ValueError, KeyError, TypeError):
        return "?"


def service_of(entry: ServerEntry) -> str:
    """The history key of a server: the service it registered, else its target."""
    return str(entry.run.extra.get("service") or entry.run.target)


class BodyArea(TextArea):
    """The body editor; a curl command pasted into it fills the whole request instead (API,
    content type, headers, body), so a request copied from docs or a shell is one paste away."""

    @dataclass
    class CurlPasted(Message):
        command: str

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual calls each class's handler down the MRO: TextArea's inserts the text, unless
        # this one prevents it
        if event.text.lstrip().startswith("curl "):
            event.prevent_default()
            event.stop()
            self.post_message(self.CurlPasted(event.text))


class RequestsScreen(Screen[None]):
    app: BentoApp  # the screen's App, typed (Textual's own annotation is App[Any])
    TITLE = "Requests"
    AUTO_FOCUS = "#apis"
    BINDINGS = [
        Binding(
            # ctrl+s and ctrl+j arrive in every terminal and through tmux; alt+enter (ESC CR) does
            # not under tmux, ctrl+enter only where the terminal reports it (kitty protocol)
            "ctrl+s,ctrl+j,ctrl+enter,alt+enter",
            "send",
            "Send",
            id="requests.send",
            priority=True,
            tooltip="Send the request",
        ),
        Binding(
            "ctrl+y",
            "copy_curl",
            "Copy curl",
            id="requests.copy_curl",
            priority=True,
            tooltip="Copy the request as a curl command (and save it to a file)",
        ),
        Binding(
            "ctrl+e",
            "edit_body",
            "Edit body",
            id="requests.body",
            tooltip="Focus the body editor (f7 selects all)",
        ),
        Binding(
            # not a key of the body editor or the text fields, so it stops from anywhere
            "ctrl+t",
            "stop",
            "Stop",
            id="requests.stop",
            priority=True,
            tooltip="Stop the stream (closes the connection; the server's generator stops)",
        ),
        Binding(
            # a key no text field here uses, so it works from the body editor too
            "ctrl+o",
            "focus_tasks",
            "Tasks",
            id="requests.tasks",
            priority=True,
            tooltip="Focus the task list (c cancels the highlighted task, g gets its result)",
        ),
        Binding("ctrl+r", "reload_apis", "Reload APIs", id="requests.reload", show=False),
        Binding("escape", "leave_editor", "Back", id="requests.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.url: str | None = None
        self.server: ServerEntry | None = None
        self.apis: list[ApiInfo] = []
        self.api: ApiInfo | None = None
        self.history: list[HistoryEntry] = []
        self.last_curl = ""
        self.live: StreamProgress | None = None  # the stream being shown, until it ends
        self.task_service: str | None = None  # whose tasks are listed: the picked server's service
        self._sending: Worker[None] | None = None
        self._last_flush = 0.0
        self._flush_timer: Timer | None = None
        self._ticker: Timer | None = None
        self._server_options: list[tuple[str, str]] = []
        self._saves = 0  # history snapshots handed to the writer, so an older one never wins
        self._saved = 0
        self._save_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="picked", markup=False)
        with Horizontal():
            with Vertical(id="request-side"):
                yield Select([], prompt="server", id="server")
                yield Label("APIs", classes="section")
                yield OptionList(id="apis")
                yield Label("history", classes="section")
                yield OptionList(id="history")
            with Vertical(id="request-main"):
                with Horizontal(id="request-line"):
                    yield Input(placeholder="content type", id="content-type")
                    yield Input(placeholder="headers: Name: value; Other: value", id="headers")
                    yield Button("Send", variant="primary", id="send")
                yield BodyArea("", id="body", language=None, soft_wrap=True)
                yield Static("", id="status")
                yield TextArea("", id="curl", read_only=True, soft_wrap=True)
                with VerticalScroll(id="response"):
                    yield Static("", id="response-headers", markup=False)
                    yield Static("", id="response-body", markup=False)
                yield TextArea("", id="stream", read_only=True, soft_wrap=True)
                yield TaskTable(id="tasks")
        yield Footer()

    def on_mount(self) -> None:
        self.app.servers_changed.subscribe(self, lambda _: self.refresh_servers())
        self.refresh_servers()
        if self.app.poll_interval:
            self.set_interval(self.app.poll_interval, self.refresh_tasks)

    def on_screen_resume(self) -> None:
        self.refresh_servers()

    # ---- the server picker -------------------------------------------------------------
    def refresh_servers(self) -> None:
        """Offer the ready servers.  The options are rebuilt only when that set changes (a
        rebuild clears the open list's highlight, and this runs on every poll and probe); the
        pick stays while its server is ready, else a default is chosen."""
        ready = self.app.book.ready()
        options = [
            (f"{fmt.truncate(display_target(str(e.run.target)), _LABEL_WIDTH)} :{e.run.port}", e.url)
            for e in ready
        ]
        select = self.query_one("#server", Select)
        if options != self._server_options:
            self._server_options = options
            with self.prevent(Select.Changed):
                select.set_options(options)
                if self.url in {url for _, url in options}:
                    select.value = self.url
        wanted = self._default_url(ready)
        if wanted is None:
            if self.server is not None:  # the server picked is gone, and no other is ready
                self.url = self.server = None
            self.show_picked()
        elif wanted != self.url:
            with self.prevent(Select.Changed):
                select.value = wanted
            self.choose_server(wanted)

    def _default_url(self, ready: list[ServerEntry]) -> str | None:
        """The server to show: the one asked for (``t`` in Servers, or the last pick), else the
        current one, else the one under the Servers cursor, else the newest ready one."""
        urls = {e.url for e in ready}
        for wanted in (self.app.request_target, self.url, self._servers_cursor_url()):
            if wanted in urls:
                return wanted
        if not ready:
            return None
        # started_at has whole seconds: the process's create time orders two started in one second
        return max(ready, key=lambda e: (epoch(e.run.started_at) or 0.0, e.run.create_time)).url

    def _servers_cursor_url(self) -> str | None:
        try:
            stack = self.app.get_screen_stack("servers")
        except KeyError:
            return None
        screen = stack[0] if stack else None
        if isinstance(screen, ServersScreen) and screen.is_mounted and (entry := screen.selected):
            return entry.url
        return None

    def choose_server(self, url: str) -> None:
        entry = next((e for e in self.app.book.ready() if e.url == url), None)
        changed_service = entry is None or self.server is None or service_of(entry) != service_of(self.server)
        self.url, self.server = url, entry
        self.app.request_target = url
        if entry is not None and service_of(entry) != self.task_service:
            self.task_service = service_of(entry)
            self.show_tasks([])  # the last service's tasks are not this one's
            self.refresh_tasks()
        self.show_picked()
        self.load_apis(url)
        if entry is not None and changed_service:
            self.load_history(service_of(entry))

    @on(Select.Changed, "#server")
    def _server_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.choose_server(event.value)

    def show_picked(self) -> None:
        """The "server ▸ API" line: what a send goes to, readable at any width."""
        line = self.query_one("#picked", Static)
        if self.url is None:
            line.update("no ready server ▸ start one in Servers (2), or wait for it to be ready")
            return
        api = f"{self.api.method.upper()} {self.api.route}" if self.api else "loading APIs…"
        if self.server is None:  # a history entry's server, not one the registry lists now
            line.update(f"{self.url} ▸ {api}")
        else:
            line.update(f"{display_target(str(self.server.run.target))} ▸ {api}   {self.url}")

    # ---- APIs ----------------------------------------------------------------------------
    @work(exclusive=True, group="load-apis", exit_on_error=False)
    async def load_apis(self, url: str) -> None:
        try:
            self.post_message(ApisLoaded(url, await bridge.fetch_apis(self.app.http, url)))
        except BentotuiError as exc:
            self.post_message(ApisLoaded(url, [], error=exc.message))

    def on_apis_loaded(self, message: ApisLoaded) -> None:
        """Fill the API list; keep the API (and the edited body) when the new server has it too."""
        if message.url != self.url:
            return
        if message.error:
            self.notify(message.error, severity="error")
        self.apis = message.apis
        options = self.query_one("#apis", OptionList)
        options.clear_options()
        options.add_options([Option(f"{a.method.upper()} {a.route}", id=a.name) for a in self.apis])
        if not self.apis:
            return
        same = next((i for i, a in enumerate(self.apis) if self.api and a.name == self.api.name), None)
        with self.prevent(OptionList.OptionHighlighted):
            options.highlighted = same or 0
        if same is None:
            self.choose_api(self.apis[0])
        else:
            self.api = self.apis[same]
            self.show_picked()

    def choose_api(self, api: ApiInfo, body: str | None = None, content_type: str | None = None) -> None:
        self.api = api
        self.show_picked()
        self.refresh_bindings()  # Stop is offered for a streaming API only
        self.query_one("#content-type", Input).value = content_type or api.content_type
        self.query_one("#body", TextArea).text = api.example if body is None else body

    @on(OptionList.OptionSelected, "#apis")
    @on(OptionList.OptionHighlighted, "#apis")
    def _api_picked(self, event: OptionList.OptionHighlighted) -> None:
        api = next((a for a in self.apis if a.name == event.option.id), None)
        if api is not None and api != self.api:
            self.choose_api(api)

    # ---- history -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load-history", exit_on_error=False)
    def load_history(self, service: str) -> None:
        try:
            text = history_file(service).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        self.post_message(HistoryLoaded(service, parse_history(text)))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if self.server is not None and service_of(self.server) == message.service:
            self.history = message.entries
            self.show_history()

    def show_history(self) -> None:
        history = self.query_one("#history", OptionList)
        history.clear_options()
        history.add_options([h.label() for h in self.history])
        if self.history:  # the newest highlighted, so enter replays it without an arrow key first
            history.highlighted = 0

    @work(thread=True, group="save-history", exit_on_error=False)
    def save_history(self, service: str, entries: list[HistoryEntry], number: int) -> None:
        """Write the history file atomically; snapshot ``number`` orders concurrent writers."""
        with self._save_lock:
            if number < self._saved:
                return
            path = history_file(service)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".history-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(history_lines(entries))
            os.replace(tmp, path)
            self._saved = number

    @on(OptionList.OptionSelected, "#history")
    def _history_picked(self, event: OptionList.OptionSelected) -> None:
        """Restore a request to re-send it (to the server picked now: a saved entry's own port
        may belong to a server long gone) and the response it got."""
        entry = self.history[event.option_index]
        if self.url is None:
            self.url = entry.url
        api = next((a for a in self.apis if a.name == entry.api.name), entry.api)
        self._leave_stream()
        self.choose_api(api, entry.body, entry.content_type)
        self.query_one("#headers", Input).value = format_headers(entry.request_headers)
        self.show_response(entry)

    # ---- send ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Send and copy need an API; Stop shows (dimmed) for a streaming API and works while a
        stream runs.  A disabled priority binding lets its key through to the focused widget."""
        if action in ("send", "copy_curl") and (self.api is None or self.url is None):
            return None
        if action == "focus_tasks":
            return self.query_one("#tasks", TaskTable).display
        if action == "stop":
            if self.live is not None and not self.live.done:
                return True
            return None if self.api is not None and self.api.stream else False
        return True

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        if self.api is None or self.url is None:
            self.notify("pick a ready server and an API first", severity="warning")
            return
        headers = self._headers()
        if headers is None:
            return
        self.query_one("#status", Static).update("sending…")
        self.query_one("#curl", TextArea).display = False
        content_type = self.query_one("#content-type", Input).value
        body = self.query_one("#body", TextArea).text
        if self.api.stream:
            # set before the worker starts, so the stream a new send replaces is known as stale
            self.live = StreamProgress(self.url, self.api, content_type, body, time.perf_counter(), headers)
            self._sending = self.send_stream(self.live)
            self._ticker = self._ticker or self.set_interval(_TICK_S, self._flush_stream)
            self.refresh_bindings()
        else:
            self._leave_stream()
            self.send(self.url, self.api, content_type, body, headers)

    def _headers(self) -> RequestHeaders | None:
        """The headers field parsed; None (and a toast naming the bad part) when it does not parse."""
        try:
            return parse_headers(self.query_one("#headers", Input).value)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return None

    @work(exclusive=True, group="send-request", exit_on_error=False)
    async def send(self, url: str, api: ApiInfo, content_type: str, body: str, headers: RequestHeaders) -> None:
        self.post_message(ResponseReceived(await bridge.send(self.app.http, url, api, content_type, body, headers)))

    @work(exclusive=True, group="send-request", exit_on_error=False)
    async def send_stream(self, progress: StreamProgress) -> None:
        """Stream one answer; its entry is posted also when the stream is stopped (cancelled)."""
        entry: HistoryEntry | None = None
        try:
            entry = await bridge.send_stream(
                self.app.http, progress, lambda: self.post_message(StreamPending(progress))
            )
        finally:
            progress.finish(time.perf_counter(), error="the stream broke off")  # no-op once it ended
            self.post_message(ResponseReceived(entry or progress.entry(), progress))

    def action_stop(self) -> None:
        if self._sending is not None and self.live is not None and not self.live.done:
            self._sending.cancel()

    def on_stream_pending(self, message: StreamPending) -> None:
        if message.stream is self.live:
            self._flush_stream()

    def _flush_stream(self) -> None:
        """Append the live stream's new text and redraw its status line, at most FLUSH_HZ times
        a second: a call inside that interval sets one timer for the rest of it instead."""
        progress = self.live
        if progress is None or not progress.opened:
            return
        now = time.perf_counter()
        wait = self._last_flush + 1.0 / FLUSH_HZ - now
        if wait > 0:
            if self._flush_timer is None:
                self._flush_timer = self.set_timer(wait, self._flush_timer_fired)
            return
        self._last_flush = now
        self._append(progress)
        self._show_status(progress.status_line(now), ok=progress.error is None)

    def _flush_timer_fired(self) -> None:
        self._flush_timer = None
        self._flush_stream()

    def _append(self, progress: StreamProgress) -> None:
        area = self.query_one("#stream", TextArea)
        text, reload = progress.take()
        follow = reload or area.scroll_y >= area.max_scroll_y  # a reader who scrolled up stays put
        if reload:
            self._show_stream_view(progress.media_type, text)
        elif text:
            area.insert(text, area.document.end)
        area.border_subtitle = progress.kept_note()
        if follow:
            area.scroll_end(animate=False)

    def _show_stream_view(self, media_type: str, text: str) -> None:
        """The stream view in place of the response pane (headers and a pretty body)."""
        self.query_one("#response").display = False
        area = self.query_one("#stream", TextArea)
        area.display = True
        area.border_title = f"stream · {media_type or 'no content type'}"
        area.load_text(text)

    def _stop_timers(self) -> None:
        for timer in (self._ticker, self._flush_timer):
            if timer is not None:
                timer.stop()
        self._ticker = self._flush_timer = None

    def _leave_stream(self) -> None:
        """Something else takes the response view: a running stream is stopped (unseen, it could
        run forever with no key to stop it); its entry still goes to the history."""
        self.action_stop()
        self.live = None
        self._stop_timers()
        self.refresh_bindings()

    def _end_stream(self, progress: StreamProgress, entry: HistoryEntry) -> None:
        """The live stream ended: its last text and final line, or, when it never streamed (an
        error answer, or stopped before the answer started), the entry as any response."""
        self._stop_timers()
        if entry.response is not None and entry.response.stream is not None:
            self._append(progress)
            self._show_status(progress.status_line(time.perf_counter()), ok=progress.error is None)
        else:
            self.show_response(entry)
        self.refresh_bindings()

    def on_response_received(self, message: ResponseReceived) -> None:
        """Record the answer and show it, unless it is a stream that a newer send replaced (its
        entry goes to the history only: the newer one is on screen)."""
        entry = message.entry
        self.history.insert(0, entry)
        del self.history[HISTORY:]
        self.show_history()
        if message.stream is None:
            self.show_response(entry)
        elif message.stream is self.live:
            self._end_stream(message.stream, entry)
        if self.server is not None:
            self._saves += 1
            self.save_history(service_of(self.server), list(self.history), self._saves)

    def _show_status(self, text: str, ok: bool) -> None:
        status = self.query_one("#status", Static)
        status.set_class(not ok, "failed")
        status.update(text)

    def show_response(self, entry: HistoryEntry) -> None:
        """A whole response: a stream's kept text in the stream view, any other in the response
        pane."""
        r = entry.response
        if r is None:
            self._show_status(f"failed: {entry.error}", ok=False)
        else:
            error = f"  ·  {entry.error}" if entry.error else ""
            self._show_status(r.status_line() + error, ok=r.ok and not entry.error)
        if r is not None and r.stream is not None:
            self._show_stream_view(media_type(r.headers), r.body)
            return
        self.query_one("#stream", TextArea).display = False
        self.query_one("#response").display = True
        self.query_one("#response-headers", Static).update("" if r is None else r.headers_text() + "\n")
        self.query_one("#response-body", Static).update("" if r is None else r.body)

    # ---- tasks -----------------------------------------------------------------------------
    def refresh_tasks(self) -> None:
        """Re-read the listed service's tasks, while this area is on screen (a hidden one would
        read the store every poll for nobody)."""
        if self.task_service is not None and self.is_current:
            self.load_tasks(self.task_service)

    @work(thread=True, exclusive=True, group="load-tasks", exit_on_error=False)
    def load_tasks(self, service: str) -> None:
        try:
            self.post_message(TasksLoaded(service, bridge.load_tasks(service)))
        except BentotuiError as exc:
            self.post_message(TasksLoaded(service, [], error=exc.message))

    def on_tasks_loaded(self, message: TasksLoaded) -> None:
        if message.service != self.task_service:
            return
        if message.error:
            self.notify(message.error, severity="error")
            return
        self.show_tasks(message.rows)

    def show_tasks(self, rows: list[TaskRow]) -> None:
        """The task list, shown only for a service that has tasks (most have none)."""
        table = self.query_one("#tasks", TaskTable)
        table.display = bool(rows)
        table.border_title = f"tasks · {self.task_service} · {len(rows)}"
        table.show(rows, self.app.clock())
        self.refresh_bindings()

    def action_focus_tasks(self) -> None:
        self.query_one("#tasks", TaskTable).focus()

    @on(TaskTable.Requested)
    def _task_requested(self, event: TaskTable.Requested) -> None:
        """Cancel, fetch the result of or retry a task through its API's route (from ``/docs.json``:
        a task's route may differ from its name, ``@bentoml.task(route=...)``)."""
        api = next((a for a in self.apis if a.name == event.row.name), None)
        if api is None or self.url is None:
            self.notify(
                f"{self.url or 'no server'} does not list the task API {event.row.name!r}", severity="warning"
            )
            return
        self.call_task(self.url, api, event.action, event.row.task_id)

    @work(group="task-call", exit_on_error=False)
    async def call_task(self, url: str, api: ApiInfo, action: str, task_id: str) -> None:
        entry = await bridge.task_call(self.app.http, url, api, action, task_id)
        self.post_message(TaskAnswered(action, task_id, entry))

    def on_task_answered(self, message: TaskAnswered) -> None:
        """A result goes to the response pane; a cancel or a retry is a toast (its error, when
        refused, says why), and the list is read again to show the new state at once."""
        entry, short = message.entry, message.task_id[:SHORT_ID]
        if message.action == "get":
            self._leave_stream()
            self.show_response(entry)
            return
        if entry.response is not None and entry.response.ok:
            self.notify(f"task {short} canceled" if message.action == "cancel" else
                        f"task {short} retried as {_new_task_id(entry.response.body)[:SHORT_ID]}")
        else:
            detail = entry.error or (entry.response.body if entry.response else "")
            self.notify(f"cannot {message.action} task {short}: {detail}", severity="error")
        self.refresh_tasks()

    def action_copy_curl(self) -> None:
        """Send the command to the clipboard by OSC 52 (which may reach none: the terminal does
        not say), save it to a file, and show it whole."""
        if self.api is None or self.url is None:
            return
        headers = self._headers()
        if headers is None:
            return
        self.last_curl = curl_command(
            self.url,
            self.api,
            self.query_one("#content-type", Input).value,
            self.query_one("#body", TextArea).text,
            headers,
        )
        self.app.copy_to_clipboard(self.last_curl)
        path = curl_file()
        try:  # a few hundred bytes, on the person's keypress: no worker needed
            path.write_text("#!/bin/sh\n" + self.last_curl + "\n", encoding="utf-8")
            path.chmod(0o755)
        except OSError as exc:
            self.notify(f"cannot save the curl command to {path}: {exc}", severity="error")
            return
        self.notify(
            f"curl command saved to {path} and sent to the clipboard (OSC 52, where the terminal allows)"
        )
        self.show_curl(str(path))

    @on(BodyArea.CurlPasted)
    def _curl_pasted(self, message: BodyArea.CurlPasted) -> None:
        """Fill the request from a pasted curl command: the API at its path on the picked server
        (a curl aimed at another host is sent here, and the toast says so)."""
        try:
            curl = parse_curl(message.command)
        except ValueError as exc:
            self.notify(f"cannot read the pasted curl command: {exc}", severity="error")
            return
        target = urlsplit(curl.url if "://" in curl.url else "http://" + curl.url)
        path = target.path or "/"
        api = next((a for a in self.apis if a.route == path and a.method.upper() == curl.method), None)
        if api is None:
            self.notify(f"no API at {curl.method} {path} on this server", severity="error")
            return
        self._leave_stream()
        self.choose_api(api, curl.body, curl.content_type or api.content_type)
        self.query_one("#headers", Input).value = format_headers(curl.headers)
        here = urlsplit(self.url or "").netloc
        elsewhere = f" (it named {target.netloc}; it goes to {here})" if target.netloc and target.netloc != here else ""
        self.notify(f"curl command read: {curl.method} {path}{elsewhere}; ctrl+s sends it")

    def show_curl(self, saved_to: str) -> None:
        """The whole command in a read-only editor under the status line, where it can be
        selected (mouse, or f7 when focused) until the next send; a toast would cut it."""
        box = self.query_one("#curl", TextArea)
        box.text = self.last_curl
        box.border_title = f"curl · saved to {saved_to}"
        box.display = True

    def action_edit_body(self) -> None:
        self.query_one("#body", TextArea).focus()

    def action_leave_editor(self) -> None:
        """Back out of a text field to the API list, where the area keys (1/2/3) work again."""
        self.query_one("#apis", OptionList).focus()

    def action_reload_apis(self) -> None:
        if self.url:
            self.load_apis(self.url)
