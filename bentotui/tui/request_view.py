"""The request panel's logic (pure): the APIs to offer, example bodies, curl, responses, streams.

Nothing here sends anything; ``bridge.send`` sends through :class:`bentotui.client.AsyncClient`
and hands the raw response to :func:`response_view`, and ``bridge.send_stream`` feeds a streaming
API's chunks to a :class:`StreamProgress` as they arrive.  The APIs are read from ``/docs.json`` by the
client's own reader, so the panel offers exactly what ``client.<api>(...)`` can call.  Keeping the
request model here (posting builds it inside its screen) means "copy as curl" and the example
bodies are unit-tested.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bentotui.client import APIEndpoint, read_apis
from bentotui.tui import fmt

#: request headers as the panel sends them (besides Content-Type): ``(name, value)`` pairs
RequestHeaders = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ApiInfo:
    """One API as the panel shows it: a client :class:`APIEndpoint` with its example rendered as
    the text a person edits (the client keeps the JSON value; an empty ``{}`` to fill in for a
    JSON API without an example is the panel's choice, not the server's).  ``stream`` is True for
    an API whose answer is a stream (:func:`streaming_routes`): the panel shows it as it arrives."""

    name: str
    route: str
    method: str
    content_type: str
    example: str
    stream: bool = False

    @classmethod
    def of(cls, endpoint: APIEndpoint, stream: bool = False) -> ApiInfo:
        example = render_example(endpoint.example, endpoint.media_type)
        return cls(endpoint.name, endpoint.route, endpoint.method, endpoint.media_type, example, stream)


@dataclass(frozen=True)
class StreamStats:
    """What a streaming response's status line says, and what its history entry keeps of it.

    Times are milliseconds since the request was sent.  ``events`` counts Server-Sent Events (a
    ``text/event-stream`` answer; None for any other), ``chunks`` the body's pieces as they arrived
    (the server writes one item per chunk; at speed, several can arrive in one read).
    """

    ttft_ms: float | None  # the first chunk's arrival; None when none came
    last_ms: float | None  # the last chunk's arrival
    chunks: int
    events: int | None
    size: int  # bytes received
    stopped: bool = False  # stopped by the person (the stream did not end by itself)
    dropped: int = 0  # characters cut from the front of the kept text (see STREAM_KEEP)

    @property
    def unit(self) -> str:
        return "chunks" if self.events is None else "events"

    @property
    def count(self) -> int:
        return self.chunks if self.events is None else self.events

    def rate(self, until_ms: float) -> float | None:
        """Items per second after the first (TTFT is reported apart, so the rate is the stream's
        own pace, as LLM benchmarks count tokens/s), up to ``until_ms``."""
        if self.ttft_ms is None or self.count < 2 or until_ms <= self.ttft_ms:
            return None
        return (self.count - 1) / ((until_ms - self.ttft_ms) / 1000.0)

    def line(self, status: int, reason: str, elapsed_ms: float, state: str) -> str:
        """``200 OK · streaming · TTFT 12.3ms · 42 chunks · 17.3 chunks/s · 1.2 KiB · 2.41s``.
        A finished stream's rate runs to its last chunk; a live one's to now, so a stall shows."""
        until = elapsed_ms if state == "streaming" or self.last_ms is None else self.last_ms
        rate = self.rate(until)
        parts = [
            f"{status} {reason}",
            state,
            f"TTFT {fmt.ms(self.ttft_ms)}",
            f"{self.count} {self.unit}",
            f"{fmt.rate(rate)} {self.unit}/s",
            fmt.size(self.size),
            fmt.ms(elapsed_ms),
        ]
        return "  ·  ".join(parts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StreamStats:
        def number(key: str) -> float | None:
            return None if data[key] is None else float(data[key])

        events = data["events"]
        return cls(
            number("ttft_ms"),
            number("last_ms"),
            int(data["chunks"]),
            None if events is None else int(events),
            int(data["size"]),
            bool(data["stopped"]),
            int(data["dropped"]),
        )


@dataclass(frozen=True)
class ResponseView:
    """A response as shown: status line, latency, headers and a pretty body."""

    status: int
    reason: str
    latency_ms: float  # a stream's: until its end (or its stop)
    headers: tuple[tuple[str, str], ...]
    body: str
    stream: StreamStats | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def status_line(self) -> str:
        if self.stream is None:
            return f"{self.status} {self.reason}  ·  {self.latency_ms:.1f} ms"
        state = "stopped by you" if self.stream.stopped else "stream done"
        return self.stream.line(self.status, self.reason, self.latency_ms, state)

    def headers_text(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.headers)


@dataclass(frozen=True)
class HistoryEntry:
    """One sent request and what came back (kept so it can be re-sent or copied)."""

    url: str
    api: ApiInfo
    content_type: str
    body: str
    response: ResponseView | None
    error: str | None = None
    #: the headers sent besides Content-Type (the panel's headers field)
    request_headers: RequestHeaders = ()

    def label(self) -> str:
        r = self.response
        if self.error or r is None:
            outcome = self.error or "-"
        elif r.stream is not None:
            stopped = " stopped" if r.stream.stopped else ""
            outcome = f"{r.status} TTFT {fmt.ms(r.stream.ttft_ms)} / {fmt.ms(r.latency_ms)}{stopped}"
        else:
            outcome = f"{r.status} {r.latency_ms:.0f}ms"
        return f"{self.api.method.upper()} {self.api.route}  {outcome}"


#: Entries of request history kept per service, in memory and on disk.
HISTORY = 50
#: A request body longer than this is not saved to disk (it stays in the session's history), and a
#: saved response body is cut to it: the history file stays small whatever was sent.
SAVED_BODY_LIMIT = 64 * 1024
#: Characters of a stream's text kept in memory and shown: a stream that never ends drops its
#: oldest text (the view says how much), so it cannot grow the TUI without limit.
STREAM_KEEP = 100_000


def entry_to_dict(entry: HistoryEntry) -> dict[str, Any] | None:
    """One history entry as a JSON object for the history file; None when it is too big to keep."""
    if len(entry.body) > SAVED_BODY_LIMIT:
        return None
    data: dict[str, Any] = {
        "url": entry.url,
        "api": dataclasses.asdict(entry.api),
        "content_type": entry.content_type,
        "body": entry.body,
        "headers": [list(pair) for pair in entry.request_headers],
        "error": entry.error,
        "response": None,
    }
    if (r := entry.response) is not None:
        data["response"] = {**dataclasses.asdict(r), "body": r.body[:SAVED_BODY_LIMIT]}
    return data


def entry_from_dict(data: Any) -> HistoryEntry | None:
    """The entry a history-file object describes; None for anything malformed (a file from an
    older version, or one edited by hand, must not break the panel)."""
    try:
        r = data["response"]
        response = None
        if r is not None:
            headers = tuple((str(k), str(v)) for k, v in r["headers"])
            stream = None if r.get("stream") is None else StreamStats.from_dict(r["stream"])
            response = ResponseView(
                int(r["status"]), str(r["reason"]), float(r["latency_ms"]), headers, str(r["body"]), stream
            )
        api = ApiInfo(
            **{k: str(data["api"][k]) for k in ("name", "route", "method", "content_type", "example")},
            stream=bool(data["api"].get("stream", False)),
        )
        error = data["error"]
        sent = tuple((str(k), str(v)) for k, v in data.get("headers") or ())  # none before headers existed
        return HistoryEntry(
            str(data["url"]),
            api,
            str(data["content_type"]),
            str(data["body"]),
            response,
            None if error is None else str(error),
            sent,
        )
    except (KeyError, TypeError, ValueError):
        return None


def history_lines(entries: list[HistoryEntry]) -> str:
    """The history file's text: one JSON object per line, newest first, at most :data:`HISTORY`."""
    saved = (entry_to_dict(e) for e in entries[:HISTORY])
    return "".join(json.dumps(d) + "\n" for d in saved if d is not None)


