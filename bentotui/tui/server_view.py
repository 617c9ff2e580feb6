"""What the Servers table shows: runs from the registry, their health and their traffic (pure).

The runs registry forgets a server once its process is gone, but a person wants to *see* that
it died, and how.  :class:`ServerBook` therefore remembers every run the TUI has seen; a run that
leaves the registry becomes ``stopped`` (it exited cleanly, or the person stopped it) or
``crashed`` (a non-zero exit status or a signal, or an entry left behind by a dead pid) and keeps
its row (with its last log lines) until dismissed.  State is decided here from plain facts (listed
or not, ``/readyz`` answered or not, the exit status) so the rules are tested without processes
or Textual.  The table layout is decided here too: the numbers keep their width, the target
gives way.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bentotui.tui import fmt
from bentotui.tui.stats import Scrape, StatsHistory

STARTING, READY, FAILING, STOPPED, CRASHED = "starting", "ready", "failing", "stopped", "crashed"
DEAD = (STOPPED, CRASHED)

#: Probes in a row without a 200 from ``/readyz`` before a ready server shows as failing: one
#: slow answer is noise, two (about 3 s with the probe timeout) is a hung or broken server.
MISSES_TO_FAIL = 2

#: The tone (colour meaning) of each state; the screen maps tones to the theme's colours.
STATE_TONES = {READY: "success", STARTING: "warning", FAILING: "error", CRASHED: "error", STOPPED: "dim"}

COLUMNS: tuple[tuple[str, str], ...] = (
    ("target", "target"),
    ("port", "port"),
    ("pid", "pid"),
    ("state", "state"),
    ("uptime", "uptime"),
    ("rps", "req/s"),
    ("p50", "p50"),
    ("p99", "p99"),
    ("err", "errors"),
)
#: Widths that fit every value the column can hold (``fmt`` keeps numbers within NUMBER_WIDTH).
FIXED_WIDTHS = {
    "port": 5,
    "pid": 7,
    "uptime": 6,
    "rps": fmt.NUMBER_WIDTH,
    "p50": fmt.NUMBER_WIDTH,
    "p99": fmt.NUMBER_WIDTH,
    "err": fmt.NUMBER_WIDTH,
}
#: Dropped, in this order, when the target would get narrower than MIN_TARGET (the detail pane
#: still shows them).
OPTIONAL_COLUMNS = ("pid",)
MIN_TARGET = 12
CELL_PADDING = 1  # DataTable's default, on each side of every cell
SCROLLBAR = 2  # kept free so a vertical scrollbar never pushes the last column off screen

MODEL_PREFIX = "--model "
SPARK_BARS = "▁▂▃▄▅▆▇█"
#: (series key in StatsHistory.series, widget key, label, formatter)
SPARKS: tuple[tuple[str, str, str, Callable[[float | None], str]], ...] = (
    ("req/s", "rps", "req/s", fmt.rate),
    ("p50 ms", "p50", "p50", fmt.ms),
    ("p99 ms", "p99", "p99", fmt.ms),
)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and its tone (``success``, ``warning``, ``error``, ``dim``)."""

    text: str
    tone: str | None = None


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int


def epoch(value: Any) -> float | None:
    """A run's ``started_at`` as epoch seconds, whether stored as a number, datetime or ISO text."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def display_target(target: str) -> str:
    """The target as the table shows it: ``--model iris:v1`` reads ``model iris:v1``."""
    if target.startswith(MODEL_PREFIX):
        return "model " + target[len(MODEL_PREFIX) :].strip()
    return target


def exit_label(code: int) -> str:
    """``crashed (exit 2)`` or, for a negative (signal) status, ``killed (SIGKILL)``."""
    if code >= 0:
        return f"{CRASHED} (exit {code})"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed ({name})"


_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt)\b")


def last_error_line(lines: Sequence[str]) -> str | None:
    """The last line of a log that says what went wrong (the CLI's ``error:`` line, an exception
    line, or an ERROR/CRITICAL record), for the toast of a crash; None if there is none."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith("error: "):
            return text.removeprefix("error: ")
        if _EXCEPTION_LINE.match(text) or " ERROR " in text or " CRITICAL " in text:
            return text
    return None


def crash_notice(what: str, log_path: str, lines: Sequence[str]) -> str:
    """The toast for a death nobody asked for: ``what`` (target and state) and why, from the log."""
    reason = last_error_line(lines)
    return f"{what}: {reason}" if reason else f"{what} (log: {log_path})"


