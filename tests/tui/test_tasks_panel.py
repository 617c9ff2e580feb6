"""The task list of the Requests area, against a real ``bentotui serve`` of a 1.2 service.

Two tasks are submitted over HTTP, as any client would: ``slow`` waits for a gate file that the
test opens only after it cancelled the task, ``summarize`` finishes at once.  The list must show
both with their states (read from the task store by the TUI, not asked of the server), ``c`` must
cancel the slow one on the server (its state turns ``canceled`` there and in the list) and ``g``
must put the fast one's result in the response pane, and ``r`` must run it again as a new task.  The view model is checked alone below.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.widgets import Static

from bentotui.store.tasks import ResultStatus, TaskRecord
from bentotui.tui.screens.requests import RequestsScreen
from bentotui.tui.screens.tasks import TaskTable
from bentotui.tui.task_view import SHORT_ID, TASK_LIMIT, TaskRow, task_rows
from tests.helpers.server import RunningServer, serve
from tests.tui.conftest import SIZE, store_listed, wait_for

TASK_SERVICE = textwrap.dedent(
    """
    import asyncio
    import os

    import bentotui as bentoml


    @bentoml.service(name="jobs", workers=1)
    class Jobs:
        @bentoml.task
        async def slow(self, gate: str) -> str:
            while not os.path.exists(gate):
                await asyncio.sleep(0.02)
            return "opened"

        @bentoml.task(route="/count")
        def summarize(self, text: str) -> dict:
            return {"words": len(text.split())}
    """
)


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[RunningServer]:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "service.py").write_text(TASK_SERVICE)
    with serve("service:Jobs", cwd=folder) as server:
        yield server


def submit(url: str, route: str, body: dict[str, object]) -> str:
    response = httpx.post(f"{url}{route}/submit", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["task_id"])


def state(table: TaskTable, task_id: str) -> str | None:
    """The state cell of a task's row, or None while the row is not there."""
    if task_id not in table.rows_shown:
        return None
    return str(table.get_cell(task_id, "state"))


async def test_tasks_are_listed_cancelled_and_fetched_from_the_keyboard(make_app, jobs, tmp_path):
    """Both tasks listed with their states and the task names; ``c`` on the running one cancels
    it on the server; ``g`` on the finished one shows ``{"words": 3}`` from ``GET /count/get``
    (the task's own route, not its name)."""
    gate = tmp_path / "gate"
    slow = submit(jobs.url, "/slow", {"gate": str(gate)})
    fast = submit(jobs.url, "/count", {"text": "a b c"})
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await wait_for(pilot, lambda: app.book.ready(), what="ready server")
        app.open_requests(jobs.url)
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, RequestsScreen) and app.screen.apis and app.screen,
            what="APIs",
        )
        table = screen.query_one("#tasks", TaskTable)
        await wait_for(
            pilot,
            lambda: state(table, slow) == "in_progress" and state(table, fast) == "completed",
            what="both tasks with their states",
        )
        assert table.display and table.border_title == "tasks · jobs · 2"
        assert list(table.rows_shown) == [fast, slow]  # newest first
        assert str(table.get_cell(slow, "id")) == slow[:SHORT_ID]
        assert str(table.get_cell(fast, "name")) == "summarize"
        for _ in range(2):  # in the theme's colours, also after a switch (f2) between refreshes
            success = app.theme_variables["text-success"].lower()
            assert table.get_cell(fast, "state").style.color.name == success
            await pilot.press("f2")

        await pilot.press("ctrl+o")
        assert app.focused is table and table.selected.task_id == fast
        assert not screen.active_bindings["c"].enabled  # a finished task cannot be cancelled
        await pilot.press("down")
        assert table.selected.task_id == slow
        assert screen.active_bindings["c"].enabled and not screen.active_bindings["g"].enabled
        await pilot.press("c")
        await wait_for(pilot, lambda: state(table, slow) == "canceled", what="the cancelled state")
        status = httpx.get(f"{jobs.url}/slow/status", params={"task_id": slow}, timeout=10).json()
        assert status["status"] == "canceled"
        assert table.selected.task_id == slow  # the cursor stays on its task
        gate.touch()  # the method runs on in the worker until it returns (see docs/service-styles.md)

        await pilot.press("up", "g")
        body = screen.query_one("#response-body", Static)
        await wait_for(pilot, lambda: '"words": 3' in str(body.render()), what="the result")
        line = str(screen.query_one("#status", Static).render())
        assert line.startswith("200 OK")

        # r runs a finished task again, as a new task with the same input (POST /count/retry)
        assert screen.active_bindings["r"].enabled
        await pilot.press("r")
        await wait_for(pilot, lambda: len(table.rows_shown) == 3, what="the retried task listed")
        retried = next(task_id for task_id in table.rows_shown if task_id not in (fast, slow))
        await wait_for(pilot, lambda: state(table, retried) == "completed", what="the retry completed")
        assert any(f"retried as {retried[:SHORT_ID]}" in n.message for n in app._notifications)
        answer = httpx.get(f"{jobs.url}/count/get", params={"task_id": retried}, timeout=10).json()
        assert answer == {"words": 3}


def test_task_rows_show_states_ages_and_durations():
    """Pure view model: short id, tones by state, times in UTC to the second, the duration counting
    up while a task runs and none for one that never started; at most TASK_LIMIT rows."""
    t0 = "2026-11-01T12:00:00+00:00"

    def record(status: ResultStatus, executed: str | None, completed: str | None) -> TaskRecord:
        return TaskRecord("ab" * 16, "jobs", "summarize", status, t0, "o", executed, completed)

    now = TaskRow.of(record(ResultStatus.PENDING, None, None)).created + 90
    done = TaskRow.of(
        record(ResultStatus.COMPLETED, "2026-11-01T12:00:01+00:00", "2026-11-01T12:00:03.500000+00:00")
    )
    assert [(c.text, c.tone) for c in done.cells(now)] == [
        ("abababab", "dim"),
        ("summarize", None),
        ("completed", "success"),
        ("11-01 12:00:00", None),
        ("11-01 12:00:03", None),
        ("2.50s", None),
    ]
    running = TaskRow.of(record(ResultStatus.IN_PROGRESS, "2026-11-01T12:00:30+00:00", None))
    assert running.cells(now)[2].tone == "warning" and running.cells(now)[4].text == "-"
    assert running.cells(now)[5].text == "60.0s"
    queued = TaskRow.of(record(ResultStatus.CANCELED, None, "2026-11-01T12:01:00+00:00"))
    assert queued.finished and queued.took(now) is None and queued.cells(now)[5].text == "-"
    assert TaskRow.of(record(ResultStatus.FAILED, None, None)).cells(now)[2].tone == "error"
    assert len(task_rows([record(ResultStatus.PENDING, None, None)] * (TASK_LIMIT + 5))) == TASK_LIMIT
