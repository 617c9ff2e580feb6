"""What the Servers table shows: runs from the registry, their health and their traffic (pure).

The runs registry forgets a server once its process is gone, but a person wants to *see* that
it died.  :class:`ServerBook` therefore remembers every run the TUI has seen; a run that leaves
the registry becomes ``stopped`` and keeps its row (with its last log lines) until dismissed.
State is decided here from plain facts (listed or not, ``/readyz`` answered or not) so the rules
are tested without processes or Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bentotui.tui import fmt
from bentotui.tui.stats import Scrape, StatsHistory

STARTING, READY, FAILING, STOPPED = "starting", "ready", "failing", "stopped"

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


def epoch(value: Any) -> float | None:
    """A run's ``started_at`` as epoch seconds, whether stored as a number, datetime or ISO text."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


@dataclass
class ServerEntry:
    """One server as the TUI knows it."""

    run: Any  # bentotui.runs.RunInfo
    state: str = STARTING
    ever_ready: bool = False
    stopped_at: float | None = None
    stats: StatsHistory = field(default_factory=StatsHistory)

    @property
    def id(self) -> str:
        return str(self.run.id)

    @property
    def url(self) -> str:
        return str(self.run.url)

    @property
    def alive(self) -> bool:
        return self.state != STOPPED

    def cells(self, now: float) -> tuple[str, ...]:
        started = epoch(self.run.started_at)
        end = self.stopped_at if self.stopped_at is not None else now
        latest = self.stats.latest if self.alive else None
        return (
            str(self.run.target),
            str(self.run.port),
            str(self.run.pid),
            self.state,
            fmt.duration(end - started) if started is not None else "-",
            fmt.rate(latest.req_per_s if latest else None),
            fmt.ms(latest.p50_ms if latest else None),
            fmt.ms(latest.p99_ms if latest else None),
            fmt.percent(latest.error_rate if latest else None),
        )


class ServerBook:
    """Every server seen since the TUI started, keyed by run id, in first-seen order."""

    def __init__(self) -> None:
        self.entries: dict[str, ServerEntry] = {}

    def update_runs(self, runs: Iterable[Any], now: float) -> None:
        """Merge a fresh registry listing: new runs appear, vanished ones become ``stopped``."""
        listed = {}
        for run in runs:
            listed[str(run.id)] = run
        for run_id, run in listed.items():
            entry = self.entries.get(run_id)
            if entry is None or entry.run.pid != run.pid:
                self.entries[run_id] = ServerEntry(run=run)
            else:
                entry.run = run
                if entry.state == STOPPED:  # same pid listed again: it was a slow registry write
                    entry.state, entry.stopped_at = STARTING, None
            if str(getattr(run, "state", "")) in (STOPPED, "dead", "exited"):
                self.mark_stopped(run_id, now)
        for run_id in list(self.entries):
            if run_id not in listed:
                self.mark_stopped(run_id, now)

    def mark_stopped(self, run_id: str, now: float) -> None:
        entry = self.entries[run_id]
        if entry.state != STOPPED:
            entry.state, entry.stopped_at = STOPPED, now

    def record_probe(self, run_id: str, ready: bool, scrape: Scrape | None) -> None:
        """Apply one poll: ``/readyz`` said ``ready``; ``scrape`` is the parsed ``/metrics``."""
        entry = self.entries.get(run_id)
        if entry is None or entry.state == STOPPED:
            return
        if ready:
            entry.state, entry.ever_ready = READY, True
        else:
            entry.state = FAILING if entry.ever_ready else STARTING
        if scrape is not None:
            entry.stats.add(scrape)

    def forget(self, run_id: str) -> None:
        self.entries.pop(run_id, None)

    def live(self) -> list[ServerEntry]:
        return [e for e in self.entries.values() if e.alive]

    def ready(self) -> list[ServerEntry]:
        return [e for e in self.entries.values() if e.state == READY]
