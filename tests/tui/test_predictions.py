"""The Predictions area (``4``): prediction logs a real server writes with ``bentoml.monitor``,
read back newest first, filtered by field, followed as new requests arrive."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest
from textual.widgets import DataTable, Input, Static

from bentotui import paths
from bentotui.tui import monitor_view
from bentotui.tui.screens.predictions import PredictionsScreen
from tests.helpers.server import serve
from tests.tui.conftest import SIZE, store_listed, wait_for

MONITORED = textwrap.dedent("""
    import bentotui as bentoml

    svc = bentoml.Service(name="scorer")


    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def score(body):
        label = "big" if body["x"] > 10 else "small"
        with bentoml.monitor("scorer_log") as mon:
            mon.log(body["x"], name="x", role="feature", data_type="numerical")
            mon.log(label, name="label", role="prediction", data_type="categorical")
        return {"label": label}
""")


@pytest.fixture
def monitored(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(MONITORED)
    return tmp_path


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_logs_of_a_served_monitor_are_listed_filtered_and_followed(make_app, monitored):
    with serve("service:svc", cwd=monitored) as srv, httpx.Client() as client:
        for x in (1, 5, 20, 30):
            assert client.post(srv.url + "/score", json={"x": x}).status_code == 200
        app = make_app(poll_interval=0.3)
        async with app.run_test(size=SIZE) as pilot:
            await store_listed(pilot)
            await pilot.press("4")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, PredictionsScreen) and app.screen)
            table = screen.query_one("#records", DataTable)
            await wait_for(pilot, lambda: table.row_count == 4, what="four records")
            assert [str(c.label) for c in table.columns.values()] == ["timestamp", "request_id", "x", "label"]
            assert [row[2:] for row in rows(table)] == [["30", "big"], ["20", "big"], ["5", "small"], ["1", "small"]]
            assert "scorer_log: 4 of 4 newest records · following" == screen.sub_title

            await pilot.press("slash")
            await pilot.press(*"label=big")
            await wait_for(pilot, lambda: table.row_count == 2, what="filtered")
            screen.query_one("#monitor-filter", Input).value = "x<10"
            await wait_for(pilot, lambda: [row[2] for row in rows(table)] == ["5", "1"], what="numeric filter")
            screen.query_one("#monitor-filter", Input).value = ""
            await pilot.press("escape")

            response = client.post(srv.url + "/score", json={"x": 99})
            await wait_for(pilot, lambda: table.row_count == 5 and rows(table)[0][2] == "99", what="followed")
            request_id = response.headers["x-request-id"]
            assert rows(table)[0][1] == request_id  # the id the server answered with
            table.move_cursor(row=0)
            await pilot.pause()
            detail = json.loads(str(screen.query_one("#record-detail", Static).render()))
            assert detail["x"] == 99 and detail["label"] == "big" and detail["request_id"] == request_id

            await pilot.press("f")
            assert not screen.follow and screen.sub_title.endswith("paused")
            client.post(srv.url + "/score", json={"x": 7})
            await pilot.pause(1.0)
            assert table.row_count == 5  # paused: nothing new read


async def test_no_monitor_yet_says_how_to_make_one(make_app):
    app = make_app(poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await store_listed(pilot)
        await pilot.press("4")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, PredictionsScreen) and app.screen)
        await wait_for(pilot, lambda: "no prediction logs yet" in screen.sub_title, what="empty state")


def test_records_merge_every_process_newest_first_and_skip_broken_lines(tmp_path):
    tmp_path = tmp_path / "monitoring"
    folder = tmp_path / "m" / "data"
    folder.mkdir(parents=True)
    (tmp_path / "m" / "schema.json").write_text(json.dumps({"name": "m", "columns": [
        {"name": "timestamp"}, {"name": "request_id"}, {"name": "p"}]}))
    (folder / "data.1.jsonl").write_text('{"timestamp": "2026-01-01T00:00:01", "p": 1}\nnot json\n')
    (folder / "data.2.jsonl").write_text('{"timestamp": "2026-01-01T00:00:02", "p": 2}\n[1, 2]\n{"timestamp": "2026-01-01T00:00:03", "p')
    (folder / "data.2.jsonl.1").write_text('{"timestamp": "2025-01-01T00:00:00", "p": 0}\n')  # rotated: not read
    [monitor] = monitor_view.list_monitors(tmp_path)
    assert monitor.name == "m" and monitor.columns == ("timestamp", "request_id", "p") and len(monitor.files) == 2
    assert [r["p"] for r in monitor_view.read_records(monitor)] == [2, 1]
    assert monitor_view.list_monitors(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", [1, 2, 3]), ("label=CAT", [1, 3]), ("label!=cat", [2]), ("score>0.5", [2, 3]), ("score<0.5", [1]),
     ("dog", [2]), ("label=cat score>0.5", [3]), ("missing=1", []), ("label>1", [])],
)
def test_filters(query, expected):
    records = [{"id": 1, "label": "cat", "score": 0.1}, {"id": 2, "label": "dog", "score": 0.9},
               {"id": 3, "label": "cat", "score": 0.7}]
    terms = monitor_view.parse_filter(query)
    assert [r["id"] for r in records if monitor_view.matches(r, terms)] == expected


def test_cells_are_compact():
    assert [monitor_view.cell(v) for v in ("a", 0.1234567891, None, [1, 2], {"k": 1}, 3)] == [
        "a", "0.123457", "", "[1,2]", '{"k":1}', "3"]
    assert paths.home().is_dir()