def parse_history(text: str) -> list[HistoryEntry]:
    """The entries of a history file, skipping lines that do not parse, at most :data:`HISTORY`."""
    entries = []
    for line in text.splitlines():
        try:
            entry = entry_from_dict(json.loads(line))
        except ValueError:
            continue
        if entry is not None:
            entries.append(entry)
    return entries[:HISTORY]


def render_example(value: Any, content_type: str) -> str:
    """An example value as the text a person edits in the body editor."""
    if value is None:
        return "{}" if "json" in content_type else ""
    if isinstance(value, str) and "json" not in content_type:
        return value
    return json.dumps(value, indent=2)


def streaming_routes(doc: Mapping[str, Any]) -> set[str]:
    """The routes whose 200 answer is a stream: the server marks that content
    ``x-bentotui-stream``, and any server's ``text/event-stream`` answer is one (the client's
    :class:`APIEndpoint` describes requests only)."""
    routes = set()
    for route, ops in (doc.get("paths") or {}).items():
        op = ops.get("post") if isinstance(ops, Mapping) else None
        content = ((op or {}).get("responses") or {}).get("200", {}).get("content") or {}
        if any(
            media_type.startswith("text/event-stream")
            or (isinstance(media, Mapping) and media.get("x-bentotui-stream"))
            for media_type, media in content.items()
        ):
            routes.add(route)
    return routes


