"""The log view against a real server's log: record levels (bug 12), highlighting in dark and light
themes (bug 2), home/end and follow (bug 6), esc and the title at 80 columns (bug 19, polish)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from rich.cells import cell_len
from rich.style import Style
from textual.color import Color
from textual.widgets._header import HeaderTitle

from bentotui.tui import log_view
from bentotui.tui.screens.logs import LogLines, LogsScreen
from bentotui.tui.screens.models import ModelsScreen
from tests.helpers.server import serve
from tests.tui.conftest import SIZE, store_listed, wait_for

FLAKY_SERVICE = """
import logging
import time

import bentotui
from bentotui.io import JSON, Text

svc = bentotui.Service("flaky")
log = logging.getLogger("flaky")


@svc.api(input=Text(), output=JSON())
def shout(text: str) -> dict:
    if text == "fail":
        raise ValueError("asked to fail")
    if text == "slow":
        time.sleep(1.1)  # above log_view.SLOW_MS, whatever the machine's speed
    if text == "warn":
        log.warning("odd input %r", text)
    return {"upper": text.upper()}
"""


@pytest.fixture(scope="module")
def flaky_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log of a real server that answered 200, 500 (with a traceback), a slow 200, a warning
    and a 404; the server is stopped, so every access line is flushed."""
    home = tmp_path_factory.mktemp("flaky-home")
    folder = tmp_path_factory.mktemp("flaky")
    (folder / "service.py").write_text(FLAKY_SERVICE)
    with serve("service:svc", cwd=folder, env={"BENTOTUI_HOME": str(home)}) as srv:
        for text in ("ok", "fail", "slow", "warn"):
            httpx.post(srv.url + "/shout", content=text, headers={"content-type": "text/plain"}, timeout=30)
        httpx.get(srv.url + "/nope", timeout=30)
        srv.stop()
    return Path(srv.run.log_path)


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def one(lines: list[str], needle: str) -> str:
    found = [line for line in lines if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def test_access_lines_count_by_status_and_tracebacks_travel_with_their_record(flaky_log: Path):
    """Bug 12, view model: >= INFO keeps every access line; >= ERROR keeps the ERROR line, its whole
    traceback down to the exception line, and the 500 access line (before: no access line passed
    >= INFO, and the exception line and the 500 line were dropped at >= ERROR)."""
    lines = lines_of(flaky_log)
    access = [line for line in lines if " /shout " in line or " /nope " in line]
    assert len(access) == 5
    assert set(access) <= set(log_view.filter_lines(lines, min_level="INFO"))

    errors = log_view.filter_lines(lines, min_level="ERROR")
    start = lines.index(one(lines, "ERROR bentotui.server: API shout failed"))
    end = lines.index("ValueError: asked to fail")
    assert errors[: end - start + 1] == lines[start : end + 1]
    assert errors[end - start + 1 :] == [one(lines, "POST /shout 500")]

    warnings = log_view.filter_lines(lines, min_level="WARNING")
    assert one(lines, "GET /nope 404") in warnings and one(lines, "odd input") in warnings
    assert one(lines, "POST /shout 500") in warnings and not any(" 200 " in line for line in warnings)

    records = log_view.classify(lines)
    assert log_view.error_starts(records) == [start, lines.index(one(lines, "POST /shout 500"))]


def slow_line(lines: list[str]) -> str:
    """The access line of the ``slow`` request: the one 200 that took over a second (a needle
    like ``200 11`` also matched a fast request that took 11.76 ms on a loaded CI machine)."""
    return one([line for line in lines if re.search(r"POST /shout 200 \d{4,}(\.\d+)?ms", line)], "POST /shout 200")


def test_highlights_say_where_timestamps_slow_latencies_and_matches_are(flaky_log: Path):
    slow = slow_line(lines_of(flaky_log))
    kinds = {kind: slow[a:b] for a, b, kind in log_view.highlights(slow, "INFO", "shout")}
    assert kinds["timestamp"] == slow.split()[0]
    assert kinds["slow"] == slow.split()[4] and kinds["slow"].endswith("ms")
    assert kinds["match"] == "shout"


def style_at(view: LogLines, needle: str, offset: int = 0) -> Style:
    """The rendered style of the character ``offset`` into the first line containing ``needle``."""
    index = next(i for i, line in enumerate(view.lines) if needle in line)
    column = view.lines[index].index(needle) + offset
    strip = view.render_line(index - int(view.scroll_offset.y))
    for segment in strip:
        if column < len(segment.text):
            return segment.style or Style()
        column -= len(segment.text)
    raise AssertionError(f"column past the line: {needle}")


async def open_log(pilot, path: Path, title: str = "service:svc (run-a)") -> LogsScreen:
    app = pilot.app
    await store_listed(pilot)
    app.push_screen(LogsScreen(str(path), title=title))
    return await wait_for(
        pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.view.lines and app.screen
    )


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_errors_warnings_5xx_slow_and_matches_are_coloured(make_app, flaky_log: Path, theme: str):
    """Bug 2: every kind of line gets its theme colour, in a dark and a light theme (before: every
    line had the plain text colour, as the ``log.*`` styles were defined nowhere)."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = theme
        screen = await open_log(pilot, flaky_log)
        view = screen.view
        await pilot.pause()
        error = Color.parse(app.theme_variables["text-error"]).rich_color
        warning = Color.parse(app.theme_variables["text-warning"]).rich_color
        plain = style_at(view, "POST /shout 200", 1).color
        assert style_at(view, "API shout failed").color == error
        assert style_at(view, "Traceback").color == error
        assert style_at(view, "ValueError: asked to fail").color == error
        assert style_at(view, "POST /shout 500").color == error
        assert style_at(view, "odd input").color == warning
        assert style_at(view, "GET /nope 404").color == warning
        assert plain not in (error, warning)
        stamp = style_at(view, "POST /shout 200", -5)  # inside the access line's timestamp
        assert stamp.color not in (plain, error, warning)
        slow = slow_line(list(view.lines)).split()[4]
        assert style_at(view, slow).bold

        await pilot.press("ctrl+f", *"odd input", "enter")
        assert style_at(view, "odd input").reverse
        assert not style_at(view, "flaky:").reverse  # only the matched text


async def test_level_filter_in_the_view_keeps_access_lines_and_whole_tracebacks(make_app, flaky_log: Path):
    """Bug 12 in the app: ``v`` (>= INFO) still lists the requests; ``v v`` (>= ERROR) shows why the
    500 happened; ``n`` without a find text stops once per error, not on each traceback line."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_log(pilot, flaky_log)
        view = screen.view
        await pilot.press("v")
        assert sum(" /shout " in line for line in view.lines) == 4
        await pilot.press("v", "v")
        shown = list(view.lines)
        assert "ValueError: asked to fail" in shown and any("POST /shout 500" in line for line in shown)
        assert not any("GET /nope 404" in line for line in shown)
        await pilot.press("g", "n")
        assert "API shout failed" in view.lines[screen.cursor]
        await pilot.press("n")
        assert "POST /shout 500" in view.lines[screen.cursor]


async def test_home_and_end_pause_and_resume_follow(make_app, tmp_path: Path):
    """Bug 6: ``home`` pauses follow (PAUSED, and new lines do not pull the view down); ``end``
    resumes it (before: the Log's own home/end moved the view and left FOLLOW on)."""
    log = tmp_path / "server.log"
    log.write_text("".join(f"2026-12-01 10:00:00,000 INFO app: line {i}\n" for i in range(300)))
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_log(pilot, log)
        view = screen.view
        await wait_for(pilot, lambda: view.is_vertical_scroll_end, what="view at the end")
        await pilot.press("home")
        assert not screen.follow and screen.sub_title.startswith("PAUSED") and view.scroll_y == 0
        with log.open("a") as f:
            f.write("2026-12-01 10:00:01,000 INFO app: appended while paused\n")
        await wait_for(pilot, lambda: view.lines[-1].endswith("appended while paused"), what="new line")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("end")
        assert screen.follow and screen.sub_title.startswith("FOLLOW")
        await wait_for(pilot, lambda: view.is_vertical_scroll_end, what="back at the end")


async def test_esc_clears_the_filters_before_it_closes_and_the_state_survives_80_columns(
    make_app, flaky_log: Path
):
    """Polish and bug 19: at 80 columns a long server name is cut, not FOLLOW/PAUSED; ``esc`` first
    clears the filter and level, then closes (before: the title lost its state, esc closed at once)."""
    app = make_app(poll_interval=None)
    async with app.run_test(size=(80, 24)) as pilot:
        title = "--model iris-classifier:1j1itoqcsbjgq68m (20261201-192446-6a6cf0)"
        screen = await open_log(pilot, flaky_log, title=title)
        header = screen.query_one(HeaderTitle)

        def header_fits(state: str) -> bool:
            text = str(header.render())
            return state in text and cell_len(text) <= header.size.width

        await wait_for(pilot, lambda: header_fits("FOLLOW"), what="FOLLOW in the header")
        await pilot.press("slash", *"shout", "enter", "v", "home")
        await wait_for(pilot, lambda: header_fits("PAUSED · filter 'shout'"), what="PAUSED in the header")
        assert all("shout" in line for line in screen.view.lines)

        await pilot.press("escape")
        assert isinstance(app.screen, LogsScreen)
        assert (screen.filter_text, screen.min_level) == ("", None)
        assert len(screen.view.lines) == len(screen.lines)
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)
