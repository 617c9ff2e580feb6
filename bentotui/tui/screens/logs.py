"""Follow one server's log: tail without reading the whole file, filter, find, level, follow."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.highlighter import Highlighter
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Footer, Header, Input, Log
from textual.worker import get_current_worker

from bentotui.tui import fmt, log_view
from bentotui.tui.log_view import LogLine
from bentotui.tui.messages import LogPending

if TYPE_CHECKING:
    from bentotui.tui.app import BentoApp

#: newest lines kept in memory (and shown); the file itself may be any size
WINDOW = 5000
#: columns of the header that are not its title: the icon (8), the clock space (10) and " — "
_HEADER_CHROME = 21


class _RecordHighlighter(Highlighter):
    """Rich calls this with each line's text as it renders; the view knows which record it is."""

    def __init__(self, view: LogLines) -> None:
        self.view = view

    def highlight(self, text: Text) -> None:
        self.view.style_line(text)


class LogLines(Log):
    """A Log that knows each line's record level: error records and tracebacks in the theme's
    error colour, warnings in its warning colour, timestamps dim, slow latencies and the find
    text marked.  The colours are component classes on theme variables (``$text-error`` …), so
    every theme, light or dark, gets readable ones; Rich's named ``log.*`` styles exist in no
    Textual theme.  ``home``/``end`` go to the screen's top/bottom so they pause and resume
    follow like ``g``/``G`` (the scroll container's own home/end would move the view only)."""

    COMPONENT_CLASSES = {
        "log-lines--error",
        "log-lines--warning",
        "log-lines--timestamp",
        "log-lines--slow",
        "log-lines--match",
    }
    DEFAULT_CSS = """
    LogLines > .log-lines--error { color: $text-error; }
    LogLines > .log-lines--warning { color: $text-warning; }
    LogLines > .log-lines--timestamp { color: $foreground-muted; }
    LogLines > .log-lines--slow { color: $text-warning; text-style: bold underline; }
    LogLines > .log-lines--match { text-style: bold reverse; }
    """
    BINDINGS = [
        Binding("home", "screen.top", "Top", show=False),
        Binding("end", "screen.bottom", "Bottom", show=False),
    ]

    def __init__(self, *, max_lines: int, id: str | None = None) -> None:
        super().__init__(highlight=True, max_lines=max_lines, id=id)
        self.highlighter = _RecordHighlighter(self)
        self.records: deque[LogLine] = deque(maxlen=max_lines)
        self.find_text = ""
        self._rendering = -1

    def write_records(self, records: Iterable[LogLine], scroll_end: bool | None = None) -> None:
        """Append lines; their records stay aligned with the Log's lines (both drop the oldest
        past ``max_lines``; a record's text never splits, see :func:`log_view.classify`)."""
        records = list(records)
        self.records.extend(records)
        self.write_lines([r.text for r in records], scroll_end=scroll_end)

    def clear(self) -> LogLines:
        self.records.clear()
        super().clear()
        return self

    def set_find(self, text: str) -> None:
        """Mark a new find text: every cached line must be drawn again."""
        self.find_text = text
        self.refresh_lines(0, len(self.records))

    def render_line(self, y: int) -> Strip:
        self._rendering = self.scroll_offset.y + y
        return super().render_line(y)

    def style_line(self, text: Text) -> None:
        """Apply :func:`log_view.highlights` of the line being rendered, in theme styles."""
        if not 0 <= self._rendering < len(self.records):
            return
        level = self.records[self._rendering].level
        for start, end, kind in log_view.highlights(text.plain, level, self.find_text):
            text.stylize(self.get_component_rich_style(f"log-lines--{kind}"), start, end)


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
        Binding("escape", "back", "Back", id="logs.back", tooltip="Clear the filters, then close"),
    ]

    def __init__(self, log_path: str, title: str = "log") -> None:
        super().__init__()
        self.log_path = log_path
        self.name_text = title
        self.lines: deque[LogLine] = deque(maxlen=WINDOW)
        self._last: LogLine | None = None  # the newest line read, even after a clear
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
        yield LogLines(max_lines=WINDOW, id="log")
        yield Footer()

    @property
    def view(self) -> LogLines:
        return self.query_one("#log", LogLines)

    def on_mount(self) -> None:
        self.view.focus()
        self.update_status()
        self.tail()

    def on_resize(self, event: events.Resize) -> None:
        self.update_status()

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
        records = log_view.classify(batch, self._last)
        if not records:
            return
        self._last = records[-1]
        self.lines.extend(records)
        shown = log_view.filter_records(records, self.filter_text, self.min_level)
        if shown:
            self.view.write_records(shown, scroll_end=self.follow)

    def redraw(self) -> None:
        view = self.view
        view.clear()
        view.write_records(
            log_view.filter_records(self.lines, self.filter_text, self.min_level), scroll_end=self.follow
        )
        self.cursor = -1
        self.update_status()

    def update_status(self) -> None:
        """FOLLOW/PAUSED leads the sub-title, and the server's name is what gets cut when the
        header is narrow, so the state stays readable at 80 columns."""
        parts = ["FOLLOW" if self.follow else "PAUSED"]
        if self.filter_text:
            parts.append(f"filter '{self.filter_text}'")
        if self.min_level:
            parts.append(f"level ≥ {self.min_level}")
        if self.find_text:
            parts.append(f"find '{self.find_text}'")
        self.sub_title = " · ".join(parts)
        width = self.size.width or self.app.size.width
        room = max(width - _HEADER_CHROME - len(self.sub_title) - len("Logs: "), 12)
        self.title = f"Logs: {fmt.truncate(self.name_text, room)}"

    def _set_follow(self, value: bool) -> None:
        self.follow = value
        self.view.auto_scroll = value
        self.update_status()

    def action_top(self) -> None:
        self._set_follow(False)
        self.view.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self._set_follow(True)
        self.view.scroll_end(animate=False)

    def action_toggle_follow(self) -> None:
        self._set_follow(not self.follow)
        if self.follow:
            self.view.scroll_end(animate=False)

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

    def _set_find(self, text: str) -> None:
        self.find_text = text
        self.view.set_find(text)
        self.cursor = -1
        self.update_status()

    @on(Input.Submitted, "#log-input")
    def _input_done(self, event: Input.Submitted) -> None:
        if self._input_mode == "filter":
            self.filter_text = event.value
            self.redraw()
        else:
            self._set_find(event.value)
            if self.find_text:
                self.action_match(True)
        event.input.display = False
        self.view.focus()

    def action_match(self, forward: bool) -> None:
        """Jump to the next/previous line containing the find text (or the next error)."""
        view = self.view
        if self.find_text:
            matches = log_view.find(view.lines, self.find_text)
        else:
            matches = log_view.error_starts(view.records)
        # without a previous match, start just above the top line shown, so a match there counts
        start = self.cursor if self.cursor >= 0 else (int(view.scroll_y) - 1 if forward else len(view.lines))
        target = log_view.step(matches, start, forward)
        if target is None:
            self.notify("no match", severity="warning")
            return
        self.cursor = target
        self._set_follow(False)
        view.scroll_to(y=max(target - 2, 0), animate=False)

    def action_back(self) -> None:
        """Close the input box; else clear the filters, level and find; else close the view."""
        box = self.query_one("#log-input", Input)
        if box.display:
            box.display = False
            self.view.focus()
        elif self.filter_text or self.min_level or self.find_text:
            self.filter_text, self.min_level = "", None
            self._set_find("")
            self.redraw()
        else:
            self.app.pop_screen()
