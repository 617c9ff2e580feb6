"""Log lines as the log screen treats them (pure): levels, filtering and match navigation.

The log screen keeps a bounded window of the newest lines; what it *shows* is
``filter_lines(window, text, level)``, recomputed on every change, so a filter never has to read
the file again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Levels in increasing severity; a level filter keeps that level and everything above.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
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


def level_of(line: str) -> str | None:
    """The level a line names, normalised to :data:`LEVELS`; None when it names none."""
    m = _LEVEL_RE.search(line)
    return None if m is None else LEVELS[_SEVERITY[m.group(1)]]


def keep(line: str, text: str, min_level: str | None) -> bool:
    """Does ``line`` pass a text filter (case-insensitive substring) and a minimum level?"""
    if text and text.lower() not in line.lower():
        return False
    if min_level:
        level = level_of(line)
        return level is not None and LEVELS.index(level) >= LEVELS.index(min_level)
    return True


def filter_lines(lines: Sequence[str], text: str = "", min_level: str | None = None) -> list[str]:
    if not text and not min_level:
        return list(lines)
    return [line for line in lines if keep(line, text, min_level)]


def next_level(current: str | None) -> str | None:
    """Cycle the level filter: all -> INFO -> WARNING -> ERROR -> all."""
    order: list[str | None] = [None, "INFO", "WARNING", "ERROR"]
    return order[(order.index(current) + 1) % len(order)]


def find(lines: Sequence[str], text: str) -> list[int]:
    """Indexes of the lines containing ``text`` (case-insensitive)."""
    needle = text.lower()
    return [i for i, line in enumerate(lines) if needle in line.lower()] if needle else []


def step(matches: Sequence[int], current: int, forward: bool) -> int | None:
    """The match after (or before) line ``current``, wrapping around; None without matches."""
    if not matches:
        return None
    if forward:
        return next((i for i in matches if i > current), matches[0])
    return next((i for i in reversed(matches) if i < current), matches[-1])