def apis_from_openapi(doc: Mapping[str, Any]) -> list[ApiInfo]:
    """The service's APIs, by route, as the client reads them (health, metrics and docs are GETs,
    not APIs)."""
    streams = streaming_routes(doc)
    return [ApiInfo.of(e, e.route in streams) for e in sorted(read_apis(doc), key=lambda e: e.route)]


def curl_command(
    url: str, api: ApiInfo, content_type: str, body: str, headers: RequestHeaders = ()
) -> str:
    """A shell-safe curl line that sends exactly what the panel sends; for a stream with ``-N``,
    so curl prints each chunk as it comes instead of buffering."""
    parts = [
        "curl",
        *(["-N"] if api.stream else []),
        "-X",
        api.method.upper(),
        url.rstrip("/") + api.route,
        "-H",
        f"Content-Type: {content_type}",
    ]
    for name, value in headers:
        parts += ["-H", f"{name}: {value}"]
    if body:
        parts += ["--data-binary", body]
    return " ".join(shlex.quote(p) for p in parts)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: headers the panel sets itself (Content-Type has its own field) or the HTTP client computes
_OWN_HEADERS = {"content-type", "content-length", "host", "transfer-encoding"}


def parse_headers(text: str) -> RequestHeaders:
    """The headers field, ``Name: value`` pairs separated by ``;`` or new lines; ``ValueError``
    naming the part that is not one (or a header the panel sets itself)."""
    found = []
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _TOKEN.fullmatch(name):
            raise ValueError(f"header {part.strip()!r} is not Name: value")
        if name.lower() in _OWN_HEADERS:
            raise ValueError(f"header {name} is set by the panel (the content type has its own field)")
        found.append((name, value))
    return tuple(found)


def format_headers(headers: RequestHeaders) -> str:
    return "; ".join(f"{name}: {value}" for name, value in headers)


@dataclass(frozen=True)
class CurlRequest:
    """What a pasted curl command sends."""

    method: str
    url: str
    content_type: str | None
    headers: RequestHeaders
    body: str


_DATA_FLAGS = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json"}
_SHORT_IGNORED = re.compile(r"-[NsSiLvfg]+")  # -sS, -fsSL: output and redirect options, several in one word
_IGNORED_FLAGS = {"-N", "--no-buffer", "-s", "--silent", "-S", "--show-error", "-i", "--include", "-v",
                  "--verbose", "-L", "--location", "--compressed", "-f", "--fail", "-g", "--globoff"}


