"""``@bentoml.task``: BentoML 1.4's task routes on real ``bentotui serve`` processes, over HTTP.

Submit/status/get, a failing task and its retry, bad input, cancel of a slow task, the errors of
the task routes, the queue's 503, our own clients' ``.submit()``, ``/schema.json`` and
``/docs.json``, and a server killed with tasks in flight: after the restart a finished task still
answers and the interrupted one is failed, saying so.  The store and the decorator are checked in
process too.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import httpx
import pytest

from bentotui.client import AsyncHTTPClient, ClientError, SyncHTTPClient, read_apis
from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.store.tasks import ResultStatus, TaskLimits, TaskStore, list_tasks
from tests.helpers.server import serve
from tests.server.conftest import write_service

SERVICE = textwrap.dedent('''
    import asyncio
    import os

    import bentotui as bentoml


    @bentoml.service(name="jobs")
    class Jobs:
        @bentoml.task
        def summarize(self, text: str) -> dict:
            """Counts the words of a text."""
            return {"words": len(text.split()), "upper": text.upper()}

        @bentoml.task
        async def slow(self, seconds: float) -> str:
            await asyncio.sleep(seconds)
            return f"slept {seconds}"

        @bentoml.task(route="/maybe")
        def flaky(self, path: str) -> str:
            if not os.path.exists(path):
                raise RuntimeError("the flag file is not there yet")
            return "ok"

        @bentoml.task
        def greet(self, name: str, ctx: bentoml.Context) -> str:
            return f"hello {name} via {ctx.request.headers.get('x-via')}"

        @bentoml.api
        def ping(self) -> str:
            return "pong"
''')
STATUS_KEYS = {"task_id", "status", "created_at", "executed_at"}
UNFINISHED = ("pending", "in_progress")
MAX_PENDING = 3
CONCURRENCY = 2


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """One server for the module's tests, with a small task queue."""
    root = tmp_path_factory.mktemp("jobs")
    home = root / "home"
    home.mkdir()
    env = {
        "BENTOTUI_HOME": str(home),
        "BENTOTUI_TASK_MAX_PENDING": str(MAX_PENDING),
        "BENTOTUI_TASK_CONCURRENCY": str(CONCURRENCY),
    }
    with serve("service:Jobs", cwd=write_service(root / "svc", SERVICE), env=env) as srv:
        yield srv


