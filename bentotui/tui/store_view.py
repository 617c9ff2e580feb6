"""What the Models/Bentos table and detail pane show (pure: store objects in, rows and text out).

The screen never reads ``Model.info`` itself: it asks :func:`model_row` / :func:`bento_row` for
a flat :class:`StoreRow`, filters and sorts rows here, and renders :func:`detail_text`.  That
keeps the screen thin and lets every rule (what the filter matches, how a size sorts) be tested
without Textual.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.tui import fmt

if TYPE_CHECKING:
    from bentotui.store.bentos import Bento
    from bentotui.store.models import Model

#: (column key, title) in display order; keys are also the sort keys.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "kind"),
    ("name", "name"),
    ("version", "version"),
    ("framework", "framework"),
    ("trust", "trust"),
    ("size", "size"),
    ("created", "created"),
    ("labels", "labels"),
)
SORT_KEYS = tuple(key for key, _ in COLUMNS)


@dataclass(frozen=True)
class StoreRow:
    """One model or bento, flattened for the table."""

    kind: str  # "model" | "bento"
    name: str
    version: str
    framework: str
    size_bytes: int
    created: datetime
    labels: dict[str, str] = field(default_factory=dict)
    #: everything the detail pane shows, as plain data
    detail: dict[str, Any] = field(default_factory=dict)
    #: a model's trust mark (``Provenance.state``: local, trusted, untrusted); "" for a bento
    trust: str = ""

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def key(self) -> str:
        """Unique row key: a model and a bento may share a tag."""
        return f"{self.kind}/{self.tag}"

    def cells(self) -> tuple[str, ...]:
        return (
            self.kind,
            self.name,
            self.version,
            self.framework,
            self.trust,
            fmt.size(self.size_bytes),
            fmt.timestamp(self.created),
            fmt.labels(self.labels),
        )


def model_row(model: Model) -> StoreRow:
    """Flatten a store ``Model`` (its provenance is read from the store now)."""
    info = model.info
    provenance = model.provenance
    return StoreRow(
        kind="model",
        name=info.name,
        version=info.version,
        framework=f"{info.framework} {info.framework_version}" if info.framework_version else info.framework,
        size_bytes=info.size_bytes,
        created=info.creation_time,
        labels=dict(info.labels),
        detail={
            "module": info.module,
            "metadata": dict(info.metadata),
            "signatures": dict(info.signatures),
            "files": _files(info.files),
            "provenance": provenance.describe(),
        },
        trust=provenance.state,
    )


def bento_row(bento: Bento) -> StoreRow:
    """Flatten a stored bento (its service and the models it packs).

    A bento has no framework of its own (its models do): the column stays blank and the
    service is shown in the detail pane, where it is labelled as the service.
    """
    info = bento.info
    return StoreRow(
        kind="bento",
        name=info.name,
        version=info.version,
        framework="",
        size_bytes=info.size_bytes,
        created=info.creation_time,
        labels=dict(info.labels),
        detail={
            "service": info.service,
            "models": [str(model.tag) for model in info.models],
            "apis": [api.name for api in info.apis],
            "files": _files(info.files),
        },
    )


def _files(files: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """A manifest's ``files`` entries as sorted (path, size) pairs."""
    return sorted((entry["path"], entry["size"]) for entry in files)


def used_by(rows: Iterable[StoreRow]) -> dict[str, list[str]]:
    """Model tag -> the bentos that pack it (for the detail pane)."""
    users: dict[str, list[str]] = {}
    for row in rows:
        if row.kind == "bento":
            for tag in row.detail.get("models", []):
                users.setdefault(tag, []).append(row.tag)
    return users


def refers_to(ref: str, row: StoreRow, rows: Sequence[StoreRow]) -> bool:
    """Whether a tag reference names ``row``: ``name:version`` exactly, or ``name`` /
    ``name:latest`` when ``row`` is the newest of that name and kind in ``rows``."""
    name, _, version = ref.strip().partition(":")
    if name != row.name:
        return False
    if version and version != "latest":
        return version == row.version
    same = [r for r in rows if r.kind == row.kind and r.name == row.name]
    return max(same, key=lambda r: r.created.timestamp()).key == row.key


def in_use(row: StoreRow, rows: Sequence[StoreRow], servers: Iterable[tuple[str | None, str | None]]) -> str:
    """Who still needs ``row``, for the delete dialog: ``used by bento a:1 and 2 running servers``
    ("" when nobody does).

    ``servers`` are the live servers' (target, model) pairs: a server needs a model it serves
    (``--model`` names it) or that a bento it serves packs; it needs a bento it serves.  A person
    deleting a model should know that it is still in use, even where a copy lives on (a bento
    packs its own copy; a running server has the model in memory until it restarts).
    """
    bentos = [b for b in rows if b.kind == "bento" and row.tag in b.detail.get("models", [])]
    served = [row] if row.kind == "bento" else bentos

    def needs(target: str | None, model: str | None) -> bool:
        if model is not None:
            return row.kind == "model" and refers_to(model, row, rows)
        return target is not None and any(refers_to(target, b, rows) for b in served)

    count = sum(1 for target, model in servers if needs(target, model))
    parts = []
    if bentos:
        parts.append(f"bento{'s' if len(bentos) > 1 else ''} {', '.join(b.tag for b in bentos)}")
    if count:
        parts.append(f"{count} running server{'s' if count > 1 else ''}")
    return f"used by {' and '.join(parts)}" if parts else ""


