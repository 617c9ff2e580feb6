"""Log tails without reading whole files, and following appended lines."""

from __future__ import annotations

import threading
import time

from bentotui import logs


def test_tail_lines_of_a_large_file(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))
    assert logs.tail_lines(path, 3) == ["line 199997", "line 199998", "line 199999"]
    assert logs.tail_lines(path, 0) == []


def test_tail_lines_short_and_missing(tmp_path):
    path = tmp_path / "short.log"
    path.write_text("a\nb")
    assert logs.tail_lines(path, 10) == ["a", "b"]
    assert logs.tail_lines(tmp_path / "missing.log", 5) == []


def test_follow_yields_appended_lines_and_stops(tmp_path):
    path = tmp_path / "run.log"
    path.write_text("old\n")
    done = threading.Event()

    def writer():
        with open(path, "a") as f:
            f.write("new 1\nnew ")
            f.flush()
            time.sleep(0.1)
            f.write("2\n")
        time.sleep(0.3)
        done.set()

    lines = logs.follow(path, poll_s=0.02, stop=done.is_set)
    threading.Thread(target=writer).start()
    got = list(lines)
    assert got == ["new 1", "new 2"]


def test_follow_restarts_after_truncation(tmp_path):
    path = tmp_path / "run.log"
    path.write_text("x" * 100 + "\n")
    seen: list[str] = []

    def stop() -> bool:
        if not seen and path.stat().st_size > 50:
            path.write_text("fresh\n")
        return bool(seen)

    for line in logs.follow(path, poll_s=0.01, stop=stop):
        seen.append(line)
    assert seen == ["fresh"]
