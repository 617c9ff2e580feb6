"""Every message the TUI's workers post to the UI.

Workers do I/O and never touch widgets; they post one of these and an ``on_*`` handler applies
it.  Messages that only carry "the latest value" say so with ``can_replace`` so a busy UI keeps
just the newest one in its queue (toolong's coalescing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from bentotui.tui.request_view import ApiInfo, HistoryEntry, StreamProgress
from bentotui.tui.stats import Scrape
from bentotui.tui.store_view import StoreRow
from bentotui.tui.task_view import TaskRow


@dataclass
class StoreLoaded(Message):
    """A fresh listing of the model and bento stores."""

    rows: list[StoreRow]
    error: str | None = None


@dataclass
class RunsListed(Message):
    """A fresh listing of the runs registry: live runs, the entries swept because their process
    was gone (it did not stop cleanly), and the exit status of the servers this TUI started."""

    runs: list[Any]
    dead: list[Any] = field(default_factory=list)
    exits: dict[str, int] = field(default_factory=dict)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsListed) and not message.dead  # a crash report is never dropped


@dataclass
class ServerProbed(Message):
    """One poll of a server: ``/readyz`` answered 200 or not, and its parsed ``/metrics``."""

    run_id: str
    ready: bool
    scrape: Scrape | None


@dataclass
class ServerStarted(Message):
    """The TUI started ``run`` (in place of the run ``replaces``, for a restart)."""

    run: Any
    replaces: str | None = None


@dataclass
class TaskDone(Message):
    """A user-started operation (delete, export, start, stop...) finished: tell the person."""

    text: str
    error: bool = False
    refresh_store: bool = False
    refresh_runs: bool = False


@dataclass
class LogPending(Message):
    """New lines wait in the log screen's buffer; only one of these needs to be queued."""

    reset: bool = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogPending) and not message.reset


@dataclass
class ApisLoaded(Message):
    """A server's APIs from ``/docs.json``."""

    url: str
    apis: list[ApiInfo]
    error: str | None = None


@dataclass
class HistoryLoaded(Message):
    """A service's saved request history, newest first."""

    service: str
    entries: list[HistoryEntry]


@dataclass
class ResponseReceived(Message):
    """A test request came back (or failed to); for a streaming API, once its stream ended, with
    the :class:`StreamProgress` that showed it live."""

    entry: HistoryEntry
    stream: StreamProgress | None = None


@dataclass
class StreamPending(Message):
    """A stream has new text (or just opened): the screen takes all of it from its
    :class:`StreamProgress`, so only one of these needs to be queued."""

    stream: StreamProgress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StreamPending) and message.stream is self.stream


@dataclass
class LastLogLines(Message):
    """The tail of a server's log, for the Servers detail pane."""

    run_id: str
    lines: list[str]


@dataclass
class TasksLoaded(Message):
    """The newest tasks of a service, newest first (or why they could not be read)."""

    service: str
    rows: list[TaskRow]
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TasksLoaded) and message.service == self.service


@dataclass
class TaskAnswered(Message):
    """A task route (``cancel`` or ``get``) answered, or failed to: ``entry`` names the route."""

    action: str
    task_id: str
    entry: HistoryEntry


@dataclass
class RunnersFetched(Message):
    """One poll of a server's ``/runners.json`` for the batching panel (or why it failed)."""

    url: str
    body: dict[str, Any] | None
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunnersFetched) and message.url == self.url


@dataclass
class PredictionsLoaded(Message):
    """A read of the prediction logs: every monitor, the one shown and its newest records."""

    monitors: list[Any]
    monitor: str | None
    records: list[dict[str, Any]]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PredictionsLoaded)
