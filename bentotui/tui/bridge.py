"""The only module that calls the core from the TUI's workers.

Every function here is blocking or async I/O that a worker runs; each returns plain data or
raises :class:`~bentotui.exceptions.BentotuiError` with a message for the person.  The ML
libraries are never imported: demo models are built by a ``bentotui demo`` subprocess and
servers are ``bentotui serve`` subprocesses started through the runs registry.  Servers are
talked to through :class:`bentotui.client.AsyncClient`, lent the app's one connection pool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui._process import self_command
from bentotui.client import AsyncClient
from bentotui.exceptions import BentotuiError, InvalidArgument
from bentotui.tui.request_view import (
    ApiInfo,
    HistoryEntry,
    RequestHeaders,
    ResponseView,
    StreamProgress,
    apis_from_openapi,
    response_view,
)
from bentotui.tui.server_view import MODEL_PREFIX
from bentotui.tui.stats import Scrape, parse_metrics
from bentotui.tui.store_view import StoreRow, bento_row, model_row
from bentotui.tui.task_view import TASK_LIMIT, TaskRow, task_rows

if TYPE_CHECKING:
    import httpx

#: Seconds a probe waits for ``/readyz`` or ``/metrics``: the pool's 30 s (sized for test
#: requests) would show a hung server as ready for half a minute.
PROBE_TIMEOUT_S = 1.5


def load_store() -> list[StoreRow]:
    """Models and bentos, flattened for the table."""
    from bentotui import bentos, models

    return [model_row(m) for m in models.list()] + [bento_row(b) for b in bentos.list()]


def delete(row: StoreRow) -> None:
    if row.kind == "model":
        from bentotui import models

        models.delete(row.tag)
    else:
        from bentotui import bentos

        bentos.delete(row.tag)


def export(row: StoreRow, path: str) -> str:
    from bentotui import models

    if row.kind != "model":
        raise InvalidArgument("export from the TUI is for models; use `bentotui bentos export`")
    return str(models.export_model(row.tag, Path(path).expanduser()))


def import_model(path: str) -> str:
    from bentotui import models

    return str(models.import_model(Path(path).expanduser()).tag)


def create_demo_models(timeout: float = 600.0) -> str:
    """Run ``bentotui demo`` in a subprocess so this process never imports sklearn or torch."""
    proc = subprocess.run(
        [*self_command(), "demo"], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise BentotuiError(lines[-1] if lines else f"bentotui demo exited with code {proc.returncode}")
    return "demo models created"


def scan_runs() -> tuple[list[Any], list[Any], dict[str, int]]:
    """The live runs, the entries just swept because their process was gone, and the exit status
    of the servers this process started (run id -> status), for telling crashes from stops."""
    from bentotui import runs

    scan = runs.scan_runs()
    return scan.live, scan.dead, runs.exit_codes()


def start(target: str | None, model: str | None, port: int) -> Any:
    from bentotui import runs

    return runs.start_run(target, model=model, port=port)


def stop(run_id: str) -> None:
    from bentotui import runs

    runs.stop_run(run_id)


def restart(run: Any) -> Any:
    """Stop a run and start the same target on the same port (and working directory)."""
    from bentotui import runs

    target, model = split_target(str(run.target))
    if runs.is_alive(run):
        runs.stop_run(run.id)
    return runs.start_run(target, model=model, port=int(run.port), host=run.host, working_dir=run.working_dir)


def split_target(target: str) -> tuple[str | None, str | None]:
    """A registry target back into ``start_run``'s (target, model) pair."""
    if target.startswith(MODEL_PREFIX):
        return None, target[len(MODEL_PREFIX) :].strip()
    return target, None


def last_log_lines(log_path: str, n: int = 12) -> list[str]:
    from bentotui.logs import tail_lines

    return tail_lines(log_path, n)


