"""Servers, logs, metrics and the request panel against real ``bentotui serve`` processes."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from textual.widgets import DataTable, Input, Label, Log, OptionList, Static, TextArea

from bentotui import runs
from bentotui.tui.messages import ResponseReceived
from bentotui.tui.screens.dialogs import StartDialog
from bentotui.tui.screens.logs import LogsScreen
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.servers import ServersScreen
from bentotui.tui.server_view import READY, STOPPED
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


@pytest.fixture
def echo_dir(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(ECHO_SERVICE)
    return tmp_path


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


async def test_headless_server_shows_up_restarts_and_death_is_visible(make_app, echo_dir, stop_started_runs):
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
            restarted = next(e for e in app.book.entries.values() if e.run.pid != srv.pid)
            assert restarted.run.target == "service:svc"

            # a server that dies on its own shows as stopped, with its last log lines
            psutil.Process(restarted.run.pid).kill()
            await wait_for(pilot, lambda: restarted.state == STOPPED, what="dead server shown as stopped")
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(restarted.id))
            await wait_for(
                pilot,
                lambda: "last log lines" in str(app.screen.query_one("#last-log", Static).render()),
                what="last log lines of a dead server",
            )
            await pilot.press("x")
            assert restarted.id not in app.book.entries


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
