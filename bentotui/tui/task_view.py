"""The task list's logic (pure): one row per ``@bentoml.task`` record, states coloured by meaning.

The Requests area lists the tasks of the picked server's service, read from the task store
(:func:`bentotui.store.tasks.list_tasks`, which works without a server) by a worker; this module
turns those records into table cells, so the columns and tones are unit-tested without Textual.
Created and finished are absolute times (UTC, as the Models area shows its times), so a refresh
rewrites only the cells of the tasks whose state or running time changed; the running time counts
up against a ``now`` passed in (the snapshot tests freeze it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from bentotui.store.tasks import ResultStatus, TaskRecord
from bentotui.tui import fmt
from bentotui.tui.server_view import Cell, Column, epoch

#: records read per refresh: the newest ones (the store keeps up to 1,000 per service)
TASK_LIMIT = 200
#: characters of a task id shown; the id is 32 hex digits, and 8 tell a screenful apart
SHORT_ID = 8

#: BentoML's states and their tones: queued is dim, running yellow (as a starting server),
#: completed green, failed red, cancelled dim (finished, not an error)
STATE_TONES = {
    ResultStatus.PENDING: "dim",
    ResultStatus.IN_PROGRESS: "warning",
    ResultStatus.COMPLETED: "success",
    ResultStatus.FAILED: "error",
    ResultStatus.CANCELED: "dim",
}

TASK_COLUMNS = (
    Column("id", "id", SHORT_ID),
    Column("name", "task", 14),
    Column("state", "state", len("in_progress")),
    Column("created", "created", len("11-28 03:32:07")),
    Column("finished", "finished", len("11-28 03:32:07")),
    Column("took", "took", 7),
)


@dataclass(frozen=True)
class TaskRow:
    """One task as the table shows it; ``task_id`` (the full id) keys the row and names the task
    in the cancel and result routes, ``name`` is its API (whose route the screen knows)."""

    task_id: str
    name: str
    status: ResultStatus
    created: float
    executed: float | None
    completed: float | None
    error: str | None = None

    @classmethod
    def of(cls, record: TaskRecord) -> TaskRow:
        return cls(
            record.task_id,
            record.name,
            record.status,
            epoch(record.created_at) or 0.0,
            epoch(record.executed_at),
            epoch(record.completed_at),
            record.error,
        )

    @property
    def finished(self) -> bool:
        return self.status not in (ResultStatus.PENDING, ResultStatus.IN_PROGRESS)

    def took(self, now: float) -> float | None:
        """Seconds it ran: from start to end, or to ``now`` while it runs (so it counts up live);
        a task cancelled before it started never ran."""
        if self.executed is None:
            return None
        return (self.completed if self.completed is not None else now) - self.executed

    def cells(self, now: float) -> tuple[Cell, ...]:
        return (
            Cell(self.task_id[:SHORT_ID], "dim"),
            Cell(fmt.truncate(self.name, TASK_COLUMNS[1].width)),
            Cell(self.status.value, STATE_TONES[self.status]),
            Cell(_at(self.created)),
            Cell(_at(self.completed)),
            Cell(fmt.ms(None if (took := self.took(now)) is None else took * 1000)),
        )


def _at(when: float | None) -> str:
    return fmt.moment(None if when is None else datetime.fromtimestamp(when, timezone.utc))


def task_rows(records: list[TaskRecord]) -> list[TaskRow]:
    """The newest :data:`TASK_LIMIT` records (``list_tasks`` gives them newest first) as rows."""
    return [TaskRow.of(r) for r in records[:TASK_LIMIT]]
