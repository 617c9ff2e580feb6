"""The prediction-log viewer's data: what ``bentoml.monitor`` wrote, newest first, filtered.

``bentotui.monitoring`` writes each monitor to ``$BENTOTUI_HOME/monitoring/<name>/``: a
``schema.json`` naming the columns and one ``data/data.<pid>.jsonl`` per writing process (the API
server and each runner worker), rotated into ``.1``, ``.2``...  This module lists the monitors and
reads the newest records of one: only the tail of each current file is read (a monitor's files
may hold gigabytes), records from every process merged by their timestamp.  A line that is not
a JSON object (a file being written, a foreign file) is skipped, never fatal.

Filters are what a person types: space-separated terms, all of which must match.  ``field=value``
(the value as text, case-insensitive), ``field!=value``, ``field>N`` / ``field<N`` (numbers), or a
bare word found in any value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bentotui.logs import tail_lines

#: records read per monitor (newest first, across its processes' files)
READ_LIMIT = 500
_TERM = re.compile(r"^(?P<field>[^=!<>]+)(?P<op>!=|=|>|<)(?P<value>.*)$")


@dataclass(frozen=True)
class MonitorInfo:
    """One monitor: its name, its columns (from ``schema.json``), its data files and their size."""

    name: str
    columns: tuple[str, ...]
    files: tuple[Path, ...]
    size: int
    modified: float  # newest data file's mtime, epoch seconds (0 without data)


def list_monitors(root: Path) -> list[MonitorInfo]:
    """The monitors under ``root`` (``$BENTOTUI_HOME/monitoring``), most recently written first."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        files = tuple(sorted((folder / "data").glob("data.*.jsonl")))
        stats = [path.stat() for path in files]
        found.append(
            MonitorInfo(
                name=folder.name,
                columns=_columns(folder / "schema.json"),
                files=files,
                size=sum(s.st_size for s in stats),
                modified=max((s.st_mtime for s in stats), default=0.0),
            )
        )
    return sorted(found, key=lambda m: (-m.modified, m.name))


def _columns(schema: Path) -> tuple[str, ...]:
    try:
        columns = json.loads(schema.read_text(encoding="utf-8"))["columns"]
        return tuple(str(column["name"]) for column in columns)
    except (OSError, ValueError, KeyError, TypeError):
        return ("timestamp", "request_id")


def read_records(monitor: MonitorInfo, limit: int = READ_LIMIT) -> list[dict[str, Any]]:
    """The newest ``limit`` records of ``monitor``, newest first."""
    records = []
    for path in monitor.files:
        for line in tail_lines(path, limit):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    records.sort(key=lambda r: str(r.get("timestamp", "")), reverse=True)
    return records[:limit]


@dataclass(frozen=True)
class Term:
    field: str | None  # None: a bare word, found in any value
    op: str
    value: str


def parse_filter(text: str) -> list[Term]:
    terms = []
    for word in text.split():
        match = _TERM.match(word)
        if match is None:
            terms.append(Term(None, "~", word.lower()))
        else:
            terms.append(Term(match["field"], match["op"], match["value"].lower()))
    return terms


def matches(record: Mapping[str, Any], terms: Sequence[Term]) -> bool:
    return all(_matches(record, term) for term in terms)


def _matches(record: Mapping[str, Any], term: Term) -> bool:
    if term.field is None:
        return any(term.value in cell(value).lower() for value in record.values())
    if term.field not in record:
        return term.op == "!="
    value = record[term.field]
    if term.op in ("=", "!="):
        return (cell(value).lower() == term.value) == (term.op == "=")
    try:
        number, bound = float(value), float(term.value)
    except (TypeError, ValueError):
        return False
    return number > bound if term.op == ">" else number < bound


def cell(value: Any) -> str:
    """A value as a table cell: text as is, numbers compact, lists and objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        text = f"{value:.6g}"
        return text if any(c in text for c in ".en") else text + ".0"  # 5.0 stays a float to the eye
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
