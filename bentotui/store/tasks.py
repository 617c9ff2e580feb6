"""The task store: one record per ``@bentoml.task`` run, kept under ``$BENTOTUI_HOME/tasks/``.

A server answers ``status``/``get`` of a finished task after a restart, and the TUI lists tasks
without a server, so every task is a small JSON record on disk, ``tasks/<service>/<id>.json``,
beside its request body (``<id>.in``) and, once finished, its response body (``<id>.out``).  Each
file is written to a temporary name, fsync'd and renamed over the old one (``os.replace``), so a
reader never sees half a record; bodies are written before the record that names them.

Several processes can touch one service's folder (two servers of the same service, the TUI): each
server holds ``.owners/<owner>.lock`` while it lives and stamps its records with that owner id, so
an unfinished record whose owner's lock is free was cut off by a crash or a stop and is turned
into a failure saying so (:meth:`TaskStore.recover`).  Recovery and clean-up take ``.lock``.

Bounded: a response body over ``max_result_bytes`` is not stored (the task fails saying why; the
request body is already bounded by the server's ``--max-body``), finished records older than
``retention_s`` (BentoML's 24 hours) are deleted, and at most ``keep`` finished records are kept per
service, oldest deleted first.  Nothing of the server stack nor any ML library is imported here
(the standard library, ``filelock`` and the store's own helpers), so the TUI can list tasks cheaply.
"""

from __future__ import annotations

import enum
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bentotui import paths
from bentotui.exceptions import NotFound
from bentotui.store.item_store import _file_lock, _lock_if_free

#: request headers never written to disk: credentials do not belong in a task record
PRIVATE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_TASK_ID = re.compile(r"[0-9a-f]{32}")
_LOCK_TIMEOUT_S = 10.0


class ResultStatus(str, enum.Enum):
    """BentoML's task states (``_bentoml_impl.tasks.ResultStatus`` since 1.4.15, "aligned with
    BentoCloud"; 1.4.8's were success/failure/cancelled): ``pending`` is queued, not started yet."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class TaskLimits:
    """How much one service's folder keeps (see the module docstring)."""

    max_result_bytes: int = 64 * 1024 * 1024
    retention_s: float = 24 * 60 * 60
    keep: int = 1000


@dataclass
class Body:
    """A stored request or response: its headers (``content-type`` among them) and size; the
    bytes live in a file of their own.  ``status`` is the HTTP status of a response."""

    headers: list[tuple[str, str]]
    size: int
    status: int = 200

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k == "content-type"), "")