def spark(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as bars on a scale from 0 to their maximum: the bars keep their
    meaning (an idle server draws a flat baseline, never full bars) and any traffic shows."""
    shown = list(values)[-width:] if width > 0 else []
    top = max(shown, default=0.0)
    if top <= 0:
        return SPARK_BARS[0] * len(shown)
    last = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[0] if v <= 0 else SPARK_BARS[max(1, round(v / top * last))] for v in shown)


def spark_label(
    label: str,
    values: Sequence[float],
    times: Sequence[float],
    width: int,
    number: Callable[[float | None], str],
) -> str:
    """The scale of :func:`spark`'s bars: the latest value, the maximum (a full bar) and the time
    the bars cover, e.g. ``p50  now 59.3ms  max 1.75s  last 1m58s``."""
    shown = list(values)[-width:] if width > 0 else []
    if not shown:
        return f"{label}  (no traffic data yet)"
    text = f"{label}  now {number(shown[-1])}  max {number(max(shown))}"
    stamps = list(times)[-len(shown) :]
    if len(stamps) > 1:
        text += f"  last {fmt.duration(stamps[-1] - stamps[0])}"
    return text


def layout(width: int, entries: Iterable[ServerEntry]) -> tuple[Column, ...]:
    """The columns for a table ``width`` cells wide.  Numbers and the state keep the width their
    values need; when space runs out the optional columns go first, then the target shrinks."""
    entries = list(entries)
    widths = dict(FIXED_WIDTHS)
    widths["state"] = max([len(STARTING), *(len(e.label) for e in entries)])
    wanted = max([len("target"), *(len(display_target(str(e.run.target))) for e in entries)])
    keys = [key for key, _ in COLUMNS]

    def spare() -> int:
        used = sum(widths[k] + 2 * CELL_PADDING for k in keys if k != "target")
        return width - SCROLLBAR - used - 2 * CELL_PADDING

    for optional in OPTIONAL_COLUMNS:
        if spare() >= min(wanted, MIN_TARGET):
            break
        keys.remove(optional)
    widths["target"] = max(len("target"), min(wanted, spare()))
    titles = dict(COLUMNS)
    return tuple(Column(key, titles[key], widths[key]) for key in keys)


@dataclass
class ServerEntry:
    """One server as the TUI knows it."""

    run: Any  # bentotui.runs.RunInfo
    state: str = STARTING
    ever_ready: bool = False
    stopped_at: float | None = None
    stats: StatsHistory = field(default_factory=StatsHistory)
    missed: int = 0  # probes in a row without a 200 from /readyz
    exit_code: int | None = None  # known for the servers this TUI started
    unclean: bool = False  # its registry entry outlived its process
    stop_requested: bool = False  # the person stopped or restarted it: no crash toast

    @property
    def id(self) -> str:
        return str(self.run.id)

    @property
    def url(self) -> str:
        return str(self.run.url)

    @property
    def alive(self) -> bool:
        return self.state not in DEAD

    @property
    def label(self) -> str:
        """The state as shown: ``crashed`` says how (``crashed (exit 2)``, ``killed (SIGKILL)``)."""
        if self.state != CRASHED or self.exit_code is None:
            return self.state
        return exit_label(self.exit_code)

    @property
    def crashed(self) -> bool:
        """Whether a dead server died badly: the exit status decides when known (a SIGTERM the
        person asked for is a stop), else an entry left behind by its process."""
        if self.exit_code is None:
            return self.unclean
        return self.exit_code != 0 and not (self.stop_requested and self.exit_code == -signal.SIGTERM)

    def cells(self, now: float) -> dict[str, Cell]:
        """Every column's cell, keyed like COLUMNS; the target at full length."""
        started = epoch(self.run.started_at)
        end = self.stopped_at if self.stopped_at is not None else now
        latest = self.stats.latest if self.alive else None
        errors = latest.error_rate if latest else None
        return {
            "target": Cell(display_target(str(self.run.target))),
            "port": Cell(str(self.run.port)),
            "pid": Cell(str(self.run.pid)),
            "state": Cell(self.label, STATE_TONES[self.state]),
            "uptime": Cell(fmt.duration(end - started) if started is not None else "-"),
            "rps": Cell(fmt.rate(latest.req_per_s if latest else None)),
            "p50": Cell(fmt.ms(latest.p50_ms if latest else None)),
            "p99": Cell(fmt.ms(latest.p99_ms if latest else None)),
            "err": Cell(fmt.percent(errors), "error" if errors else None),
        }

    def row(self, columns: Sequence[Column], now: float) -> list[Cell]:
        """The cells of ``columns``, the target cut to its column with an ellipsis."""
        cells = self.cells(now)
        target = cells["target"]
        cells["target"] = Cell(fmt.truncate(target.text, next(c.width for c in columns if c.key == "target")))
        return [cells[column.key] for column in columns]


class ServerBook:
    """Every server seen since the TUI started, keyed by run id, in first-seen order (a restart
    takes the place of the run it replaces)."""

    def __init__(self) -> None:
        self.entries: dict[str, ServerEntry] = {}
        #: The run the Servers cursor should move to next (one just started); the screen takes it.
        self.cursor: str | None = None

    def update_runs(
        self,
        runs: Iterable[Any],
        now: float,
        dead: Iterable[Any] = (),
        exits: Mapping[str, int] | None = None,
    ) -> list[ServerEntry]:
        """Merge a fresh registry listing: new runs appear, vanished ones become ``stopped`` or
        ``crashed``.  ``dead`` are the entries swept because their process was gone; ``exits``
        the exit status of the servers this TUI started.  Returns the servers that just turned
        out to have crashed without anyone asking them to stop (the ones to tell the person about).
        """
        listed = {str(run.id): run for run in runs}
        for run_id, run in listed.items():
            self._listed(run_id, run, now)
        for run in dead:
            if (entry := self.entries.get(str(run.id))) is not None:
                entry.unclean = True
        for run_id in list(self.entries):
            if run_id not in listed:
                self.mark_stopped(run_id, now)
        for run_id, code in (exits or {}).items():
            entry = self.entries.get(run_id)
            if entry is not None and not entry.alive:
                entry.exit_code = code
        return [entry for entry in self.entries.values() if self._settle(entry)]

    def _listed(self, run_id: str, run: Any, now: float) -> None:
        entry = self.entries.get(run_id)
        if entry is None or entry.run.pid != run.pid:
            self.entries[run_id] = ServerEntry(run=run)
        else:
            entry.run = run
            if not entry.alive:  # same pid listed again: it was a slow registry write
                entry.state, entry.stopped_at, entry.unclean = STARTING, None, False
        if str(getattr(run, "state", "")) in (STOPPED, "dead", "exited"):
            self.mark_stopped(run_id, now)

    @staticmethod
    def _settle(entry: ServerEntry) -> bool:
        """Decide a dead entry's state; True when it has just become a crash nobody asked for."""
        if entry.alive:
            return False
        state = CRASHED if entry.crashed else STOPPED
        news = state == CRASHED and entry.state != CRASHED and not entry.stop_requested
        entry.state = state
        return news

    def mark_stopped(self, run_id: str, now: float) -> None:
        entry = self.entries[run_id]
        if entry.alive:
            entry.state, entry.stopped_at = STOPPED, now

    def request_stop(self, run_id: str) -> None:
        """The person is stopping (or restarting) this server: its death is no crash to report."""
        if (entry := self.entries.get(run_id)) is not None:
            entry.stop_requested = True

    def add_started(self, run: Any, replaces: str | None = None) -> None:
        """A server this TUI just started: its row takes the place of the run it ``replaces``
        (restart in place) or goes last, and the cursor follows it."""
        run_id = str(run.id)
        entry = self.entries.pop(run_id, None) or ServerEntry(run=run)
        if replaces in self.entries:
            self.entries = {
                (run_id if key == replaces else key): (entry if key == replaces else value)
                for key, value in self.entries.items()
            }
        else:
            self.entries[run_id] = entry
        self.cursor = run_id

    def record_probe(self, run_id: str, ready: bool, scrape: Scrape | None) -> None:
        """Apply one poll: ``/readyz`` said ``ready``; ``scrape`` is the parsed ``/metrics``, None
        when it failed (then the numbers are unknown, not zero)."""
        entry = self.entries.get(run_id)
        if entry is None or not entry.alive:
            return
        if ready:
            entry.state, entry.ever_ready, entry.missed = READY, True, 0
        else:
            entry.missed += 1
            if not entry.ever_ready:
                entry.state = STARTING
            elif entry.missed >= MISSES_TO_FAIL:
                entry.state = FAILING
        if scrape is None:
            entry.stats.miss()
        else:
            entry.stats.add(scrape)

    def forget(self, run_id: str) -> None:
        self.entries.pop(run_id, None)

    def live(self) -> list[ServerEntry]:
        return [e for e in self.entries.values() if e.alive]

    def ready(self) -> list[ServerEntry]:
        return [e for e in self.entries.values() if e.state == READY]
