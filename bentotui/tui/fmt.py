"""How numbers, sizes and times look in the TUI (pure).

Every screen formats through these functions so that tests and snapshots can pin the output by
passing a fixed ``now`` instead of reading the clock.
"""

from __future__ import annotations

from datetime import datetime


def size(n: int | float | None) -> str:
    """``1536`` -> ``1.5 KiB``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def duration(seconds: float | None) -> str:
    """A compact span: ``42s``, ``3m05s``, ``2h14m``, ``3d4h``."""
    if seconds is None or seconds < 0:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600}h"


def age(when: datetime | None, now: datetime) -> str:
    """How long ago ``when`` was, relative to ``now`` (both timezone-aware)."""
    if when is None:
        return "-"
    return duration((now - when).total_seconds()) + " ago"


def timestamp(when: datetime | None) -> str:
    """An absolute, sortable local-free time: ``2026-11-28 03:32``."""
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M")


def moment(when: datetime | None) -> str:
    """A time to the second with its day, ``11-28 03:32:07``: for records that live about a day
    (tasks), where two a few seconds apart must read apart."""
    return "-" if when is None else when.strftime("%m-%d %H:%M:%S")


#: The widest text :func:`ms`, :func:`rate` and :func:`percent` produce, so a table column of
#: this width never cuts a number.
NUMBER_WIDTH = 6


def ms(value: float | None) -> str:
    """A latency given in milliseconds, with its unit and at most 6 characters: ``59.3ms``,
    ``364ms``, ``1.75s``, ``17.5s``, ``175s``."""
    if value is None:
        return "-"
    if value < 100:
        return f"{value:.1f}ms"
    if value < 999.5:
        return f"{value:.0f}ms"
    seconds = value / 1000
    if seconds < 9.995:
        return f"{seconds:.2f}s"
    if seconds < 99.95:
        return f"{seconds:.1f}s"
    return f"{seconds:.0f}s" if seconds < 999.5 else f"{seconds / 60:.0f}m"


def rate(value: float | None) -> str:
    """Requests per second, at most 6 characters: ``19.4``, ``2480``, ``131k``."""
    if value is None:
        return "-"
    if value < 999.95:
        return f"{value:.1f}"
    if value < 99999.5:
        return f"{value:.0f}"
    return f"{value / 1000:.0f}k" if value < 999_500 else f"{value / 1e6:.0f}M"


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def percent(value: float | None) -> str:
    """A 0..1 fraction as a percentage."""
    return "-" if value is None else f"{value * 100:.1f}%"


def labels(mapping: dict[str, str] | None) -> str:
    """``{"stage": "prod"}`` -> ``stage=prod``."""
    return ", ".join(f"{k}={v}" for k, v in sorted((mapping or {}).items()))
