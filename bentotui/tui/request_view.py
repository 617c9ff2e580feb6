"""The request panel's logic (pure): the APIs to offer, example bodies, curl, responses.

Nothing here sends anything; ``bridge.send`` sends through :class:`bentotui.client.AsyncClient`
and hands the raw response to :func:`response_view`.  The APIs are read from ``/docs.json`` by the
client's own reader, so the panel offers exactly what ``client.<api>(...)`` can call.  Keeping the
request model here (posting builds it inside its screen) means "copy as curl" and the example
bodies are unit-tested.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bentotui.client import APIEndpoint, read_apis


@dataclass(frozen=True)
class ApiInfo:
    """One API as the panel shows it: a client :class:`APIEndpoint` with its example rendered as
    the text a person edits (the client keeps the JSON value; an empty ``{}`` to fill in for a
    JSON API without an example is the panel's choice, not the server's)."""

    name: str
    route: str
    method: str
    content_type: str
    example: str

    @classmethod
    def of(cls, endpoint: APIEndpoint) -> ApiInfo:
        example = render_example(endpoint.example, endpoint.media_type)
        return cls(endpoint.name, endpoint.route, endpoint.method, endpoint.media_type, example)


@dataclass(frozen=True)
class ResponseView:
    """A response as shown: status line, latency, headers and a pretty body."""

    status: int
    reason: str
    latency_ms: float
    headers: tuple[tuple[str, str], ...]
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

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

    def label(self) -> str:
        outcome = self.error or (
            f"{self.response.status} {self.response.latency_ms:.0f}ms" if self.response else "-"
        )
        return f"{self.api.method.upper()} {self.api.route}  {outcome}"


#: Entries of request history kept per service, in memory and on disk.
HISTORY = 50
#: A request body longer than this is not saved to disk (it stays in the session's history), and a
#: saved response body is cut to it: the history file stays small whatever was sent.
SAVED_BODY_LIMIT = 64 * 1024


def entry_to_dict(entry: HistoryEntry) -> dict[str, Any] | None:
    """One history entry as a JSON object for the history file; None when it is too big to keep."""
    if len(entry.body) > SAVED_BODY_LIMIT:
        return None
    data: dict[str, Any] = {
        "url": entry.url,
        "api": dataclasses.asdict(entry.api),
        "content_type": entry.content_type,
        "body": entry.body,
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
            response = ResponseView(
                int(r["status"]), str(r["reason"]), float(r["latency_ms"]), headers, str(r["body"])
            )
        api = ApiInfo(
            **{k: str(data["api"][k]) for k in ("name", "route", "method", "content_type", "example")}
        )
        error = data["error"]
        return HistoryEntry(
            str(data["url"]),
            api,
            str(data["content_type"]),
            str(data["body"]),
            response,
            None if error is None else str(error),
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


def apis_from_openapi(doc: Mapping[str, Any]) -> list[ApiInfo]:
    """The service's APIs, by route, as the client reads them (health, metrics and docs are GETs,
    not APIs)."""
    return [ApiInfo.of(endpoint) for endpoint in sorted(read_apis(doc), key=lambda e: e.route)]


def curl_command(url: str, api: ApiInfo, content_type: str, body: str) -> str:
    """A shell-safe curl line that sends exactly what the panel sends."""
    parts = [
        "curl",
        "-X",
        api.method.upper(),
        url.rstrip("/") + api.route,
        "-H",
        f"Content-Type: {content_type}",
    ]
    if body:
        parts += ["--data-binary", body]
    return " ".join(shlex.quote(p) for p in parts)


def pretty_body(content_type: str, body: bytes, limit: int = 200_000) -> str:
    """JSON re-indented, text decoded, anything else summarised (never dumped raw)."""
    if "json" in content_type:
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    if content_type.startswith("text/") or "json" in content_type or not content_type:
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
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    pairs = tuple(headers.items()) if isinstance(headers, Mapping) else tuple(headers)
    content_type = next((v for k, v in pairs if k.lower() == "content-type"), "")
    return ResponseView(status, reason, latency_s * 1000.0, pairs, pretty_body(content_type, body))
