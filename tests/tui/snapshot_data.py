"""Fixed data for the snapshot tests: no clocks, pids, ports or versions that change between runs.

The app is driven through its real message handlers (the same messages its workers post), so a
snapshot shows exactly what a person would see for this data.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bentotui.runs import RunInfo
from bentotui.store.bentos import Bento, BentoInfo
from bentotui.store.models import Model, ModelInfo
from bentotui.store.tags import Tag
from bentotui.store.tasks import ResultStatus, TaskRecord
from bentotui.tui.request_view import ApiInfo, HistoryEntry, ResponseView, StreamStats, response_view
from bentotui.tui.stats import Scrape
from bentotui.tui.store_view import StoreRow, bento_row, model_row
from bentotui.tui.task_view import TaskRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=3)
URL = "http://127.0.0.1:3000"


def clock() -> float:
    return NOW.timestamp()


def _model(name, version, framework, fw_version, size, created, labels=None, signatures=None):
    info = ModelInfo(
        name=name,
        version=version,
        module=f"bentotui.frameworks.{framework}",
        framework=framework,
        framework_version=fw_version,
        python_version="3.11.9",
        bentotui_version="0.1.0",
        creation_time=created,
        labels=labels or {},
        metadata={"accuracy": 0.973},
        signatures=signatures or {"predict": {"batchable": True, "batch_dim": 0}},
        files=[
            {"path": "model.yaml", "size": 300, "sha256": "0" * 64},
            {"path": "saved_model.skops", "size": size - 300, "sha256": "0" * 64},
        ],
        size_bytes=size,
    )
    return Model(Tag(name, version), Path("/store/models", name, version), info)


def _trust(row: StoreRow, state: str, provenance: str) -> StoreRow:
    """The fixed models have no store behind them (no provenance record): pin their trust mark."""
    return dataclasses.replace(row, trust=state, detail={**row.detail, "provenance": provenance})


def store_rows() -> list[StoreRow]:
    rows = [
        model_row(
            _model(
                "iris-classifier",
                "20261101-120000-a1b2c3",
                "sklearn",
                "1.9.1",
                4_210,
                T0,
                {"stage": "prod", "owner": "ml"},
            )
        ),
        model_row(
            _model(
                "iris-classifier", "20261031-090000-d4e5f6", "sklearn", "1.9.1", 4_102, T0 - timedelta(days=1)
            )
        ),
        model_row(
            _model(
                "text-classifier",
                "20261101-110000-0a0b0c",
                "transformers",
                "5.24.0",
                1_482_113,
                T0 - timedelta(hours=1),
                {"demo": "true"},
                {"__call__": {"batchable": True, "batch_dim": 0}},
            )
        ),
        model_row(
            _model("churn-rf", "20261020-080000-777777", "sklearn", "1.9.1", 88_120, T0 - timedelta(days=12))
        ),
    ]
    rows = [
        _trust(rows[0], "local", "saved here on 2026-11-01 12:00 UTC"),
        _trust(rows[1], "local", "saved here on 2026-10-31 09:00 UTC"),
        _trust(rows[2], "trusted", "imported from text-classifier.bentomodel on 2026-11-01 11:30 UTC"),
        _trust(rows[3], "untrusted", "imported from churn-rf.bentomodel on 2026-10-20 08:30 UTC"),
    ]
    manifest = {
        "name": "iris_service",
        "version": "20261101-121500-abcdef",
        "creation_time": (T0 + timedelta(minutes=15)).isoformat(),
        "service": "service:svc",
        "labels": {},
        "models": [
            {
                "tag": "iris-classifier:20261101-120000-a1b2c3",
                "module": "bentotui.frameworks.sklearn",
                "creation_time": T0.isoformat(),
            }
        ],
        "files": [
            {"path": "bentofile.yaml", "size": 0, "sha256": "0" * 64},
            {"path": "service.py", "size": 0, "sha256": "0" * 64},
        ],
        "size_bytes": 9_120,
    }
    tag = Tag(manifest["name"], manifest["version"])
    bento = Bento(
        tag, Path("/store/bentos", tag.name, tag.version), BentoInfo.from_manifest(manifest, "snapshot")
    )
    return rows + [bento_row(bento)]


def run_info(
    id: str,
    *,
    target: str = "service:svc",
    port: int = 3000,
    pid: int = 100,
    state: str = "serving",
    started_at: str = "2026-11-01T12:00:00+00:00",
) -> RunInfo:
    """A registry entry as ``bentotui serve`` writes it (the real class: a renamed field fails the
    tests that build one)."""
    return RunInfo(
        id=id,
        pid=pid,
        host="127.0.0.1",
        port=port,
        target=target,
        state=state,
        log_path=f"/home/user/bentotui/logs/{id}.log",
        started_at=started_at,
        working_dir="/home/user/project",
    )


def runs() -> list[RunInfo]:
    started = (NOW - timedelta(minutes=42, seconds=7)).isoformat()
    return [
        run_info("run-a", port=3000, pid=4242, started_at=started),
        run_info("run-b", target="--model iris-classifier:latest", port=3001, pid=4343, started_at=started),
    ]


def scrapes(t0: float) -> list[Scrape]:
    """Ten scrapes one second apart with a steady load of ~20 req/s and a slow tail."""
    out, count, fast, slow = [], 0.0, 0.0, 0.0
    for i in range(10):
        out.append(
            Scrape(
                t=t0 + i,
                count=count,
                errors=0.0,
                buckets={0.005: fast, 0.01: fast, 0.05: fast + slow, math.inf: fast + slow},
            )
        )
        step = 15 + (i % 4) * 3
        fast += step - 1
        slow += 1
        count += step
    return out


API = ApiInfo("predict", "/predict", "post", "application/json", "[\n  [5.1, 3.5, 1.4, 0.2]\n]")
APIS = [API, ApiInfo("predict_proba", "/predict_proba", "post", "application/json", "[[5.1, 3.5, 1.4, 0.2]]")]


def history() -> list[HistoryEntry]:
    ok = response_view(
        200, "OK", 0.0042, [("content-type", "application/json"), ("content-length", "3")], b"[0]"
    )
    bad = response_view(
        400,
        "BAD REQUEST",
        0.0011,
        [("content-type", "application/json")],
        b'{"error": "invalid JSON body", "detail": "Expecting value: line 1 column 1"}',
    )
    return [
        HistoryEntry(URL, API, "application/json", "{not json", bad),
        HistoryEntry(URL, API, "application/json", API.example, ok),
    ]


STREAM_API = ApiInfo(
    "generate", "/generate", "post", "application/json", '{\n  "prompt": "Once upon a time"\n}', stream=True
)
STREAM_TOKENS = [
    "Once", " upon", " a", " time", ",", " a", " model", " was", " served", " by", " bentotui", ".",
    " It", " answered", " one", " token", " at", " a", " time", ",", " and", " the", " panel",
    " showed", " each", " as", " it", " came", ".",
]  # fmt: skip


def stream_entry() -> HistoryEntry:
    """A finished text stream: 29 chunks, the first after 84.2 ms, the last at 1,204.2 ms (so
    28 chunks in 1.12 s after the first: 25.0 chunks/s)."""
    text = "".join(STREAM_TOKENS)
    stats = StreamStats(84.2, 1204.2, len(STREAM_TOKENS), None, len(text.encode()))
    headers = (("content-type", "text/plain; charset=utf-8"), ("x-request-id", "4be1c2d07a9f3e55"))
    response = ResponseView(200, "OK", 1206.9, headers, text, stats)
    return HistoryEntry(URL, STREAM_API, "application/json", STREAM_API.example, response)


LOG_LINES = [  # the formats a real server writes: log records, access lines, a traceback
    "2026-11-01 12:00:01,004 INFO bentotui.server: serving svc (run run-a) on http://127.0.0.1:3000",
    "2026-11-01 12:00:02,117 INFO bentotui.runner: runner iris-classifier worker 0 up (pid 4250)",
    "2026-11-01T12:00:05.201Z POST /predict 200 4.20ms 12c3f086ac217d23",
    "2026-11-01T12:00:06.310Z POST /predict 400 1.10ms 5f81b1452496778a",
    "2026-11-01 12:00:07,020 WARNING bentotui.runner: batch waited 48ms (max_latency_ms=50)",
    "2026-11-01T12:00:08.433Z POST /predict 200 1250.00ms e3bc68166e2c47d8",
    "2026-11-01 12:00:09,120 ERROR bentotui.server: API predict failed [request id 9c9a6dd9db77e091]",
    "Traceback (most recent call last):",
    '  File "/srv/service.py", line 14, in predict',
    '    raise ValueError("asked to fail")',
    "ValueError: asked to fail",
    "2026-11-01T12:00:09.121Z POST /predict 500 2.85ms 9c9a6dd9db77e091",
    "2026-11-01T12:00:11.002Z POST /predict 200 3.90ms dc2c17a997d12dc5",
]


TASK_SERVICE = "jobs"
TASK_APIS = [
    ApiInfo("slow", "/slow", "post", "application/json", '{\n  "seconds": 30\n}'),
    ApiInfo("summarize", "/summarize", "post", "application/json", '{\n  "text": "a b c"\n}'),
]


def tasks() -> list[TaskRow]:
    """One task in each of BentoML's states, newest first, times as seconds before NOW: created,
    started, finished (the running one started 12 s ago, so its duration reads 12.0s)."""

    def at(seconds: float | None) -> str | None:
        return None if seconds is None else (NOW - timedelta(seconds=seconds)).isoformat()

    rows = [
        ("5d0f3a1c" + "0" * 24, "summarize", ResultStatus.PENDING, 2, None, None),
        ("9be27c44" + "1" * 24, "slow", ResultStatus.IN_PROGRESS, 15, 12, None),
        ("c41a90d2" + "2" * 24, "summarize", ResultStatus.COMPLETED, 75, 74.9, 74.8),
        ("e7f01b5a" + "3" * 24, "slow", ResultStatus.CANCELED, 200, 199, 140),
        ("0a6b2e93" + "4" * 24, "summarize", ResultStatus.FAILED, 3700, 3699.6, 3699.4),
    ]
    return [
        TaskRow.of(TaskRecord(i, TASK_SERVICE, name, status, at(c) or "", "owner", at(e), at(f)))
        for i, name, status, c, e, f in rows
    ]


def runners_bodies() -> list[dict]:
    """Two polls of ``/runners.json`` of an iris server under a burst it could not all take: two
    workers forked from a fork server (CPU and memory changing between polls; their PSS splits the
    pages they share with it, their RSS counts them whole), one batchable method with its cost line,
    batch sizes and three refusals."""
    now = clock()

    def body(cpu: tuple[float, float], rss_mb: tuple[int, int]) -> dict:
        workers = [
            {"pid": 4312 + i, "address": None, "alive": True, "restarts": 0, "inflight": 1,
             "cpu_percent": cpu[i], "rss_bytes": rss_mb[i] * 2**20, "pss_bytes": (rss_mb[i] - 92) * 2**20}
            for i in range(2)
        ]
        predict = {
            "max_batch_size": 64, "max_latency_ms": 200.0, "queued_rows": 12,
            "cost": {"per_row_ms": 0.42, "fixed_ms": 1.8, "warm": True},
            "batches": 412, "sizes": {"1": 40, "3": 22, "6": 51, "12": 96, "27": 130, "64": 73},
            "queue_wait_ms": {"p50": 3.1, "p99": 41.7, "max": 88.0},
            "exec_ms": {"p50": 9.8, "p99": 28.4, "max": 30.9},
            "refused": {"overloaded": 5, "expired": 2},
            "refusals": [
                {"at": now - 42, "kind": "expired", "calls": 2,
                 "message": "runner 'iris_clf': predict waited over max_latency_ms=200 for a worker"},
                {"at": now - 7, "kind": "overloaded", "calls": 1,
                 "message": "runner 'iris_clf' is overloaded: predict would take about 586 ms, over max_latency_ms=200"},
            ],
        }
        return {
            "api": {"pid": 4310, "cpu_percent": 61.0, "rss_bytes": 58 * 2**20, "pss_bytes": 41 * 2**20},
            "fork_server": {"pid": 4311, "cpu_percent": 0.0, "rss_bytes": 149 * 2**20, "pss_bytes": 50 * 2**20},
            "runners": {"iris_clf": {"workers": workers, "queued_rows": {"predict": 12}, "methods": {"predict": predict}}},
        }

    return [body((12.0, 9.0), (151, 150)), body((35.0, 31.0), (153, 152)), body((88.0, 92.0), (156, 155))]


def write_monitor(root) -> None:
    """The prediction log of an iris classifier: schema and 8 records from two processes."""
    import json as _json

    folder = root / "iris_classifier_prod"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    columns = [
        {"name": "timestamp", "role": "time", "type": "datetime"},
        {"name": "request_id", "role": "request_id", "type": "string"},
        {"name": "sepal_len", "role": "feature", "type": "numerical"},
        {"name": "petal_len", "role": "feature", "type": "numerical"},
        {"name": "pred", "role": "prediction", "type": "categorical"},
        {"name": "proba", "role": "prediction", "type": "numerical"},
    ]
    (folder / "schema.json").write_text(_json.dumps({"name": "iris_classifier_prod", "columns": columns}))
    rows = [
        (5.1, 1.4, "setosa", 0.97), (6.7, 5.2, "virginica", 0.91), (5.9, 4.2, "versicolor", 0.58),
        (4.9, 1.5, "setosa", 0.95), (6.3, 4.9, "virginica", 0.52), (5.7, 4.1, "versicolor", 0.88),
        (7.2, 6.0, "virginica", 0.99), (5.0, 1.6, "setosa", 0.96),
    ]
    for pid in (4312, 4313):
        lines = []
        for i, (sepal, petal, pred, proba) in enumerate(rows):
            if i % 2 != pid % 2:
                continue
            lines.append(_json.dumps({
                "timestamp": f"2026-11-28T05:3{i // 2}:{10 + i:02d}.{i}00000+00:00",
                "request_id": f"{0x5eed0000 + i:08x}aa11bb22", "sepal_len": sepal, "petal_len": petal,
                "pred": pred, "proba": proba,
            }))
        (folder / "data" / f"data.{pid}.jsonl").write_text("\n".join(lines) + "\n")
