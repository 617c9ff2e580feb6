"""The Requests area against real ``bentotui serve`` processes: the server picker (bug 3), the
"server ▸ API" line at 80 columns (bug 19), send keys (bug 14), copy as curl (bug 13), the
pre-filled numpy example (bug 18) and request history saved per service."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from textual.widgets import OptionList, Select, Static, TextArea

from bentotui.tui.request_view import (
    HISTORY,
    SAVED_BODY_LIMIT,
    ApiInfo,
    HistoryEntry,
    history_lines,
    parse_history,
    response_view,
)
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.servers import ServersScreen
from tests.helpers.server import RunningServer, serve
from tests.tui.conftest import SIZE, store_listed, wait_for

ECHO_SERVICE = """
import bentotui
from bentotui.io import JSON, Text

svc = bentotui.Service("echo")


@svc.api(input=Text(), output=JSON())
def shout(text: str) -> dict:
    return {"upper": text.upper()}
"""

# A per-row function, as a model is: an empty batch (the old ``[]`` example) has no rows to sum.
ROWS_SERVICE = """
import bentotui
from bentotui.io import NumpyNdarray

svc = bentotui.Service("rows")


@svc.api(input=NumpyNdarray(), output=NumpyNdarray())
def row_sums(arr):
    return arr.sum(axis=1)
"""


def service_dir(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "service.py").write_text(source)
    return folder


@pytest.fixture
def echo_and_rows(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two headless servers, echo started first, rows second (the newest)."""
    with ExitStack() as stack:
        echo = stack.enter_context(serve("service:svc", cwd=service_dir(tmp_path, "echo", ECHO_SERVICE)))
        rows = stack.enter_context(serve("service:svc", cwd=service_dir(tmp_path, "rows", ROWS_SERVICE)))
        yield echo, rows


async def requests_area(pilot, expected_url: str) -> RequestsScreen:
    """Press ``3`` once both servers are ready (the store listed); wait until the area has picked
    ``expected_url``."""
    app = pilot.app
    await wait_for(pilot, lambda: len(app.book.ready()) == 2, what="two ready servers")
    await pilot.press("3")
    return await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, RequestsScreen)
            and app.screen.url == expected_url
            and app.screen.api
            and app.screen
        ),
        what=f"Requests on {expected_url}",
    )


def picked(screen: RequestsScreen) -> str:
    return str(screen.query_one("#picked", Static).render())


async def test_three_picks_the_newest_server_and_the_picker_works_from_the_keyboard(make_app, echo_and_rows):
    """Bug 3: ``3`` shows the newest ready server without any pick; the dropdown keeps its
    highlight across polls, so ``enter`` ``↓``/``↑`` ``enter`` switches server (before: nothing
    was picked, and every poll rebuilt the list and cleared its highlight)."""
    echo, rows = echo_and_rows
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        screen = await requests_area(pilot, rows.url)
        assert screen.api.route == "/row_sums" and "▸ POST /row_sums" in picked(screen)

        select = screen.query_one("#server", Select)
        await pilot.press("shift+tab")
        assert select.has_focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: select.expanded, what="open picker")
        await pilot.pause(1.0)  # several polls and probes while the list is open
        urls = [url for _, url in screen._server_options]
        await pilot.press("down" if urls.index(echo.url) > urls.index(rows.url) else "up", "enter")
        await wait_for(pilot, lambda: screen.url == echo.url and screen.api.route == "/shout", what="echo")
        assert "▸ POST /shout" in picked(screen) and select.value == echo.url


async def test_the_server_under_the_servers_cursor_is_the_default(make_app, echo_and_rows):
    """Bug 3: with the Servers cursor on the older server, ``3`` opens on that one, not the newest."""
    echo, _ = echo_and_rows
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: len(app.book.ready()) == 2, what="two ready servers")
        servers = app.screen
        assert isinstance(servers, ServersScreen)
        while servers.selected is None or servers.selected.url != echo.url:
            await pilot.press("down")
        await requests_area(pilot, echo.url)