def submit(url: str, route: str, body: dict) -> dict:
    response = httpx.post(f"{url}{route}/submit", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == STATUS_KEYS and data["status"] == "pending", data
    return data


def wait_for(url: str, route: str, task_id: str, *, until: str = "finished", timeout: float = 30.0) -> dict:
    """Poll ``status`` until the task is finished, or (``until="started"``) has started."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{url}{route}/status", params={"task_id": task_id})
        assert response.status_code == 200, response.text
        data = response.json()
        done = data["executed_at"] is not None if until == "started" else data["status"] not in UNFINISHED
        if done:
            return data
        assert time.monotonic() < deadline, f"task {task_id} still {data}"
        time.sleep(0.05)


def get(url: str, route: str, task_id: str) -> httpx.Response:
    return httpx.get(f"{url}{route}/get", params={"task_id": task_id})


def test_submit_then_status_then_get(jobs):
    task = submit(jobs.url, "/summarize", {"text": "a b c"})
    status = wait_for(jobs.url, "/summarize", task["task_id"])
    assert status["status"] == "completed" and status["task_id"] == task["task_id"]
    assert status["created_at"] == task["created_at"] and status["executed_at"] >= status["created_at"]
    result = get(jobs.url, "/summarize", task["task_id"])
    assert result.status_code == 200 and result.headers["content-type"].startswith("application/json")
    assert result.json() == {"words": 3, "upper": "A B C"}
    # the API still answers synchronously, as in BentoML
    assert httpx.post(jobs.url + "/summarize", json={"text": "x y"}).json()["words"] == 2


def test_a_task_sees_its_request_through_the_context(jobs):
    response = httpx.post(jobs.url + "/greet/submit", json={"name": "ann"}, headers={"x-via": "curl"})
    task = response.json()
    assert wait_for(jobs.url, "/greet", task["task_id"])["status"] == "completed"
    assert get(jobs.url, "/greet", task["task_id"]).text == "hello ann via curl"


def test_failing_task_answers_its_error_and_retry_runs_it_again(jobs, tmp_path):
    flag = tmp_path / "flag"
    task = submit(jobs.url, "/maybe", {"path": str(flag)})
    assert wait_for(jobs.url, "/maybe", task["task_id"])["status"] == "failed"
    failed = get(jobs.url, "/maybe", task["task_id"])
    assert failed.status_code == 500
    body = failed.json()
    assert set(body) == {"error", "detail", "request_id"} and "flag file" not in failed.text  # no internals
    assert body["request_id"] == task["task_id"]  # the server log's lines about the run name the task
    assert task["task_id"] in jobs.log_text()

    flag.touch()
    retried = httpx.post(f"{jobs.url}/maybe/retry", params={"task_id": task["task_id"]})
    assert retried.status_code == 200, retried.text
    again = retried.json()
    assert set(again) == STATUS_KEYS and again["task_id"] != task["task_id"]
    assert wait_for(jobs.url, "/maybe", again["task_id"])["status"] == "completed"
    assert get(jobs.url, "/maybe", again["task_id"]).text == "ok"
    # the first one keeps its own outcome
    assert wait_for(jobs.url, "/maybe", task["task_id"])["status"] == "failed"


def test_bad_input_is_a_failed_task_whose_result_is_the_400(jobs):
    task = submit(jobs.url, "/summarize", {"txt": "typo"})
    assert wait_for(jobs.url, "/summarize", task["task_id"])["status"] == "failed"
    result = get(jobs.url, "/summarize", task["task_id"])
    assert result.status_code == 400 and "body.text" in result.json()["error"]


def test_cancel_stops_a_slow_task(jobs):
    task = submit(jobs.url, "/slow", {"seconds": 30})
    wait_for(jobs.url, "/slow", task["task_id"], until="started")
    not_yet = get(jobs.url, "/slow", task["task_id"])
    assert not_yet.status_code == 400 and "not completed yet" in not_yet.json()["detail"]

    started = time.monotonic()
    cancelled = httpx.put(f"{jobs.url}/slow/cancel", params={"task_id": task["task_id"]})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled"
    assert time.monotonic() - started < 5
    assert wait_for(jobs.url, "/slow", task["task_id"])["status"] == "canceled"
    result = get(jobs.url, "/slow", task["task_id"])
    assert result.status_code == 400 and result.json()["error"] == "task cancelled"
    again = httpx.put(f"{jobs.url}/slow/cancel", params={"task_id": task["task_id"]})
    assert again.status_code == 400 and again.json()["error"] == "task not in progress"


def test_task_route_errors(jobs):
    missing = httpx.get(jobs.url + "/summarize/status")
    assert missing.status_code == 400
    assert set(missing.json()) == {"error", "detail", "request_id"} and missing.json()["error"] == "task_id is required"
    unknown_id = "0" * 32
    for response in (
        httpx.get(jobs.url + "/summarize/status", params={"task_id": unknown_id}),
        httpx.get(jobs.url + "/summarize/get", params={"task_id": unknown_id}),
        httpx.post(jobs.url + "/summarize/retry", params={"task_id": unknown_id}),
        httpx.put(jobs.url + "/summarize/cancel", params={"task_id": unknown_id}),
        httpx.get(jobs.url + "/summarize/status", params={"task_id": "../../etc/passwd"}),
    ):
        assert response.status_code == 404, response.text
        assert set(response.json()) == {"error", "detail", "request_id"}
    assert unknown_id in httpx.get(jobs.url + "/summarize/get", params={"task_id": unknown_id}).json()["detail"]
    # a task of another API is not found under this one
    other = submit(jobs.url, "/summarize", {"text": "x"})
    wrong = httpx.get(jobs.url + "/maybe/status", params={"task_id": other["task_id"]})
    assert wrong.status_code == 404 and "summarize" in wrong.json()["detail"]
    method = httpx.get(jobs.url + "/summarize/submit")
    assert method.status_code == 405 and method.headers["allow"] == "POST"
    assert httpx.post(jobs.url + "/ping/submit", json={}).status_code == 404  # an @api has no task routes


def test_queue_full_is_503_with_retry_after_and_queued_tasks_are_pending(jobs):
    tasks = [submit(jobs.url, "/slow", {"seconds": 30}) for _ in range(MAX_PENDING)]
    try:
        full = httpx.post(jobs.url + "/slow/submit", json={"seconds": 1})
        assert full.status_code == 503 and full.headers["retry-after"] == "1"
        assert "BENTOTUI_TASK_MAX_PENDING" in full.json()["detail"]
        for task in tasks[:CONCURRENCY]:
            wait_for(jobs.url, "/slow", task["task_id"], until="started")
        queued = httpx.get(jobs.url + "/slow/status", params={"task_id": tasks[-1]["task_id"]}).json()
        assert queued["status"] == "pending" and queued["executed_at"] is None  # waits for a slot
        cancelled = httpx.put(f"{jobs.url}/slow/cancel", params={"task_id": tasks[-1]["task_id"]}).json()
        assert cancelled["status"] == "canceled" and cancelled["executed_at"] is None  # it never ran
    finally:
        for task in tasks:
            httpx.put(f"{jobs.url}/slow/cancel", params={"task_id": task["task_id"]})
    assert submit(jobs.url, "/summarize", {"text": "room again"})


def test_our_clients_submit_tasks(jobs, tmp_path):
    with SyncHTTPClient(jobs.url) as client:
        task = client.summarize.submit(text="one two")
        deadline = time.monotonic() + 30
        while task.get_status() in (ResultStatus.PENDING, ResultStatus.IN_PROGRESS):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert task.get_status().value == "completed"
        assert task.get() == {"words": 2, "upper": "ONE TWO"}
        assert client.summarize.get_status(task.id) is ResultStatus.COMPLETED
        assert client.summarize(text="a") == {"words": 1, "upper": "A"}  # still a plain API too
        failing = client.flaky.submit(path=str(tmp_path / "absent"))
        wait_for(jobs.url, "/maybe", failing.id)
        with pytest.raises(ClientError) as raised:
            failing.get()
        assert raised.value.status == 500
        slow = client.slow.submit(seconds=30)
        slow.cancel()
        assert slow.get_status() is ResultStatus.CANCELED
        again = slow.retry()
        assert again.id != slow.id
        again.cancel()  # it must not hold a place in the queue
        with pytest.raises(InvalidArgument, match="not a task"):
            client.ping.submit()

    async def run_async() -> None:
        async with AsyncHTTPClient(jobs.url) as client:
            task = await client.summarize.submit(text="async words here")
            while await task.get_status() in (ResultStatus.PENDING, ResultStatus.IN_PROGRESS):
                await asyncio.sleep(0.05)
            assert (await task.get())["words"] == 3
            retried = await task.retry()
            assert retried.id != task.id

    asyncio.run(run_async())


def test_schema_and_docs_mark_tasks(jobs):
    routes = {r["name"]: r for r in httpx.get(jobs.url + "/schema.json").json()["routes"]}
    assert routes["summarize"]["is_task"] is True and routes["ping"]["is_task"] is False
    assert routes["flaky"]["route"] == "/maybe"
    docs = httpx.get(jobs.url + "/docs.json").json()
    paths = docs["paths"]
    assert set(paths["/maybe/submit"]) == {"post"} and set(paths["/maybe/cancel"]) == {"put"}
    assert set(paths["/maybe/status"]) == {"get"} and set(paths["/maybe/get"]) == {"get"}
    assert set(paths["/maybe/retry"]) == {"post"}
    assert paths["/maybe/status"]["get"]["parameters"][0]["name"] == "task_id"
    assert paths["/maybe/submit"]["post"]["requestBody"] == paths["/maybe"]["post"]["requestBody"]
    assert "TaskStatus" in docs["components"]["schemas"]
    assert "/ping/submit" not in paths
    # the API reader (the TUI's request panel) lists APIs, not task routes
    assert sorted(api.name for api in read_apis(docs)) == ["flaky", "greet", "ping", "slow", "summarize"]


def test_restart_keeps_finished_results_and_fails_interrupted_tasks(tmp_path, bentotui_home):
    svc = write_service(tmp_path / "svc", SERVICE)
    with serve("service:Jobs", cwd=svc) as first:
        done = submit(first.url, "/summarize", {"text": "kept across restarts"})
        assert wait_for(first.url, "/summarize", done["task_id"])["status"] == "completed"
        cut = submit(first.url, "/slow", {"seconds": 60})
        wait_for(first.url, "/slow", cut["task_id"], until="started")
        first.proc.kill()  # a crash: nothing gets to write a record
        first.proc.wait()
    with serve("service:Jobs", cwd=svc) as second:
        status = httpx.get(second.url + "/summarize/status", params={"task_id": done["task_id"]}).json()
        assert status["status"] == "completed"
        assert get(second.url, "/summarize", done["task_id"]).json() == {"words": 3, "upper": "KEPT ACROSS RESTARTS"}
        interrupted = httpx.get(second.url + "/slow/status", params={"task_id": cut["task_id"]}).json()
        assert interrupted["status"] == "failed"
        result = get(second.url, "/slow", cut["task_id"])
        assert result.status_code == 500 and "interrupted" in result.json()["detail"]
    states = {r.task_id: (r.status, r.error) for r in list_tasks("jobs")}
    assert states[done["task_id"]] == (ResultStatus.COMPLETED, None)
    assert states[cut["task_id"]][0] is ResultStatus.FAILED and "interrupted" in states[cut["task_id"]][1]


# --- in process ----------------------------------------------------------------------------------


def test_store_bounds_results_and_prunes_by_count_and_age(bentotui_home):
    store = TaskStore("svc", TaskLimits(max_result_bytes=8, retention_s=60, keep=2))
    store.claim()
    records = [store.new("api", b"{}", [("content-type", "application/json")]) for _ in range(4)]
    assert not store.store_result(records[0], 200, [], b"x" * 9)  # over the limit: not stored
    for record in records:
        store.finish(record, ResultStatus.COMPLETED)
    running = store.new("api", b"{}", [("authorization", "Bearer secret")])
    assert running.input is not None and running.input.headers == []  # credentials are not kept
    assert store.prune() == 2  # the two oldest finished ones
    assert {r.task_id for r in store.records()} == {records[2].task_id, records[3].task_id, running.task_id}
    assert store.prune(now=time.time() + 3600) == 2  # past the retention; the running one stays
    assert [r.task_id for r in store.records()] == [running.task_id]


def test_newest_reads_about_limit_records_and_agrees_with_a_full_sort(bentotui_home, monkeypatch):
    """The TUI lists the 200 newest of up to 1,000 kept tasks: ``newest`` must give exactly what
    sorting every record gives, including an old task updated (finished) recently, while reading
    only the files that could hold one of them."""
    store = TaskStore("svc")
    store.claim()
    base = time.time() - 10_000
    records = []
    for i in range(60):
        record = store.new("api", b"{}", [])
        record.created_at = datetime.fromtimestamp(base + 10 * i, timezone.utc).isoformat()
        store.save(record)
        os.utime(store._path(record.task_id, ".json"), (base + 10 * i, base + 10 * i))
        records.append(record)
    # the oldest task finished just now: the newest file, but not a new task
    os.utime(store._path(records[0].task_id, ".json"), (base + 5_000, base + 5_000))
    reads = []
    original = TaskStore.get
    monkeypatch.setattr(TaskStore, "get", lambda self, task_id: reads.append(task_id) or original(self, task_id))
    newest = [r.task_id for r in store.newest(10)]
    assert newest == [r.task_id for r in sorted(records, key=lambda r: r.created_at, reverse=True)[:10]]
    assert len(reads) <= 12  # the 10, the recently touched old one, and the first too old to matter
    assert [r.task_id for r in list_tasks("svc", limit=10)] == newest
    assert len(list_tasks("svc")) == 60


def test_the_task_store_imports_no_server_stack_nor_ml_library():
    probe = (
        "import sys, bentotui.store.tasks; "
        "heavy = {'quart', 'hypercorn', 'httpx', 'pydantic', 'numpy', 'torch', 'sklearn', 'textual'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_task_decorator_refuses_what_bentoml_refuses():
    import bentotui as bentoml
    from bentotui.service.classes import to_service

    with pytest.raises(BuildError, match="1.2 arguments"):
        bentoml.task(input=object())
    with pytest.raises(BuildError, match="cannot return a stream"):

        @bentoml.service
        class Streams:
            @bentoml.task
            def tokens(self, text: str):
                yield text

        to_service(Streams)
    with pytest.raises(BuildError, match="task routes"):

        @bentoml.service
        class Clash:
            @bentoml.task
            def job(self, text: str) -> str:
                return text

            @bentoml.api(route="/job/status")
            def other(self, text: str) -> str:
                return text

        to_service(Clash)
