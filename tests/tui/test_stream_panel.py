"""Streaming APIs in the Requests area, against a real ``bentotui serve`` of a 1.2 service.

As in ``tests/server/test_streaming.py``, "it is shown as it arrives" goes by arrival order, not
durations: the generator yields its first token, then waits for a gate file that the test creates
only after the panel showed that token.  "Stop closed the stream" goes by a marker file that the
generator's ``finally:`` writes once the server saw the client go, with the gate never opened.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea

from bentotui.tui.request_view import (
    STREAM_KEEP,
    ApiInfo,
    StreamProgress,
    curl_command,
    entry_from_dict,
    entry_to_dict,
)
from bentotui.tui.screens.requests import RequestsScreen
from tests.helpers.server import RunningServer, serve
from tests.tui.conftest import SIZE, store_listed, wait_for

STREAM_SERVICE = textwrap.dedent(
    """
    import asyncio
    import os
    from collections.abc import AsyncGenerator
    from pathlib import Path
    from typing import Annotated

    import bentotui as bentoml
    from bentotui.validators import ContentType


    @bentoml.service(name="tokens", workers=1)
    class Tokens:
        @bentoml.api
        async def generate(
            self, gate: str, marker: str, n: int = 3
        ) -> Annotated[AsyncGenerator[str, None], ContentType("text/plain")]:
            try:
                yield "first "
                while not os.path.exists(gate):
                    await asyncio.sleep(0.01)
                for i in range(n):
                    yield f"token{i} "
            finally:
                Path(marker).write_text("closed")

        @bentoml.api
        async def endless(self, marker: str) -> Annotated[AsyncGenerator[str, None], ContentType("text/plain")]:
            try:
                while True:
                    yield "tok " * 256
                    await asyncio.sleep(0)
            finally:
                Path(marker).write_text("closed")

        @bentoml.api
        async def events(self, n: int = 3) -> AsyncGenerator[str, None]:
            for i in range(n):
                yield f"data: {i}\\n\\n"
    """
)


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[RunningServer]:
    folder = tmp_path / "tokens"
    folder.mkdir()
    (folder / "service.py").write_text(STREAM_SERVICE)
    with serve("service:Tokens", cwd=folder) as server:
        yield server


async def on_api(pilot, url: str, name: str, body: dict[str, object]) -> RequestsScreen:
    """The Requests area on ``url`` with API ``name`` picked and ``body`` in the editor."""
    app = pilot.app
    await store_listed(pilot)
    await wait_for(pilot, lambda: app.book.ready(), what="ready server")
    app.open_requests(url)
    screen = await wait_for(
        pilot,
        lambda: isinstance(app.screen, RequestsScreen) and app.screen.apis and app.screen,
        what="APIs",
    )
    api = next(a for a in screen.apis if a.name == name)
    assert api.stream  # /docs.json marks it
    screen.choose_api(api, json.dumps(body))
    return screen


def status(screen: RequestsScreen) -> str:
    return str(screen.query_one("#status", Static).render())


def shown(screen: RequestsScreen) -> str:
    area = screen.query_one("#stream", TextArea)
    return area.text if area.display else ""


async def test_a_stream_is_shown_as_it_arrives_with_its_ttft(make_app, tokens, tmp_path):
    """The first token is on screen, with TTFT and the live line, while the server still holds
    the rest back; after the gate opens the stream ends, the line says "stream done" with its
    rate, and the history entry keeps TTFT and the total."""
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_api(pilot, tokens.url, "generate", {"gate": str(gate), "marker": str(marker)})
        assert not screen.active_bindings["ctrl+t"].enabled  # shown dimmed: nothing to stop yet
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "first" in shown(screen), what="the first token")
        assert "token0" not in shown(screen) and not marker.exists()
        line = status(screen)
        assert "streaming" in line and "TTFT " in line and "TTFT -" not in line and "1 chunks" in line
        assert screen.active_bindings["ctrl+t"].enabled

        gate.touch()
        await wait_for(pilot, lambda: "stream done" in status(screen), what="the end of the stream")
        assert shown(screen) == "first token0 token1 token2 "
        assert "chunks/s" in status(screen) and "4 chunks" in status(screen)
        stats = screen.history[0].response.stream
        assert stats.ttft_ms is not None and not stats.stopped
        assert stats.ttft_ms <= stats.last_ms <= screen.history[0].response.latency_ms
        assert "TTFT" in screen.history[0].label()
        assert not screen.active_bindings["ctrl+t"].enabled


async def test_stop_closes_the_stream_and_the_server_stops_its_generator(make_app, tokens, tmp_path):
    """``ctrl+t`` while the server holds the stream open: the panel says "stopped by you" and the
    generator's ``finally:`` runs on the server (the connection was closed), gate never opened."""
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_api(pilot, tokens.url, "generate", {"gate": str(gate), "marker": str(marker)})
        screen.query_one("#body", TextArea).focus()  # stop works from the editor too
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "first" in shown(screen), what="the first token")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "stopped by you" in status(screen), what="the stop")
        await wait_for(pilot, marker.exists, timeout=20, what="the generator's finally on the server")
        assert not gate.exists() and shown(screen) == "first "
        assert screen.history[0].response.stream.stopped
        assert "stopped" in screen.history[0].label()
        assert screen.query_one("#body", TextArea).text == json.dumps(
            {"gate": str(gate), "marker": str(marker)}
        )


