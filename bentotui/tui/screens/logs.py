"""Follow one server's log: tail without reading the whole file, filter, find, level, follow."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from rich.highlighter import RegexHighlighter
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Log
from textual.worker import get_current_worker

from bentotui.tui import log_view
from bentotui.tui.messages import LogPending

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: newest lines kept in memory (and shown); the file itself may be any size
WINDOW = 5000


class LevelHighlighter(RegexHighlighter):
    """Colours levels and tracebacks so errors stand out."""

    base_style = "log."
    highlights = [
        r"(?P<error>\b(ERROR|CRITICAL|FATAL|Traceback)\b.*)",
        r"(?P<warning>\bWARN(ING)?\b)",
        r"(?P<status5>\b(GET|POST|PUT|DELETE) \S+ 5\d\d\b)",
        r"(?P<info>\bINFO\b)",
    ]


class LogsScreen(Screen[None]):
    app: BentoApp  # the screen's App, typed (Textual's own annotation is App[Any])
    AUTO_FOCUS = "#log"
    BINDINGS = [
        Binding("g,home", "top", "Top", id="logs.top"),
        Binding("G,end", "bottom", "Bottom+follow", id="logs.bottom"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow", tooltip="Pause or resume following"),
        Binding("slash", "filter", "Filter", id="logs.filter", tooltip="Show only lines containing text"),
        Binding("ctrl+f", "find", "Find", id="logs.find", tooltip="Find text; n/N jump between matches"),
        Binding("n", "match(True)", "Next", id="logs.next", tooltip="Next match (or next error)"),
        Binding("N", "match(False)", "Prev", id="logs.prev", show=False),
        Binding("v", "level", "Level", id="logs.level", tooltip="Cycle the minimum level shown"),
        Binding("ctrl+l", "clear", "Clear", id="logs.clear", show=False),
        Binding("escape", "back", "Back", id="logs.back"),
    ]

    def __init__(self, log_path: str, title: str = "log") -> None:
        super().__init__()
        self.log_path = log_path
        self.title = f"Logs: {title}"
        self.lines: deque[str] = deque(maxlen=WINDOW)
        self._incoming: deque[str] = deque()
        self.filter_text = ""
        self.find_text = ""
        self.min_level: str | None = None
        self.follow = True
        self.cursor = -1  # index in the shown lines of the last match jumped to
        self._input_mode = "filter"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(id="log-input")
        view = Log(highlight=True, max_lines=WINDOW, id="log")
        view.highlighter = LevelHighlighter()
        yield view
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.update_status()
        self.tail()

    @work(thread=True, exclusive=True, group="log-tail", exit_on_error=False)
    def tail(self) -> None:
        """Read the last lines, then follow appended bytes; lines go through a buffer + one message."""
        from bentotui.logs import follow, tail_lines

        worker = get_current_worker()
        self._incoming.extend(tail_lines(self.log_path, WINDOW))
        self.post_message(LogPending(reset=True))
        for line in follow(self.log_path, from_end=True, poll_s=0.1, stop=lambda: worker.is_cancelled):
            self._incoming.append(line)
            if len(self._incoming) == 1:
                self.post_message(LogPending())

    def on_log_pending(self, message: LogPending) -> None:
        batch = []
        while self._incoming:
            batch.append(self._incoming.popleft())
        self.lines.extend(batch)
        shown = log_view.filter_lines(batch, self.filter_text, self.min_level)
        if shown:
            self.query_one(Log).write_lines(shown, scroll_end=self.follow)

    def redraw(self) -> None:
        view = self.query_one(Log)
        view.clear()
        view.write_lines(
            log_view.filter_lines(self.lines, self.filter_text, self.min_level), scroll_end=self.follow
        )
        self.cursor = -1
        self.update_status()

    def update_status(self) -> None:
        parts = ["FOLLOW" if self.follow else "PAUSED"]
        if self.filter_text:
            parts.append(f"filter '{self.filter_text}'")
        if self.min_level:
            parts.append(f"level ≥ {self.min_level}")
        if self.find_text:
            parts.append(f"find '{self.find_text}'")
        self.sub_title = " · ".join(parts)

    def _set_follow(self, value: bool) -> None:
        self.follow = value
        self.query_one(Log).auto_scroll = value
        self.update_status()

    def action_top(self) -> None:
        self._set_follow(False)
        self.query_one(Log).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self._set_follow(True)
        self.query_one(Log).scroll_end(animate=False)

    def action_toggle_follow(self) -> None:
        self._set_follow(not self.follow)
        if self.follow:
            self.query_one(Log).scroll_end(animate=False)

    def action_level(self) -> None:
        self.min_level = log_view.next_level(self.min_level)
        self.redraw()

    def action_clear(self) -> None:
        self.lines.clear()
        self.redraw()

    def _ask(self, mode: str, value: str, placeholder: str) -> None:
        self._input_mode = mode
        box = self.query_one("#log-input", Input)
        box.placeholder, box.value, box.display = placeholder, value, True
        box.focus()

    def action_filter(self) -> None:
        self._ask("filter", self.filter_text, "show only lines containing…")

    def action_find(self) -> None:
        self._ask("find", self.find_text, "find…")

    @on(Input.Submitted, "#log-input")
    def _input_done(self, event: Input.Submitted) -> None:
        if self._input_mode == "filter":
            self.filter_text = event.value
            self.redraw()
        else:
            self.find_text = event.value
            self.cursor = -1
            self.update_status()
            self.action_match(True)
        event.input.display = False
        self.query_one(Log).focus()

    def action_match(self, forward: bool) -> None:
        """Jump to the next/previous line containing the find text (or the next error line)."""
        view = self.query_one(Log)
        shown = view.lines
        if self.find_text:
            matches = log_view.find(shown, self.find_text)
        else:
            matches = [i for i, line in enumerate(shown) if log_view.level_of(line) == "ERROR"]
        start = self.cursor if self.cursor >= 0 else (int(view.scroll_y) if forward else len(shown))
        target = log_view.step(matches, start, forward)
        if target is None:
            self.notify("no match", severity="warning")
            return
        self.cursor = target
        self._set_follow(False)
        view.scroll_to(y=max(target - 2, 0), animate=False)

    def action_back(self) -> None:
        box = self.query_one("#log-input", Input)
        if box.display:
            box.display = False
            self.query_one(Log).focus()
        else:
            self.app.pop_screen()
