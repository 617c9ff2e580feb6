"""Servers, logs, metrics and the request panel against real ``bentotui serve`` processes."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest
from rich.style import Style
from textual.widgets import DataTable, Input, Label, Log, OptionList, Static, TextArea

from bentotui import runs
from bentotui.tui.messages import ResponseReceived
from bentotui.tui.screens.dialogs import StartDialog
from bentotui.tui.screens.logs import LogsScreen
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.servers import ServersScreen
from bentotui.tui.server_view import CRASHED, FAILING, READY, STOPPED
from tests.helpers.server import serve
from tests.tui.conftest import SIZE, store_listed, wait_for

ECHO_SERVICE = """
import bentotui
from bentotui.io import JSON, Text

svc = bentotui.Service("echo")


@svc.api(input=Text(), output=JSON())
def shout(text: str) -> dict:
    return {"upper": text.upper()}
"""


# Fails after it registered (like a model whose pickled class cannot be imported), so start_run
# reports success and only the exit status tells the crash.
CRASHY_SERVICE = """
import time

import bentotui
from bentotui.io import JSON, Text

svc = bentotui.Service("crashy")


@svc.on_startup
def load_extras() -> None:
    time.sleep(1)  # not a wait for anything: it keeps the crash after the registry write
    import fancylib  # noqa: F401


@svc.api(input=Text(), output=JSON())
def shout(text: str) -> dict:
    return {"upper": text.upper()}