async def probe(http: httpx.AsyncClient, url: str, clock: Any = time.time) -> tuple[bool, Scrape | None]:
    """``/readyz`` and ``/metrics`` of one server, each within PROBE_TIMEOUT_S; a refused or
    unanswered connection is 'not ready', not an error."""
    import httpx

    client = AsyncClient(url, http_client=http)
    status = await client.status("/readyz", timeout=PROBE_TIMEOUT_S)
    if status is None:
        return False, None
    ready = status == 200
    try:
        response = await http.get(client.url + "/metrics", timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError:
        return ready, None
    if response.status_code != 200:
        return ready, None
    try:
        return ready, parse_metrics(response.text, clock())
    except ValueError:  # not Prometheus text (a foreign server): health still counts
        return ready, None


async def fetch_runners(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The server's ``/runners.json`` (workers with CPU and memory, batching per method)."""
    import httpx

    try:
        response = await http.get(url.rstrip("/") + "/runners.json", timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise BentotuiError(f"cannot reach {url}: {exc}") from None
    if response.status_code == 404:
        raise BentotuiError(f"{url} has no /runners.json (a server older than this TUI, or not bentotui)")
    if response.status_code != 200:
        raise BentotuiError(f"{url}/runners.json answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise BentotuiError(f"{url}/runners.json is not JSON") from None
    if not isinstance(body, dict):
        raise BentotuiError(f"{url}/runners.json is not a JSON object")
    return body


async def fetch_apis(http: httpx.AsyncClient, url: str) -> list[ApiInfo]:
    import httpx

    try:
        doc = await AsyncClient(url, http_client=http).openapi()
    except (BentotuiError, httpx.HTTPError, ValueError) as exc:
        raise BentotuiError(f"cannot read {url}/docs.json: {exc}") from None
    return apis_from_openapi(doc)


async def send(
    http: httpx.AsyncClient, url: str, api: ApiInfo, content_type: str, body: str, headers: RequestHeaders = ()
) -> HistoryEntry:
    """Send one test request; a transport failure is recorded in the entry, not raised."""
    import httpx

    client = AsyncClient(url, http_client=http)
    start = time.perf_counter()
    try:
        response = await client.request(
            api.method, api.route, content=body.encode("utf-8"), headers={**dict(headers), "content-type": content_type}
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
        return HistoryEntry(url, api, content_type, body, None, error=error, request_headers=headers)
    return HistoryEntry(url, api, content_type, body, _view(response, time.perf_counter() - start), None, headers)


def _view(response: httpx.Response, elapsed: float) -> ResponseView:
    """A whole answer as the response pane shows it."""
    return response_view(
        response.status_code,
        response.reason_phrase,
        elapsed,
        list(response.headers.items()),
        response.content,
    )


def load_tasks(service: str) -> list[TaskRow]:
    """The newest tasks of ``service`` from the task store (no server needed; it also marks what a
    dead server left running as failed, as the server would on its next start)."""
    from bentotui.store.tasks import list_tasks

    try:
        return task_rows(list_tasks(service, limit=TASK_LIMIT))
    except OSError as exc:  # the store's lock held too long (filelock's Timeout), an unreadable folder
        raise BentotuiError(f"cannot list the tasks of {service}: {exc}") from None


#: a task route's HTTP method, by its action (BentoML 1.4's server); the TUI uses these three
TASK_METHODS = {"cancel": "put", "get": "get", "retry": "post"}


async def task_call(
    http: httpx.AsyncClient, url: str, api: ApiInfo, action: str, task_id: str
) -> HistoryEntry:
    """``PUT <route>/cancel``, ``GET <route>/get`` or ``POST <route>/retry`` of one task of ``api``;
    the entry names that route (so its status line says what was asked) and records a transport
    failure as its error."""
    import httpx

    call = dataclasses.replace(api, route=f"{api.route}/{action}", method=TASK_METHODS[action], stream=False)
    client = AsyncClient(url, http_client=http)
    start = time.perf_counter()
    try:
        response = await http.request(
            call.method.upper(), client.url + call.route, params={"task_id": task_id}
        )
    except httpx.HTTPError as exc:
        return HistoryEntry(url, call, "", "", None, error=f"{type(exc).__name__}: {exc}")
    return HistoryEntry(url, call, "", "", _view(response, time.perf_counter() - start))


async def send_stream(
    http: httpx.AsyncClient,
    progress: StreamProgress,
    pending: Callable[[], object],
    clock: Callable[[], float] = time.perf_counter,
) -> HistoryEntry:
    """Send a request to a streaming API and feed ``progress`` each chunk as it arrives, calling
    ``pending`` when the screen has something new to show.

    An error answer (before the first item, so the server sends a whole JSON body) is an ordinary
    entry.  A transport failure mid-stream keeps what came and records the error.  Cancelling the
    caller (the stop key, or a new send) closes the response, and with it the connection, which
    is how the server learns to stop its generator; ``progress`` then says "stopped".  No read
    timeout applies once the answer started: a stream lasts as long as it is read.
    """
    import httpx

    client = AsyncClient(progress.url, http_client=http)
    api = progress.api
    try:
        async with http.stream(
            api.method.upper(),
            client.url + api.route,
            content=progress.body.encode("utf-8"),
            headers={**dict(progress.request_headers), "content-type": progress.content_type},
            timeout=httpx.Timeout(http.timeout.connect, read=None),
        ) as response:
            if not response.is_success:
                await response.aread()
                progress.finish(clock())
                view = _view(response, clock() - progress.started)
                return HistoryEntry(
                    progress.url, api, progress.content_type, progress.body, view, None, progress.request_headers
                )
            progress.open(response.status_code, response.reason_phrase, list(response.headers.items()))
            pending()
            async for chunk in response.aiter_bytes():
                if progress.feed(chunk, clock()):
                    pending()
        progress.finish(clock())
    except asyncio.CancelledError:
        progress.finish(clock(), stopped=True)
        raise
    except httpx.HTTPError as exc:
        progress.finish(clock(), error=f"{type(exc).__name__}: {exc}")
    return progress.entry()