@dataclass
class TaskRecord:
    """One task: BentoML's fields (id, status, created/executed/completed times) plus what a
    restart and the TUI need (service, API name, owner, why it failed)."""

    task_id: str
    service: str
    name: str
    status: ResultStatus
    created_at: str
    owner: str
    executed_at: str | None = None
    completed_at: str | None = None
    #: why a task failed without a response of its own (interrupted, timed out, result too large),
    #: or who cancelled it
    error: str | None = None
    input: Body | None = None
    result: Body | None = None

    @property
    def finished(self) -> bool:
        return self.status not in (ResultStatus.PENDING, ResultStatus.IN_PROGRESS)

    def status_json(self) -> dict[str, Any]:
        """The body of BentoML's ``GET /<task>/status`` (``ResultRow.to_json``)."""
        return {
            "task_id": self.task_id,
            "status": self.status.value,
            "created_at": self.created_at,
            "executed_at": self.executed_at,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = ResultStatus(values["status"])
        for key in ("input", "result"):
            if values.get(key) is not None:
                body = values[key]
                values[key] = Body([(k, v) for k, v in body["headers"]], body["size"], body.get("status", 200))
        return cls(**values)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def tasks_dir(service: str) -> Path:
    """``$BENTOTUI_HOME/tasks/<service>``, read at call time (tests move the home)."""
    return paths.home() / "tasks" / service


def list_tasks(service_name: str, limit: int | None = None) -> list[TaskRecord]:
    """The tasks of a service, newest first (the ``limit`` newest, else all), interrupted ones
    already shown as failed (what the TUI lists; works without a server)."""
    store = TaskStore(service_name)
    store.recover()
    if limit is None:
        return sorted(store.records(), key=lambda r: r.created_at, reverse=True)
    return store.newest(limit)


@dataclass
class TaskStore:
    """One service's task folder; ``owner`` is the id a serving process stamps its records with
    (:meth:`claim`)."""

    service: str
    limits: TaskLimits = field(default_factory=TaskLimits)
    owner: str = ""
    _owner_lock: Any = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return tasks_dir(self.service)

    # --- ownership and recovery ------------------------------------------------------------------

    def claim(self) -> str:
        """Become an owner (held until the process exits), fail what dead owners left running and
        clean up; returns the owner id."""
        owners = self.root / ".owners"
        owners.mkdir(parents=True, exist_ok=True)
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._owner_lock = _file_lock(owners / f"{self.owner}.lock", timeout=0)
        self._owner_lock.acquire()
        self.recover()
        self.prune()
        return self.owner

    def recover(self) -> list[TaskRecord]:
        """Turn the unfinished records of owners that are gone into failures; returns them."""
        owners = self.root / ".owners"
        if not owners.is_dir():
            return []
        recovered: list[TaskRecord] = []
        with self._locked():
            running = [r for r in self.records() if not r.finished and r.owner != self.owner]
            for owner in {r.owner for r in running}:
                lock_path = owners / f"{owner}.lock"
                with _lock_if_free(lock_path) as gone:
                    if not gone:
                        continue
                    for record in (r for r in running if r.owner == owner):
                        self.finish(record, ResultStatus.FAILED, error="interrupted: the server stopped before the task finished")
                        recovered.append(record)
                lock_path.unlink(missing_ok=True)
        return recovered

    # --- records ---------------------------------------------------------------------------------

    def new(self, name: str, body: bytes, headers: list[tuple[str, str]]) -> TaskRecord:
        """A new ``pending`` task of API ``name`` with its request (private headers dropped)."""
        kept = [(k, v) for k, v in headers if k not in PRIVATE_HEADERS]
        record = TaskRecord(
            task_id=uuid.uuid4().hex, service=self.service, name=name, status=ResultStatus.PENDING,
            created_at=now_iso(), owner=self.owner, input=Body(kept, len(body)),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._path(record.task_id, ".in"), body)
        self.save(record)
        return record

    def get(self, task_id: str) -> TaskRecord:
        """The record of ``task_id``; an unknown or malformed id is ``NotFound`` naming it."""
        path = self._path(task_id, ".json") if _TASK_ID.fullmatch(task_id) else None
        try:
            if path is None:
                raise FileNotFoundError(task_id)
            return TaskRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            raise NotFound("task not found", f"no task {task_id!r} in service {self.service!r}") from None

    def records(self) -> Iterator[TaskRecord]:
        """Every readable record (one being deleted meanwhile, or corrupt, is skipped)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*.json"):
            try:
                yield self.get(path.stem)
            except NotFound:
                continue

    def newest(self, limit: int) -> list[TaskRecord]:
        """The ``limit`` most recently created records, newest first, reading about ``limit``
        files rather than every one kept (up to ``max_kept``).

        A record is written when its task is created and again as it changes, so its file's
        mtime is never before its ``created_at``.  Files are read newest mtime first; once
        ``limit`` records are in hand, a file older than the oldest of them (less a second for
        clock granularity) cannot hold a newer task, and the rest are not read.
        """
        if not self.root.is_dir():
            return []
        stamped = []
        for path in self.root.glob("*.json"):
            try:
                stamped.append((path.stat().st_mtime, path.stem))
            except FileNotFoundError:  # deleted by the pruner meanwhile
                continue
        stamped.sort(reverse=True)
        kept: list[tuple[float, TaskRecord]] = []
        for mtime, task_id in stamped:
            if len(kept) >= limit and mtime < kept[limit - 1][0] - _CLOCK_SLACK_S:
                break
            try:
                record = self.get(task_id)
            except NotFound:
                continue
            kept.append((_timestamp(record.created_at), record))
            kept.sort(key=lambda pair: pair[0], reverse=True)
        return [record for _, record in kept[:limit]]

    def save(self, record: TaskRecord) -> None:
        _write_atomic(self._path(record.task_id, ".json"), json.dumps(record.to_dict()).encode())

    def started(self, record: TaskRecord) -> None:
        record.status, record.executed_at = ResultStatus.IN_PROGRESS, now_iso()
        self.save(record)

    def store_result(self, record: TaskRecord, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        """Write a response body (before :meth:`finish` names it); False when it is over the
        limit, which then is the task's failure."""
        if len(body) > self.limits.max_result_bytes:
            return False
        _write_atomic(self._path(record.task_id, ".out"), body)
        record.result = Body(headers, len(body), status)
        return True

    def finish(self, record: TaskRecord, status: ResultStatus, *, error: str | None = None) -> None:
        record.status, record.error, record.completed_at = status, error, now_iso()
        self.save(record)

    def read_input(self, record: TaskRecord) -> bytes:
        return self._path(record.task_id, ".in").read_bytes()

    def read_result(self, record: TaskRecord) -> bytes:
        return self._path(record.task_id, ".out").read_bytes()

    # --- clean-up --------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete finished tasks past the retention time or beyond the kept count; returns how many."""
        now = time.time() if now is None else now
        with self._locked():
            done = sorted((r for r in self.records() if r.finished), key=lambda r: r.completed_at or r.created_at)
            cutoff = now - self.limits.retention_s
            old = [r for r in done if _timestamp(r.completed_at or r.created_at) < cutoff]
            excess = done[: max(0, len(done) - self.limits.keep)]
            doomed = {r.task_id for r in (*old, *excess)}
            for task_id in doomed:
                for suffix in (".json", ".in", ".out"):  # the record first: readers then see nothing
                    self._path(task_id, suffix).unlink(missing_ok=True)
        return len(doomed)

    def _path(self, task_id: str, suffix: str) -> Path:
        return self.root / f"{task_id}{suffix}"

    def _locked(self) -> Any:
        self.root.mkdir(parents=True, exist_ok=True)
        return _file_lock(self.root / ".lock", timeout=_LOCK_TIMEOUT_S)


_CLOCK_SLACK_S = 1.0  # a file system's mtime may be coarser than the clock created_at is read from


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _write_atomic(path: Path, data: bytes) -> None:
    """``data`` at ``path`` all or nothing: a temporary file in the same folder, fsync'd, renamed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