async def test_send_keys_from_the_body_editor_and_copy_as_curl(make_app, echo_and_rows):
    """Bug 14: ``ctrl+s`` sends while the body editor has focus and types nothing into it (before:
    only ``ctrl+j``; ``alt+enter`` inserted a newline under tmux).  Bug 13: ``ctrl+y`` writes the
    whole command to ``$BENTOTUI_HOME/tui/last-curl.sh``, names it in the toast and shows it
    whole (before: a toast cut at 80 characters, and no file); the file runs as it is."""
    echo, _ = echo_and_rows
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        app.open_requests(echo.url)
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RequestsScreen) and app.screen.api and app.screen,
            what="APIs",
        )
        body = screen.query_one("#body", TextArea)
        text = "a body longer than eighty characters, so that a toast could never show all of it: " + "x" * 40
        body.text = text
        await pilot.press("ctrl+e", "ctrl+s")
        await wait_for(pilot, lambda: screen.history, what="response")
        assert body.has_focus and body.text == text
        assert json.loads(screen.history[0].response.body) == {"upper": text.upper()}

        await pilot.press("ctrl+y")
        saved = Path(app_home(), "tui", "last-curl.sh")
        command = saved.read_text().splitlines()[-1]
        assert command == screen.last_curl and shlex.split(command)[-1] == text
        assert any(str(saved) in n.message for n in app._notifications)
        shown = screen.query_one("#curl", TextArea)
        assert shown.display and shown.text == command
        ran = subprocess.run(["sh", str(saved)], capture_output=True, timeout=30, check=True)
        assert json.loads(ran.stdout) == {"upper": text.upper()}


def app_home() -> Path:
    from bentotui import paths

    return paths.home()


async def test_prefilled_numpy_example_is_accepted_and_the_route_line_fits_80_columns(make_app, tmp_path):
    """Bug 18: a shapeless ``NumpyNdarray()`` API is pre-filled with one row, which the server
    takes: 200 (before: ``[]``, an empty batch).  Bug 19: at 80 columns the "server ▸ API" line
    still names the server and the API."""
    with serve("service:svc", cwd=service_dir(tmp_path, "rows", ROWS_SERVICE)) as rows:
        app = make_app(poll_interval=0.3)
        async with app.run_test(size=(80, 24)) as pilot:
            await store_listed(pilot)
            await wait_for(pilot, lambda: app.book.ready(), what="ready server")
            await pilot.press("3")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, RequestsScreen) and app.screen.api and app.screen
            )
            assert screen.url == rows.url
            line = screen.query_one("#picked", Static)
            assert str(line.render()).startswith("service:svc ▸ POST /row_sums") and line.size.width >= 78
            example = screen.query_one("#body", TextArea).text
            assert json.loads(example) not in ([], [[]])
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.history, what="response")
            assert screen.history[0].response.status == 200, screen.history[0].response.body


async def test_history_is_saved_per_service_and_replayed_in_the_next_session(make_app, tmp_path):
    """Request history lives in ``$BENTOTUI_HOME/tui/history/<service>.jsonl``: a new app (another
    session, the server restarted on another port) lists it again, and an entry re-sends to the
    server picked now (before: history was lost when the TUI quit)."""
    folder = service_dir(tmp_path, "echo", ECHO_SERVICE)
    with serve("service:svc", cwd=folder) as first:
        app = make_app(poll_interval=0.3)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            app.open_requests(first.url)
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, RequestsScreen) and app.screen.api and app.screen
            )
            screen.query_one("#body", TextArea).text = "remember me"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.history, what="response")
            saved = Path(app_home(), "tui", "history", "echo.jsonl")
            await wait_for(pilot, lambda: saved.exists(), what="history file")
    with serve("service:svc", cwd=folder) as second:
        assert second.url != first.url
        app = make_app(poll_interval=0.3)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("3")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, RequestsScreen) and app.screen.history and app.screen
            )
            assert screen.url == second.url and screen.history[0].body == "remember me"
            history = screen.query_one("#history", OptionList)
            assert history.option_count == 1
            history.focus()
            await pilot.press("enter")
            assert screen.query_one("#body", TextArea).text == "remember me"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: len(screen.history) == 2, what="replayed")
            assert screen.history[0].url == second.url and screen.history[0].response.status == 200


def test_history_file_is_bounded_and_round_trips():
    api = ApiInfo("shout", "/shout", "post", "text/plain", "hi")
    ok = response_view(
        200, "OK", 0.002, [("content-type", "application/json")], b"x" * (SAVED_BODY_LIMIT * 2)
    )
    small = HistoryEntry("http://127.0.0.1:1", api, "text/plain", "hello", ok)
    huge = HistoryEntry("http://127.0.0.1:1", api, "text/plain", "y" * (SAVED_BODY_LIMIT + 1), ok)
    failed = HistoryEntry(
        "http://127.0.0.1:1", api, "text/plain", "hello", None, error="ConnectError: refused"
    )
    text = history_lines([huge, failed] + [small] * (HISTORY * 2))
    entries = parse_history(text + "not json\n{}\n")
    assert len(entries) == HISTORY - 1 and entries[0] == failed  # the newest 50, less the huge one
    assert entries[1].body == "hello" and len(entries[1].response.body) == SAVED_BODY_LIMIT
    assert entries[1].response.status == 200 and entries[1].api == api