def store_stamp(roots: Iterable[Path], depth: int = 2) -> tuple[tuple[str, int], ...]:
    """The modification times of the store folders down to ``depth`` levels under each root.

    Saving, deleting, importing or re-labelling an item (from any process) adds, removes or
    renames an entry in ``<root>/<name>/`` or ``<root>/<name>/<version>/`` (writes are atomic
    renames), so comparing two stamps tells whether the store changed without reading one
    manifest: a stat per item, cheap enough for a timer.
    """
    stamp: list[tuple[str, int]] = []

    def walk(folder: Path, level: int) -> None:
        try:
            stamp.append((str(folder), folder.stat().st_mtime_ns))
            entries = list(os.scandir(folder)) if level < depth else []
        except OSError:  # removed while we looked: the parent's mtime records that
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), level + 1)

    for root in roots:
        walk(root, 0)
    return tuple(sorted(stamp))


def matches(row: StoreRow, query: str) -> bool:
    """The ``/`` filter: case-insensitive words that must all appear; a leading ``!`` inverts.

    Words are matched against the tag, kind, framework (a bento's service), trust mark and
    ``key=value`` labels, so ``stage=prod sklearn`` finds production sklearn models (k9s-style)
    and ``untrusted`` the imported models that will not load until trusted.
    """
    query = query.strip()
    invert = query.startswith("!")
    words = query[1:].split() if invert else query.split()
    fields = (
        row.kind,
        row.tag,
        row.framework,
        row.detail.get("service", ""),
        row.trust,
        fmt.labels(row.labels),
    )
    haystack = " ".join(fields).lower()
    hit = all(word.lower() in haystack for word in words)
    return not hit if invert and words else hit


def _sort_value(row: StoreRow, key: str) -> Any:
    if key == "size":
        return row.size_bytes
    if key == "created":
        return row.created.timestamp()
    if key == "labels":
        return fmt.labels(row.labels)
    return getattr(row, key)


def visible_rows(
    rows: Sequence[StoreRow], query: str = "", sort: str = "created", reverse: bool = True
) -> list[StoreRow]:
    """Filter then sort; ties keep name order so the table does not shuffle between refreshes."""
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort column {sort!r}")
    kept = [row for row in rows if matches(row, query)] if query.strip() else list(rows)
    kept.sort(key=lambda r: (r.name, r.version))
    kept.sort(key=lambda r: _sort_value(r, sort), reverse=reverse)
    return kept


def next_sort(current: str) -> str:
    """The column the sort key cycles to next."""
    i = SORT_KEYS.index(current)
    return SORT_KEYS[(i + 1) % len(SORT_KEYS)]


def _jsonish(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def detail_text(
    row: StoreRow, users: Mapping[str, list[str]] | None = None, now: datetime | None = None
) -> str:
    """The detail pane: everything about one row, sections separated by blank lines."""
    lines = [f"{row.kind} {row.tag}", ""]
    if row.kind == "model":
        lines.append(f"framework  {row.framework}")
    lines.append(f"size       {fmt.size(row.size_bytes)}")
    created = fmt.timestamp(row.created)
    if now is not None:
        created += f" ({fmt.age(row.created, now)})"
    lines.append(f"created    {created}")
    lines.append(f"labels     {fmt.labels(row.labels) or '-'}")
    d = row.detail
    if row.kind == "model":
        lines.append(f"module     {d.get('module') or '-'}")
        lines.append(f"trust      {row.trust}: {d.get('provenance', '-')}")
        if row.trust == "untrusted":
            lines.append(f"           pickled files will not load: bentotui models trust {row.tag}")
        lines += ["", "signatures"]
        for method, sig in sorted(d.get("signatures", {}).items()):
            lines.append(f"  {method}  {_jsonish(sig)}")
        if d.get("metadata"):
            lines += ["", "metadata"]
            lines += [f"  {k}: {_jsonish(v)}" for k, v in sorted(d["metadata"].items())]
        bentos = (users or {}).get(row.tag, [])
        lines += ["", "used by bentos", *(f"  {b}" for b in bentos)] if bentos else ["", "used by no bento"]
    else:
        lines.append(f"service    {d.get('service') or '-'}")
        lines += ["", "models", *(f"  {m}" for m in d.get("models", []))]
        if d.get("apis"):
            lines += ["", "apis", *(f"  {name}" for name in d["apis"])]
    files = d.get("files", [])
    lines += ["", f"files ({len(files)})", *(f"  {path}  {fmt.size(n)}" for path, n in files)]
    return "\n".join(lines)
