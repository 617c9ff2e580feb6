"""``bentoml.io.SSE``: marshal as BentoML 1.4 does, read back from chunks split anywhere."""

from __future__ import annotations

import asyncio

import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.io import SSE


def test_marshal_writes_bentomls_format():
    assert SSE(data="hello").marshal() == "data: hello\n\n"
    assert SSE(data="a\nb", event="token", id="7", retry=500).marshal() == (
        "event: token\nid: 7\nretry: 500\ndata: a\ndata: b\n\n"
    )
    with pytest.raises(InvalidArgument, match="one line"):
        SSE(data="x", event="two\nlines").marshal()


def _read(chunks: list[str]) -> list[SSE]:
    async def source():
        for chunk in chunks:
            yield chunk

    async def collect() -> list[SSE]:
        return [event async for event in SSE.from_iterator(source())]

    return asyncio.run(collect())


def test_events_come_back_however_the_stream_was_split():
    events = [SSE(data="first"), SSE(data="two\nlines", event="token", id="2", retry=100), SSE(data="")]
    wire = "".join(e.marshal() for e in events)
    assert _read([wire]) == events
    assert _read(list(wire)) == events  # one character per chunk
    assert _read([wire[:5], wire[5:17], wire[17:]]) == events


def test_comments_unknown_fields_and_crlf():
    wire = ": keep-alive\r\n\r\nfoo: bar\r\ndata:x\r\n\r\ndata: y\n"  # the last event never ended
    assert _read([wire]) == [SSE(data="x")]