"""


@pytest.fixture
def echo_dir(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(ECHO_SERVICE)
    return tmp_path


@pytest.fixture
def crashy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "crashy"
    folder.mkdir()
    (folder / "service.py").write_text(CRASHY_SERVICE)
    return folder


def error_notices(app, text: str) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error" and text in n.message]


def entry_state(app, run_id=None):
    entries = list(app.book.entries.values())
    if run_id is not None:
        entries = [e for e in entries if e.id == run_id]
    return entries[0].state if entries else None


async def test_serve_model_test_request_logs_and_stop(make_app, iris_model, stop_started_runs):
    """The whole loop: serve from the store, watch it get ready, send a request, read the log, stop."""
    messages: list = []
    app = make_app(poll_interval=0.5)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "shown", None), what="store listing")
        await pilot.press("s")  # serve the selected model: `bentotui serve --model TAG`
        await wait_for(pilot, lambda: isinstance(app.screen, ServersScreen), what="servers area")
        await wait_for(pilot, lambda: entry_state(app) == READY, timeout=90, what="server ready")
        entry = next(iter(app.book.entries.values()))
        assert entry.run.target == f"--model {iris_model.tag}"  # the selected model, by exact tag
        assert psutil.pid_exists(entry.run.pid)
        row = app.screen.query_one(DataTable).get_row(entry.id)
        assert str(row[3]) == "ready" and str(row[1]) == str(entry.run.port)

        # test request: the panel is pre-filled from /docs.json
        await pilot.press("t")
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RequestsScreen) and app.screen.api and app.screen,
            what="APIs loaded",
        )
        assert screen.api.route == "/predict"
        screen.query_one("#body", TextArea).text = json.dumps([[5.1, 3.5, 1.4, 0.2]])
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: screen.history, what="response")
        entry_sent = screen.history[0]
        assert entry_sent.response is not None and entry_sent.response.status == 200, entry_sent
        assert json.loads(entry_sent.response.body) == [0]
        assert "200 OK" in str(screen.query_one("#status", Static).render())
        assert screen.query_one("#history", OptionList).option_count == 1
        assert any(isinstance(m, ResponseReceived) for m in messages)
        await pilot.press("ctrl+y")
        assert (
            screen.last_curl.startswith("curl -X POST http://127.0.0.1:") and "/predict" in screen.last_curl
        )

        # a bad body gets the server's 400, shown as such
        screen.query_one("#body", TextArea).text = "{not json"
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: len(screen.history) == 2, what="second response")
        assert screen.history[0].response.status == 400
        assert "error" in screen.history[0].response.body

        # metrics: the poller saw the traffic
        await pilot.press("2")
        await wait_for(pilot, lambda: entry.stats.latest and sum(entry.stats.req_per_s) > 0, what="req/s > 0")
        assert any(v > 0 for v in entry.stats.p99_ms)

        # logs: the access log line of the request is there
        await pilot.press("l")
        logs = await wait_for(
            pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen, what="log screen"
        )
        await wait_for(
            pilot, lambda: any("/predict" in line for line in logs.query_one(Log).lines), what="access log"
        )
        assert logs.follow
        await pilot.press("g")
        assert not logs.follow and "PAUSED" in logs.sub_title
        await pilot.press("G")
        assert logs.follow
        await pilot.press("escape")
        assert isinstance(app.screen, ServersScreen)

        # stop: graceful, the row stays as stopped with its last log lines
        await pilot.press("s")
        await wait_for(pilot, lambda: entry.state == STOPPED, timeout=30, what="stopped")
        assert not runs.list_runs()
        await wait_for(
            pilot,
            lambda: "last log lines" in str(app.screen.query_one("#last-log", Static).render()),
            what="last log lines",
        )


async def test_headless_server_restarts_in_place_and_a_kill_is_reported(
    make_app, echo_dir, stop_started_runs
):
    """Bugs 11, 5, 20, 4: ``r`` restarts the row in place (one row, the cursor on it); ``enter`` opens
    the log; ``x`` on a live row says why it does nothing; SIGKILL of a server the TUI started reads
    *killed (SIGKILL)*, in red, with an error toast."""
    with serve("service:svc", cwd=echo_dir) as srv:
        app = make_app(poll_interval=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("2")
            await wait_for(pilot, lambda: entry_state(app, srv.run.id) == READY, what="headless server ready")
            await pilot.press("r")
            await wait_for(
                pilot,
                lambda: any(e.state == READY and e.run.pid != srv.pid for e in app.book.entries.values()),
                timeout=90,
                what="restarted server",
            )
            assert srv.proc.poll() is not None  # the old process was stopped gracefully
            screen = app.screen
            restarted = screen.selected
            assert restarted is not None and list(app.book.entries) == [restarted.id]  # in place
            assert (restarted.run.target, restarted.run.port) == ("service:svc", srv.port)
            assert screen.query_one(DataTable).row_count == 1

            await pilot.press("x")
            assert restarted.id in app.book.entries
            assert any("forgets stopped rows only" in n.message for n in app._notifications)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen), what="log opened by enter")
            await pilot.press("escape")

            # a server that dies on its own shows how it died, with its last log lines
            psutil.Process(restarted.run.pid).kill()
            await wait_for(pilot, lambda: restarted.state == CRASHED, what="killed server shown as crashed")
            assert restarted.label == "killed (SIGKILL)"
            cell = screen.query_one(DataTable).get_cell(restarted.id, "state")
            assert str(cell) == "killed (SIGKILL)"
            assert cell.style.color == Style.parse(app.theme_variables["text-error"]).color
            await wait_for(pilot, lambda: error_notices(app, "killed (SIGKILL)"), what="crash toast")
            await wait_for(
                pilot,
                lambda: "last log lines" in str(screen.query_one("#last-log", Static).render()),
                what="last log lines of a dead server",
            )
            await pilot.press("x")
            assert restarted.id not in app.book.entries


async def test_crash_after_start_is_a_crash_with_its_error_and_the_cursor(
    make_app, echo_dir, crashy_dir, monkeypatch, stop_started_runs
):
    """Bug 4: a server that registered and then failed its startup read 'started', then 'stopped'.
    Now: *crashed (exit 2)* in red, a toast with the exception line, the cursor on that row."""
    with serve("service:svc", cwd=echo_dir) as srv:
        monkeypatch.chdir(crashy_dir)
        app = make_app(poll_interval=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("2")
            await wait_for(pilot, lambda: entry_state(app, srv.run.id) == READY, what="headless server ready")
            await pilot.press("n")
            app.screen.query_one("#target", Input).value = "service:svc"
            await pilot.press("enter")
            crashed = await wait_for(
                pilot,
                lambda: next((e for e in app.book.entries.values() if e.state == CRASHED), None),
                what="crashed server",
            )
            assert crashed.id != srv.run.id and crashed.label == "crashed (exit 2)"
            screen = app.screen
            assert isinstance(screen, ServersScreen) and screen.selected is crashed
            cell = screen.query_one(DataTable).get_cell(crashed.id, "state")
            assert cell.style.color == Style.parse(app.theme_variables["text-error"]).color
            await wait_for(
                pilot,
                lambda: error_notices(app, "No module named 'fancylib'"),
                what="toast with the error line",
            )
            assert app.book.entries[srv.run.id].state == READY


async def test_hung_server_fails_and_a_killed_one_starts_again_in_its_row(
    make_app, echo_dir, stop_started_runs
):
    """Bug 7: a SIGSTOPped server showed *ready* at 0.0 req/s for 30 s; its probes now time out on
    their own and two misses make it *failing*, with req/s unknown ('-').  Bugs 4 and 10: SIGKILL of a
    server started elsewhere leaves its registry entry behind, so it reads *crashed*; ``s`` on that
    row starts the same target on the same port and working directory again, in the same row."""
    with serve("service:svc", cwd=echo_dir) as srv:
        app = make_app(poll_interval=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("2")
            entry = await wait_for(
                pilot,
                lambda: entry_state(app, srv.run.id) == READY and app.book.entries[srv.run.id].stats.latest,
                what="ready with a traffic window",
            )
            entry = app.book.entries[srv.run.id]
            table = app.screen.query_one(DataTable)
            os.kill(srv.pid, signal.SIGSTOP)
            try:
                await wait_for(pilot, lambda: entry.state == FAILING, timeout=20, what="hung server failing")
                assert str(table.get_cell(entry.id, "rps")) == "-"
            finally:
                os.kill(srv.pid, signal.SIGCONT)

            srv.proc.kill()
            await wait_for(pilot, lambda: entry.state == CRASHED, what="killed headless server crashed")
            assert entry.label == "crashed"
            await wait_for(pilot, lambda: error_notices(app, "crashed"), what="crash toast")
            await pilot.press("s")
            again = await wait_for(
                pilot,
                lambda: next((e for e in app.book.entries.values() if e.state == READY), None),
                timeout=90,
                what="started again",
            )
            assert list(app.book.entries) == [again.id] and app.screen.selected is again
            assert (again.run.target, again.run.port, again.run.working_dir) == (
                "service:svc",
                srv.port,
                srv.run.working_dir,
            )


async def test_start_dialog_validates_and_starts_a_service(
    make_app, echo_dir, monkeypatch, stop_started_runs
):
    monkeypatch.chdir(echo_dir)
    app = make_app(poll_interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("2", "n")
        dialog = app.screen
        assert isinstance(dialog, StartDialog)
        dialog.query_one("#target", Input).value = "service:svc"
        dialog.query_one("#port", Input).value = "99999"
        await pilot.click("#start")
        assert "port must be" in str(dialog.query_one("#error", Label).render())
        port = dialog.query_one("#port", Input)
        port.value = "0"
        port.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: entry_state(app) == READY, timeout=90, what="started service")

        # a target that cannot load is reported, not crashed on
        await pilot.press("n")
        app.screen.query_one("#target", Input).value = "nosuchmodule:svc"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(n.severity == "error" for n in app._notifications),
            timeout=60,
            what="error notice for a bad target",
        )
