"""Log lines as the log screen treats them (pure): records, levels, filtering, highlights, matches.

A server log mixes three kinds of line: log records (``2026-12-01 19:24:46,971 ERROR name: msg``,
or one JSON object each with ``--log-format json``), access-log lines (``<time> POST /predict 500
12.30ms <request id>``), and lines that continue the record before them (a traceback, a worker's
stderr).  :func:`classify` gives every line the level of the record it belongs to, so a level
filter keeps a traceback, down to its exception line, with the ``ERROR`` line that logged it, and
an access line counts by its status (5xx ERROR, 4xx WARNING, else INFO).

The log screen keeps a bounded window of the newest lines, classified once as they arrive; what
it *shows* is ``filter_records(window, text, level)``, recomputed on every change, so a filter
never has to read the file again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Levels in increasing severity; a level filter keeps that level and everything above.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: An access-log latency at or above this is marked as slow.
SLOW_MS = 1000.0

_LEVEL_RE = re.compile(r"\b(DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|FATAL|Traceback)\b")
_SEVERITY = {
    "DEBUG": 0,
    "INFO": 1,
    "WARN": 2,
    "WARNING": 2,
    "ERROR": 3,
    "CRITICAL": 3,
    "FATAL": 3,
    "Traceback": 3,
}
#: A timestamp opening a line: ours (``2026-12-01 19:24:46,971``, ``2026-12-01T19:24:56.298Z``) and
#: hypercorn's (``[2026-12-01 19:24:47 +0000]``).
_STAMP_RE = re.compile(r"\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?(?: [+-]\d{4})?\]?")
#: A line that opens a record without a timestamp (``INFO: ...``, uvicorn style).
_LEVEL_START_RE = re.compile(r"(DEBUG|INFO|WARN(?:ING)?|ERROR|CRITICAL|FATAL)\b")
#: The text access-log line of ``bentotui.server.access_log``: time, method, path, status, latency.
_ACCESS_RE = re.compile(r"\S+ [A-Z]+ \S+ (?P<status>\d{3}) (?P<latency>\d+(?:\.\d+)?)ms\b")
_JSON_LATENCY_RE = re.compile(r'"latency_ms":\s*(?P<latency>\d+(?:\.\d+)?)')


@dataclass(frozen=True, slots=True)
class LogLine:
    """One shown line: its text (never empty, never holding a line break), the level of the
    record it belongs to (None when no level is known), and whether it opens that record."""

    text: str
    level: str | None
    first: bool


def _status_level(status: int) -> str:
    return "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"


def _json_level(line: str) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("type") == "access" and isinstance(data.get("status"), int):
        return _status_level(data["status"])
    name = data.get("level")
    return LEVELS[_SEVERITY[name]] if name in _SEVERITY else None


def level_of(line: str) -> str | None:
    """The level one line names by itself, normalised to :data:`LEVELS`: an access line by its
    status, a JSON record by its ``level``, any other line by the first level word in it (a
    ``Traceback`` is an ERROR); None when it names none."""
    if line.startswith("{"):
        return _json_level(line)
    if (access := _ACCESS_RE.match(line)) is not None and _STAMP_RE.match(line):
        return _status_level(int(access.group("status")))
    m = _LEVEL_RE.search(line)
    return None if m is None else LEVELS[_SEVERITY[m.group(1)]]


def opens_record(line: str) -> bool:
    """Whether a line starts a record (a timestamp, a JSON object or a level word first) rather
    than continuing the one before it."""
    return line.startswith("{") or bool(_STAMP_RE.match(line)) or bool(_LEVEL_START_RE.match(line))


def _higher(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b, key=LEVELS.index)


def classify(lines: Iterable[str], previous: LogLine | None = None) -> list[LogLine]:
    """Give each line its record's level.  ``previous`` is the line before ``lines`` (the record
    a first continuation line belongs to).  A continuation line takes the higher of the record's
    level and its own, so a worker's traceback after an INFO line still counts as an ERROR.
    Blank lines are dropped: they carry nothing to filter or find."""
    out: list[LogLine] = []
    for raw in lines:
        for text in raw.splitlines():
            if not text.strip():
                continue
            if opens_record(text) or previous is None:
                previous = LogLine(text, level_of(text), True)
            else:
                previous = LogLine(text, _higher(previous.level, level_of(text)), False)
            out.append(previous)
    return out


def keep(line: LogLine, text: str, min_level: str | None) -> bool:
    """Does ``line`` pass a text filter (case-insensitive substring) and a minimum level?"""
    if text and text.lower() not in line.text.lower():
        return False
    if min_level:
        return line.level is not None and LEVELS.index(line.level) >= LEVELS.index(min_level)
    return True


def filter_records(lines: Iterable[LogLine], text: str = "", min_level: str | None = None) -> list[LogLine]:
    if not text and not min_level:
        return list(lines)
    return [line for line in lines if keep(line, text, min_level)]


def filter_lines(lines: Sequence[str], text: str = "", min_level: str | None = None) -> list[str]:
    """The raw lines a filter keeps (classified as one run of the log)."""
    return [line.text for line in filter_records(classify(lines), text, min_level)]


def next_level(current: str | None) -> str | None:
    """Cycle the level filter: all -> INFO -> WARNING -> ERROR -> all."""
    order: list[str | None] = [None, "INFO", "WARNING", "ERROR"]
    return order[(order.index(current) + 1) % len(order)]


def find(lines: Sequence[str], text: str) -> list[int]:
    """Indexes of the lines containing ``text`` (case-insensitive)."""
    needle = text.lower()
    return [i for i, line in enumerate(lines) if needle in line.lower()] if needle else []


def error_starts(lines: Sequence[LogLine]) -> list[int]:
    """Indexes of the first line of each error (a record's first line, or where a traceback
    begins): where ``n`` without a find text jumps, one stop per error, not per traceback line."""
    return [
        i
        for i, line in enumerate(lines)
        if line.level == "ERROR" and (line.first or i == 0 or lines[i - 1].level != "ERROR")
    ]


def step(matches: Sequence[int], current: int, forward: bool) -> int | None:
    """The match after (or before) line ``current``, wrapping around; None without matches."""
    if not matches:
        return None
    if forward:
        return next((i for i in matches if i > current), matches[0])
    return next((i for i in reversed(matches) if i < current), matches[-1])


def _latency_span(text: str) -> tuple[int, int] | None:
    """Where a slow access line's latency is (with its ``ms`` unit in the text format)."""
    is_json = text.startswith("{")
    m = _JSON_LATENCY_RE.search(text) if is_json else _ACCESS_RE.match(text)
    if m is None or float(m.group("latency")) < SLOW_MS:
        return None
    return m.start("latency"), m.end("latency") + (0 if is_json else len("ms"))


def highlights(text: str, level: str | None, find_text: str = "") -> list[tuple[int, int, str]]:
    """Where to style a shown line, as ``(start, end, kind)`` in the order to apply them (later
    wins): the whole line by its record's level (``error``, ``warning``), the opening timestamp
    (``timestamp``, dim), a slow access latency (``slow``) and every match of the find text
    (``match``).  The screen maps kinds to theme styles; this decides only where they go."""
    spans: list[tuple[int, int, str]] = []
    if level in ("ERROR", "WARNING"):
        spans.append((0, len(text), level.lower()))
    if (stamp := _STAMP_RE.match(text)) is not None:
        spans.append((stamp.start(), stamp.end(), "timestamp"))
    if (slow := _latency_span(text)) is not None:
        spans.append((*slow, "slow"))
    if find_text:
        for m in re.finditer(re.escape(find_text), text, re.IGNORECASE):
            spans.append((m.start(), m.end(), "match"))
    return spans
