"""Reading server log files: the last N lines and following new ones.

Log files of long-running servers grow without bound, so the tail is read backwards in blocks
from the end instead of loading the whole file; following polls the size and reads only what was
appended (and starts over if the file was truncated or replaced).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_BLOCK = 64 * 1024


def tail_lines(path: str | os.PathLike[str], n: int = 100) -> list[str]:
    """The last ``n`` lines of the file (without line ends); ``[]`` if it does not exist."""
    if n <= 0:
        return []
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return []
    with f:
        end = f.seek(0, os.SEEK_END)
        data = b""
        pos = end
        # n lines need n newlines before them (plus one, as the file usually ends with a newline)
        while pos > 0 and data.count(b"\n") <= n:
            step = min(_BLOCK, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-n:]


def follow(
    path: str | os.PathLike[str],
    *,
    from_end: bool = True,
    poll_s: float = 0.2,
    stop: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Yield complete lines appended after this call, until ``stop()`` returns true (or forever).

    The starting position is taken now, not at the first ``next()``, so nothing written in between
    is missed.
    """
    path = Path(path)
    try:
        st = path.stat()
        pos, ino = (st.st_size if from_end else 0), st.st_ino
    except FileNotFoundError:
        pos, ino = 0, None
    return _follow(path, pos, ino, poll_s, stop)


def _follow(path: Path, pos: int, ino: int | None, poll_s: float, stop: Callable[[], bool] | None) -> Iterator[str]:
    pending = b""
    while stop is None or not stop():
        try:
            st = path.stat()
        except FileNotFoundError:
            time.sleep(poll_s)
            continue
        if st.st_ino != ino or st.st_size < pos:  # replaced or truncated: read it from the start
            ino, pos, pending = st.st_ino, 0, b""
        if st.st_size > pos:
            with open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read(st.st_size - pos)
            pos += len(chunk)
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line.decode("utf-8", errors="replace")
        else:
            time.sleep(poll_s)