def parse_curl(command: str) -> CurlRequest:
    """A curl command line as a person pastes it (backslash line continuations, quotes): method, URL,
    headers and body; ``ValueError`` naming what the panel cannot take (a body read from a file,
    an option it does not know)."""
    try:
        words = shlex.split(command.replace("\\\n", " ").replace("\\\r\n", " "))
    except ValueError as exc:
        raise ValueError(f"not a complete command: {exc}") from None
    if not words or words[0] != "curl":
        raise ValueError("not a curl command")
    method = url = content_type = None
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    args = iter(words[1:])
    for word in args:
        if word in ("-X", "--request"):
            method = next(args, "").upper()
        elif word in ("-H", "--header"):
            name, _, value = next(args, "").partition(":")
            if name.strip().lower() == "content-type":
                content_type = value.strip()
            elif name.strip().lower() not in _OWN_HEADERS and name.strip():
                headers.append((name.strip(), value.strip()))
        elif word in _DATA_FLAGS:
            value = next(args, "")
            if value.startswith("@"):
                raise ValueError(f"{word} {value} reads a file: paste the body itself")
            data.append(value)
            if word == "--json":
                content_type = content_type or "application/json"
        elif word == "--url":
            url = next(args, "")
        elif word in _IGNORED_FLAGS or _SHORT_IGNORED.fullmatch(word):
            continue
        elif word.startswith("-"):
            raise ValueError(f"curl option {word} is not one the panel understands")
        else:
            url = word
    if not url:
        raise ValueError("the command names no URL")
    return CurlRequest(method or ("POST" if data else "GET"), url, content_type, tuple(headers), "&".join(data))


def is_text(content_type: str) -> bool:
    """Whether a body of this type is shown as text (anything else is summarised, never dumped)."""
    return content_type.startswith("text/") or "json" in content_type or not content_type


def pretty_body(content_type: str, body: bytes, limit: int = 200_000) -> str:
    """JSON re-indented, text decoded, anything else summarised (never dumped raw)."""
    if "json" in content_type:
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    if is_text(content_type):
        text = body[:limit].decode("utf-8", errors="replace")
        return text + (f"\n… {len(body) - limit} more bytes" if len(body) > limit else "")
    return f"<{len(body)} bytes of {content_type}>"


def response_view(
    status: int,
    reason: str,
    latency_s: float,
    headers: Mapping[str, str] | list[tuple[str, str]],
    body: bytes,
) -> ResponseView:
    """Build the display model from a raw response (servers may send no reason phrase: use the standard one)."""
    reason = reason or _phrase(status)
    pairs = tuple(headers.items()) if isinstance(headers, Mapping) else tuple(headers)
    content_type = _header(pairs, "content-type")
    return ResponseView(status, reason, latency_s * 1000.0, pairs, pretty_body(content_type, body))


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def media_type(headers: tuple[tuple[str, str], ...]) -> str:
    """A response's content type without its parameters (``; charset=utf-8``)."""
    return _header(headers, "content-type").split(";")[0].strip().lower()


