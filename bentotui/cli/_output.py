"""Output helpers shared by the store command groups (models, bentos).

Formats for ``--output``, the ``N minutes ago`` age column, JSON/YAML dumps, the warning for
corrupt entries a listing skips and the progress bar for big exports and imports.  Only typer at
import time: the CLI's ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bentotui.exceptions import StoreCorrupted
    from bentotui.store.item_store import Progress as ProgressFn

#: items at least this big get a progress bar on export/import
PROGRESS_MIN_BYTES = 64 * 1024 * 1024


class ListFormat(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


class InfoFormat(str, Enum):
    yaml = "yaml"
    json = "json"


def relative_time(when: datetime, now: datetime) -> str:
    """``"5 minutes ago"``-style age; the ISO time beyond a week (a date is clearer then)."""
    seconds = (now - when).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            if unit == "day" and seconds >= 7 * 86400:
                return when.strftime("%Y-%m-%d %H:%M")
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def dump(data: Any, fmt: str) -> None:
    """Print ``data`` as indented JSON or as YAML."""
    if fmt == "json":
        import json

        typer.echo(json.dumps(data, indent=2))
    else:
        from bentotui.store.item_store import dump_yaml

        typer.echo(dump_yaml(data), nl=False)


def warn_skipped(problems: Sequence[StoreCorrupted]) -> None:
    """One warning line per entry a listing skipped, on stderr: a corrupt entry must not hide the
    rest of the store, nor spoil the JSON/YAML on stdout."""
    if not problems:
        return
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in problems:
        err.print(f"[yellow]warning:[/] skipped a corrupt entry: {escape(problem.message)}")


@contextmanager
def progress(total: int, description: str) -> Iterator[ProgressFn | None]:
    """A transient rich progress bar for big transfers (none for small ones, where it would flicker)."""
    if total < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done, all_bytes: bar.update(task, completed=done, total=all_bytes)
