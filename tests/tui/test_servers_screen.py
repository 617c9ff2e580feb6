"""The Servers screen with Pilot, fed real registry records and scrapes through the app's own
messages (the ones its workers post), so widths, colours and sparklines are checked exactly."""

from __future__ import annotations

from rich.style import Style
from textual.widgets import DataTable

from bentotui.tui.messages import RunsListed, ServerProbed
from bentotui.tui.screens.servers import ServersScreen, SparkBars
from bentotui.tui.stats import Scrape
from tests.tui import snapshot_data as data
from tests.tui.conftest import store_listed
from tests.tui.snapshot_data import run_info

LONG_TARGET = "--model iris-classifier:20261101-120000-a1b2c3"
IDLE = {0.005: 0.0, 0.05: 0.0, float("inf"): 0.0}


RUNS = [run_info("slow", target=LONG_TARGET, port=3000, pid=1234567), run_info("idle", port=3001, pid=4242)]


async def show(pilot) -> ServersScreen:
    """Two ready servers: 'slow' with p50 1.75 s and 10 % errors, 'idle' with no traffic."""
    app = pilot.app
    await store_listed(pilot)
    app.post_message(RunsListed(RUNS))
    t = data.clock()
    for i, (slow, idle) in enumerate(
        [
            (Scrape(t=t - 2, count=0, buckets={1.0: 0.0, 2.5: 0.0, float("inf"): 0.0}), Scrape(t=t - 2)),
            (Scrape(t=t - 1, count=10, errors=1, buckets={1.0: 0.0, 2.5: 10.0, float("inf"): 10.0}), None),
        ]
    ):
        app.post_message(ServerProbed("slow", True, slow))
        app.post_message(ServerProbed("idle", True, idle or Scrape(t=t - 2 + i, buckets=IDLE)))
    await pilot.press("2")
    await pilot.pause()
    assert isinstance(app.screen, ServersScreen)
    return app.screen


def shown_width(column) -> int:
    return column.content_width if column.auto_width else column.width


async def test_narrow_terminal_keeps_every_number_whole_and_on_screen(make_app):
    """Bugs 1 and 19: at 80x24 p50 read '175' (cut to its header's width) and a long target pushed
    p50, p99 and errors off screen.  Now nothing scrolls sideways and no cell is cut but the target."""
    app = make_app(poll_interval=None, clock=data.clock)
    async with app.run_test(size=(130, 36)) as pilot:
        screen = await show(pilot)
        table = screen.query_one(DataTable)
        assert "pid" in [c.key.value for c in table.ordered_columns]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        keys = [c.key.value for c in table.ordered_columns]
        assert {"state", "rps", "p50", "p99", "err"} <= set(keys) and "pid" not in keys
        assert table.max_scroll_x == 0  # every column fits the table's width
        assert str(table.get_cell("slow", "p50")) == "1.75s"
        for column in table.ordered_columns:
            for row_key in table.rows:
                text = str(table.get_cell(row_key, column.key))
                assert len(text) <= shown_width(column), (column.key.value, text)
        assert str(table.get_cell("slow", "target")).endswith("…")
        assert LONG_TARGET in str(screen.query_one("#last-log").render())  # the full target, below


async def test_colours_carry_meaning_in_dark_and_light_themes(make_app):
    """ready in the theme's success colour, errors above 0 % in its error colour, stopped dim;
    switching the theme recolours the cells (each theme keeps its text colours readable)."""
    app = make_app(poll_interval=None, clock=data.clock)
    async with app.run_test(size=(130, 36)) as pilot:
        screen = await show(pilot)
        table = screen.query_one(DataTable)

        def colour(row: str, key: str):
            return table.get_cell(row, key).style.color

        def theme_colour(name: str):
            return Style.parse(app.theme_variables[name]).color

        assert colour("slow", "state") == theme_colour("text-success")
        assert colour("slow", "err") == theme_colour("text-error")
        assert table.get_cell("idle", "err").style == ""  # no traffic, no colour
        dark = theme_colour("text-success")
        await pilot.press("f2")
        await pilot.pause()
        assert app.theme == "textual-light" and theme_colour("text-success") != dark
        assert colour("slow", "state") == theme_colour("text-success")
        app.post_message(RunsListed(RUNS[:1]))  # 'idle' left the registry: a clean stop
        await pilot.pause()
        assert str(table.get_cell("idle", "state")) == "stopped"
        assert table.get_cell("idle", "state").style.dim


async def test_sparklines_have_a_scale_and_an_idle_server_draws_no_bars(make_app):
    app = make_app(poll_interval=None, clock=data.clock)
    async with app.run_test(size=(130, 36)) as pilot:
        screen = await show(pilot)
        label = str(screen.query_one("#label-p50").render())
        assert "now 1.75s" in label and "max 1.75s" in label
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("idle"))
        await pilot.pause()
        bars = str(screen.query_one("#spark-rps", SparkBars).render())
        assert bars and set(bars) == {"▁"}  # Textual's Sparkline drew one value as a full bar
        assert "max 0.0" in str(screen.query_one("#label-rps").render())


async def test_forget_on_a_live_row_says_why_it_does_nothing(make_app):
    """Bug 20: x on a live row was silently disabled."""
    app = make_app(poll_interval=None, clock=data.clock)
    async with app.run_test(size=(130, 36)) as pilot:
        await show(pilot)
        await pilot.press("x")
        assert "slow" in app.book.entries
        assert any("forgets stopped rows only" in n.message for n in app._notifications)