HEADERS_SERVICE = """
import bentotui as bentoml
from bentotui.io import JSON, Text

svc = bentoml.Service("whoami")


@svc.api(input=Text(), output=JSON())
def whoami(text: str, ctx: bentoml.Context) -> dict:
    return {"text": text, "key": ctx.request.headers.get("x-api-key"), "trace": ctx.request.headers.get("x-trace")}
"""


async def test_headers_are_sent_kept_in_history_copied_and_a_pasted_curl_fills_the_request(make_app, tmp_path):
    from textual import events
    from textual.widgets import Input

    with serve("service:svc", cwd=service_dir(tmp_path, "whoami", HEADERS_SERVICE)) as srv:
        app = make_app(poll_interval=0.3)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            app.open_requests(srv.url)
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, RequestsScreen) and app.screen.api and app.screen, what="APIs"
            )
            headers = screen.query_one("#headers", Input)
            body = screen.query_one("#body", TextArea)
            headers.value = "x-api-key: k1; x-trace: t-9"
            body.text = "hello"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.history, what="response")
            assert json.loads(screen.history[0].response.body) == {"text": "hello", "key": "k1", "trace": "t-9"}
            assert screen.history[0].request_headers == (("x-api-key", "k1"), ("x-trace", "t-9"))

            await pilot.press("ctrl+y")
            assert "-H 'x-api-key: k1' -H 'x-trace: t-9'" in screen.last_curl
            ran = subprocess.run(shlex.split(screen.last_curl), capture_output=True, timeout=30, check=True)
            assert json.loads(ran.stdout)["key"] == "k1"

            # a header the panel cannot send is refused before anything is sent
            headers.value = "no colon here"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert len(screen.history) == 1
            assert any("is not Name: value" in n.message for n in app._notifications)

            # pasting a curl command (as copied from docs: another host, line continuations) fills it all
            pasted = f"curl -X POST http://api.example.com{screen.api.route} \\\n  -H 'Content-Type: text/plain' \\\n  -H 'x-api-key: from-curl' -d 'pasted body'"
            body.post_message(events.Paste(pasted))
            await wait_for(pilot, lambda: body.text == "pasted body", what="curl read")
            assert headers.value == "x-api-key: from-curl"
            assert screen.query_one("#content-type", Input).value == "text/plain"
            assert any("it named api.example.com" in n.message for n in app._notifications)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: len(screen.history) == 2, what="second response")
            assert json.loads(screen.history[0].response.body)["key"] == "from-curl"

            body.post_message(events.Paste("curl -d @payload.json http://x/whoami"))
            await wait_for(pilot, lambda: any("reads a file" in n.message for n in app._notifications), what="refusal")
            assert body.text == "pasted body"  # nothing was inserted
            body.post_message(events.Paste("just text"))
            await wait_for(pilot, lambda: "just text" in body.text, what="an ordinary paste")

            # history replays the headers
            screen.query_one("#history", OptionList).highlighted = 1
            screen.query_one("#history", OptionList).action_select()
            await wait_for(pilot, lambda: headers.value == "x-api-key: k1; x-trace: t-9", what="headers restored")


def test_headers_and_curl_parsing():
    from bentotui.tui.request_view import format_headers, parse_curl, parse_headers

    assert parse_headers(" a: 1 ;\nB-c:  two words ") == (("a", "1"), ("B-c", "two words"))
    assert format_headers((("a", "1"), ("b", "2"))) == "a: 1; b: 2"
    for bad, message in [("nope", "is not Name: value"), ("bad name: 1", "is not Name: value"),
                         ("Content-Type: x", "set by the panel")]:
        with pytest.raises(ValueError, match=message):
            parse_headers(bad)
    curl = parse_curl("curl -sS --json '{\"a\": 1}' -H 'Accept: application/json' localhost:3000/p")
    assert (curl.method, curl.url, curl.content_type, curl.headers, curl.body) == (
        "POST", "localhost:3000/p", "application/json", (("Accept", "application/json"),), '{"a": 1}')
    assert parse_curl("curl http://h/x").method == "GET"
    assert parse_curl("curl -X put --url http://h/x -d a -d b").body == "a&b"
    for bad, message in [("wget http://x", "not a curl"), ("curl -d 'open", "not a complete"),
                         ("curl -d x", "names no URL"), ("curl --upload-file f http://x", "not one the panel")]:
        with pytest.raises(ValueError, match=message):
            parse_curl(bad)


def test_history_keeps_request_headers_and_reads_older_files_without_them():
    api = ApiInfo("shout", "/shout", "post", "text/plain", "hi")
    entry = HistoryEntry("http://127.0.0.1:1", api, "text/plain", "hi", None, "x", (("k", "v"),))
    [back] = parse_history(history_lines([entry]))
    assert back.request_headers == (("k", "v"),)
    old = json.loads(history_lines([entry]))
    del old["headers"]
    [older] = parse_history(json.dumps(old))
    assert older.request_headers == ()