async def test_server_sent_events_are_counted_and_curl_does_not_buffer(make_app, tokens):
    """An SSE answer counts events (not network reads), and its curl command has ``-N``, which
    prints the events as the server sends them."""
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_api(pilot, tokens.url, "events", {"n": 3})
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "stream done" in status(screen), what="the end of the stream")
        assert "3 events" in status(screen) and "events/s" in status(screen)
        assert shown(screen) == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
        assert screen.query_one("#stream", TextArea).border_title == "stream · text/event-stream"
        await pilot.press("ctrl+y")
        assert screen.last_curl.startswith("curl -N ")
        ran = subprocess.run(["sh", "-c", screen.last_curl], capture_output=True, timeout=30, check=True)
        assert ran.stdout == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_an_error_answer_of_a_streaming_api_is_an_ordinary_response(make_app, tokens):
    """A request the server rejects before the first item (a missing parameter) shows its status
    and JSON error in the response pane, in red, not as a stream."""
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_api(pilot, tokens.url, "generate", {})
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.history, what="the answer")
        response = screen.history[0].response
        assert response.status >= 400 and response.stream is None and "error" in response.body
        assert screen.query_one("#status", Static).has_class("failed") and shown(screen) == ""
        assert screen.query_one("#response").display and not screen.active_bindings["ctrl+t"].enabled


async def test_a_stream_that_never_ends_stays_bounded_in_the_view(make_app, tokens, tmp_path):
    """A fast endless stream: the view keeps about STREAM_KEEP characters, its bottom border says
    how many older ones were dropped, and the stop key still ends it on the server."""
    marker = tmp_path / "marker"
    app = make_app(poll_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_api(pilot, tokens.url, "endless", {"marker": str(marker)})
        await pilot.press("ctrl+s")
        area = screen.query_one("#stream", TextArea)
        await wait_for(pilot, lambda: screen.live.stats.dropped > STREAM_KEEP, what="text dropped")
        await pilot.pause(0.1)
        assert "older characters dropped" in area.border_subtitle
        assert len(area.text) <= STREAM_KEEP * 5 // 4
        await pilot.press("ctrl+t")
        await wait_for(pilot, marker.exists, timeout=20, what="the generator's finally on the server")
        await wait_for(pilot, lambda: "stopped by you" in status(screen), what="the stop")
        kept = screen.history[0].response.body
        assert area.text == kept and STREAM_KEEP <= len(kept) <= STREAM_KEEP * 5 // 4


def test_stream_progress_decodes_counts_and_is_bounded():
    """Pure model: a character split between chunks survives, SSE events split between chunks
    count once, a stream that never ends keeps about STREAM_KEEP characters and says how many it
    dropped, and the history entry round-trips its TTFT and stop."""
    api = ApiInfo("gen", "/gen", "post", "application/json", "{}", stream=True)
    sse = StreamProgress("http://127.0.0.1:1", api, "application/json", "{}", started=10.0)
    sse.open(200, "", [("content-type", "text/event-stream; charset=utf-8")])
    assert sse.take() == ("", True) and sse.reason == "OK"
    for i, chunk in enumerate([b"data: a\n", b"\ndata: \xc3", b"\xa9\r\n\r", b"\n"]):
        sse.feed(chunk, 10.1 + i / 10)
    assert sse.take() == ("data: a\n\ndata: é\r\n\r\n", False)
    assert sse.stats.events == 2 and sse.stats.chunks == 4 and round(sse.stats.ttft_ms) == 100
    sse.finish(11.0, stopped=True)
    entry = sse.entry()
    assert entry_from_dict(entry_to_dict(entry)) == entry and entry.response.stream.stopped

    endless = StreamProgress("http://127.0.0.1:1", api, "application/json", "{}", started=0.0)
    endless.open(200, "OK", [("content-type", "text/plain")])
    for i in range(STREAM_KEEP // 2):
        endless.feed(b"tok ", i / 1000)
    assert STREAM_KEEP <= len(endless.text) <= STREAM_KEEP * 5 // 4
    assert endless.stats.dropped == STREAM_KEEP * 2 - len(endless.text)
    assert "older characters dropped" in endless.kept_note()
    assert endless.take()[1]  # the view reloads the kept text after a cut

    assert curl_command("http://127.0.0.1:1", api, "application/json", "{}").startswith("curl -N -X POST")