class StreamProgress:
    """A streaming response as it arrives, fed by the sending worker and read by the screen.

    It decodes the chunks incrementally (a character split between two chunks survives), counts
    chunks, bytes and SSE events, keeps the last :data:`STREAM_KEEP` characters, and holds the
    text that arrived since the screen last took it: the worker posts one message when pending
    text appears, and the screen takes everything at once, so a fast stream is appended in a few
    batches a second rather than a message per chunk.  Times are the ``now`` the caller passes
    (seconds, the clock of ``started``), so tests pin them.
    """

    def __init__(
        self, url: str, api: ApiInfo, content_type: str, body: str, started: float, request_headers: RequestHeaders = ()
    ) -> None:
        self.url, self.api, self.content_type, self.body = url, api, content_type, body
        self.request_headers = request_headers
        self.started = started
        self.status = 0
        self.reason = ""
        self.headers: tuple[tuple[str, str], ...] = ()
        self.media_type = ""
        self.error: str | None = None
        self.done = False
        self._text = True
        self._sse = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._kept: list[str] = []
        self._kept_len = 0
        self._pending: list[str] = []
        self._reset = False
        self._tail = ""  # the last characters, for SSE event ends split between chunks
        self._stats = StreamStats(None, None, 0, None, 0)
        self._ended: float | None = None

    @property
    def opened(self) -> bool:
        return self.status != 0

    def open(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, tuple(headers)
        self.reason = reason or _phrase(status)
        self.media_type = media_type(self.headers)
        self._text = is_text(self.media_type)
        self._sse = self.media_type == "text/event-stream"
        self._stats = dataclasses.replace(self._stats, events=0 if self._sse else None)
        self._reset = True  # the screen switches its view to this stream

    def feed(self, chunk: bytes, now: float) -> bool:
        """Take one chunk; True when the screen must be told (nothing was pending before)."""
        ms = (now - self.started) * 1000.0
        s = self._stats
        text = self._utf8.decode(chunk) if self._text else ""
        events = s.events
        if events is not None:
            events += _event_ends(self._tail + text) - _event_ends(self._tail)
            self._tail = (self._tail + text)[-3:]
        self._stats = dataclasses.replace(
            s,
            ttft_ms=ms if s.ttft_ms is None else s.ttft_ms,
            last_ms=ms,
            chunks=s.chunks + 1,
            events=events,
            size=s.size + len(chunk),
        )
        return self._keep(text)

    def _keep(self, text: str) -> bool:
        was_pending = self.has_pending
        if text:
            self._kept.append(text)
            self._pending.append(text)
            self._kept_len += len(text)
        if self._kept_len > STREAM_KEEP + STREAM_KEEP // 4:  # cut in steps, not on every chunk
            whole = "".join(self._kept)
            cut = len(whole) - STREAM_KEEP
            self._kept, self._kept_len = [whole[cut:]], STREAM_KEEP
            self._stats = dataclasses.replace(self._stats, dropped=self._stats.dropped + cut)
            self._pending, self._reset = [], True
        return not was_pending and self.has_pending

    @property
    def has_pending(self) -> bool:
        return self._reset or bool(self._pending)

    def take(self) -> tuple[str, bool]:
        """The text to append to the view since the last take, and whether the view must first be
        reloaded from :attr:`text` (the stream just opened, or its oldest text was cut)."""
        if self._reset:
            self._pending, self._reset = [], False
            return self.text, True
        pending, self._pending = "".join(self._pending), []
        return pending, False

    @property
    def text(self) -> str:
        """What is kept of the body: its text, or for a binary type a summary."""
        if not self._text:
            return f"<{self._stats.size} bytes of {self.media_type}>"
        return "".join(self._kept)

    def finish(self, now: float, *, stopped: bool = False, error: str | None = None) -> None:
        """The stream ended (by itself, by a stop, or broken off with ``error``)."""
        if self.done:
            return
        self.done, self.error, self._ended = True, error, now
        self._keep(self._utf8.decode(b"", final=True) if self._text else "")
        self._stats = dataclasses.replace(self._stats, stopped=stopped)
        if not self._text:
            self._reset = True

    @property
    def stats(self) -> StreamStats:
        return self._stats

    def kept_note(self) -> str:
        """The view's bottom line: empty until text was cut, then how much."""
        dropped = self._stats.dropped
        return (
            f"{dropped:,} older characters dropped (about the last {STREAM_KEEP:,} are kept)"
            if dropped
            else ""
        )

    def status_line(self, now: float) -> str:
        elapsed = ((self._ended if self._ended is not None else now) - self.started) * 1000.0
        if self.done:
            return self.response().status_line() + (f"  ·  {self.error}" if self.error else "")
        return self._stats.line(self.status, self.reason, elapsed, "streaming")

    def response(self) -> ResponseView:
        end = self._ended if self._ended is not None else self.started
        return ResponseView(
            self.status, self.reason, (end - self.started) * 1000.0, self.headers, self.text, self._stats
        )

    def entry(self) -> HistoryEntry:
        """The history entry: the response as far as it came; one stopped before its answer
        started has no response."""
        if not self.opened:
            return HistoryEntry(
                self.url,
                self.api,
                self.content_type,
                self.body,
                None,
                self.error or "stopped before the answer started",
                self.request_headers,
            )
        return HistoryEntry(
            self.url, self.api, self.content_type, self.body, self.response(), self.error, self.request_headers
        )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _event_ends(text: str) -> int:
    """Server-Sent Events ended in ``text``: blank lines, whatever the line ends (LF or CRLF)."""
    return text.replace("\r\n", "\n").count("\n\n")
