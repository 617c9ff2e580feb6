"""``bentoml.io.SSE``: one Server-Sent Event, written by a streaming API and read back by a client.

A streaming API frames its own events (BentoML sends a stream's items as they are), so a service
yields ``SSE(data=token).marshal()``; ``SSE.from_iterator`` turns the text chunks of such a
response back into events, however the network split them.  The format is the WHATWG one
(``event:``/``id:``/``retry:`` fields, one ``data:`` line per line of data, a blank line ends an
event), as BentoML 1.4 writes it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from bentotui.exceptions import InvalidArgument


@dataclass
class SSE:
    """One event: ``data`` (may span lines), and the optional ``event`` name, ``id`` and ``retry`` (ms)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def marshal(self) -> str:
        """The event as it goes on the wire, ending with its blank line."""
        for name, value in (("event", self.event), ("id", self.id)):
            if value is not None and ("\n" in value or "\r" in value):
                raise InvalidArgument(f"SSE {name} must be one line, got {value!r}")
        lines = [f"event: {self.event}"] if self.event else []
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return "\n".join(lines) + "\n\n"

    @classmethod
    async def from_iterator(cls, chunks: AsyncIterator[str]) -> AsyncGenerator[SSE, None]:
        """The events in a stream of text chunks, each once its blank line has arrived; comments
        (``:`` lines) and unknown fields are skipped, as the format says."""
        pending = ""
        fields: dict[str, str] = {}
        data: list[str] = []
        async for chunk in chunks:
            pending += chunk.replace("\r\n", "\n").replace("\r", "\n")
            *lines, pending = pending.split("\n")
            for line in lines:
                if not line:
                    if data or fields:
                        retry = fields.get("retry", "")
                        yield cls(
                            "\n".join(data), fields.get("event"), fields.get("id"),
                            int(retry) if retry.isdigit() else None,
                        )
                    fields, data = {}, []
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                elif name in ("event", "id", "retry"):
                    fields[name] = value
