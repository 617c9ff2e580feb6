"""How bentotui's costs grow: models per server, and models in the store.

Two measurements, each at several sizes, with the slope of a least-squares line through them:

- ``--runners 1,2,5,10``: one service holding N scikit-learn models (N runners, one worker each,
  the "ten services with one model each" of a workbench folded into one server), served by
  ``bentotui serve``: cold start to ``/readyz`` 200, then idle RSS and PSS of the process tree.
  The slope is the memory one more model costs.  Then one worker is SIGKILLed: the seconds until
  its replacement is up.  ``--start spawn,forkserver`` compares how workers start
  (``BENTOTUI_WORKER_START``), interleaved run by run.
- ``--store 1000,10000,100000``: a store filled with N small models through the store API
  (``scripts/bench_tui.py``'s ``fill``; sizes measured in order, each adding to the last), then
  ``bentotui models list -o json`` and the table (wall seconds and the child's peak RSS from
  GNU time, with the listing cache warm), ``ModelStore().list()`` in-process, and the TUI's first paint and
  all rows (``scripts/bench_tui.py``'s probe, one fresh interpreter per run).

    .venv/bin/python scripts/bench_scale.py --runners 1,2,5,10 --store 1000,10000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_serving import free_port, readyz, runners_json, stop, tree_memory_mb
from bench_tui import PROBE, fill

from bentotui.runner.forkserver import START_ENV

PY = sys.executable
SERVICE = """
import bentotui

runners = [bentotui.models.get(f"lr{{i}}:latest").to_runner() for i in range({n})]
svc = bentotui.Service(name="many", runners=runners)

@svc.api(input=bentotui.io.NumpyNdarray(), output=bentotui.io.NumpyNdarray())
async def predict(arr):
    return await runners[0].predict.async_run(arr)
"""


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (``nan`` with fewer than two sizes)."""
    if len(points) < 2:
        return float("nan")
    return statistics.linear_regression([x for x, _ in points], [y for _, y in points]).slope


def child(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``argv``, its output discarded.

    The peak comes from GNU time (``/usr/bin/time -f %M``), not from our own ``wait4``: a child
    forked or spawned from this process counts this process's pages in its peak until its exec.
    """
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv], stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"{argv} exited with {done.returncode}")
        return wall, int(peak.read().split()[-1]) / 1024


def restart_s(port: int) -> float:
    """SIGKILL the first runner's worker; seconds until its replacement is up and ``/readyz`` 200."""
    name, runner = next(iter(runners_json(port)["runners"].items()))
    pid = runner["workers"][0]["pid"]
    started = time.perf_counter()
    os.kill(pid, signal.SIGKILL)  # a worker of the server this script started
    while time.perf_counter() - started < 60:
        info = runners_json(port)  # None while the server is too busy to answer within 2 s
        worker = info["runners"][name]["workers"][0] if info else {}
        if worker.get("pid") not in (None, pid) and worker.get("alive") and readyz(port):
            return time.perf_counter() - started
        time.sleep(0.005)
    sys.exit(f"runner {name}'s worker was not replaced within 60 s")


def serve_once(folder: Path, n: int, mode: str) -> tuple[float, float, float, int, float]:
    """Cold start, idle RSS, PSS, processes and a worker's restart for one server start."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "bentotui", "serve", "service:svc", "--port", str(port)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, START_ENV: mode},
    )
    try:
        while not readyz(port):
            if proc.poll() is not None or time.perf_counter() - started > 120:
                sys.exit(f"the service with {n} runners did not start ({START_ENV}={mode})")
            time.sleep(0.01)
        cold = time.perf_counter() - started
        time.sleep(2)
        rss, pss, procs = tree_memory_mb(proc.pid)
        return cold, rss, pss, procs, restart_s(port)
    finally:
        stop(proc)


def runners(sizes: list[int], runs: int, modes: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        os.environ["BENTOTUI_HOME"] = str(Path(work) / "home")
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression

        import bentotui

        x, y = load_iris(return_X_y=True)
        model = LogisticRegression(max_iter=1000).fit(x, y)
        for i in range(max(sizes)):
            bentotui.sklearn.save_model(f"lr{i}", model, signatures={"predict": {"batchable": True}})
        rows = []
        for n in sizes:
            folder = Path(work) / f"svc{n}"
            folder.mkdir()
            (folder / "service.py").write_text(SERVICE.format(n=n))
            measured: dict[str, list[tuple[float, ...]]] = {mode: [] for mode in modes}
            for _ in range(runs):
                for mode in modes:  # interleaved, so that a slow minute hits every mode alike
                    measured[mode].append(serve_once(folder, n, mode))
            for mode in modes:
                rows.append((mode, n, *(statistics.median(m[k] for m in measured[mode]) for k in range(5))))
    print(f"\n| {START_ENV} | models (runners) in one server | processes | cold start s | idle RSS MB "
          "| idle PSS MB | a worker's restart s |")
    print("|---|---|---|---|---|---|---|")
    for mode, n, cold, rss, pss, procs, restart in rows:
        print(f"| {mode} | {n} | {procs:.0f} | {cold:.2f} | {rss:.0f} | {pss:.0f} | {restart:.2f} |")
    for mode in modes:
        mine = [r for r in rows if r[0] == mode]
        print(
            f"| {mode} | slope per model | | {slope([(r[1], r[2]) for r in mine]):.3f} | "
            f"{slope([(r[1], r[3]) for r in mine]):.1f} | {slope([(r[1], r[4]) for r in mine]):.1f} | |"
        )


def store(sizes: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as home:
        os.environ["BENTOTUI_HOME"] = home
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(home) / ".pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        from bentotui.store.models import ModelStore

        rows = []
        filled = 0
        cli = [PY, "-m", "bentotui", "models", "list"]
        for n in sorted(sizes):
            started = time.perf_counter()
            fill(n - filled, start=filled)
            save_ms = (time.perf_counter() - started) / (n - filled) * 1000
            filled = n
            child([*cli, "-o", "json"])  # warm-up: the listing cache and the bytecode
            json_runs = [child([*cli, "-o", "json"]) for _ in range(runs)]
            table_runs = [child(cli) for _ in range(runs)]
            t = time.perf_counter()
            assert len(ModelStore().list()) == n
            in_process = time.perf_counter() - t
            tui = []
            for _ in range(runs):
                out = subprocess.run([PY, "-c", PROBE, str(n)], capture_output=True, text=True, timeout=600)
                if out.returncode:
                    sys.exit(out.stderr)
                tui.append(json.loads(out.stdout.strip().splitlines()[-1]))
            rows.append({
                "n": n,
                "save_ms": save_ms,
                "json_s": statistics.median(r[0] for r in json_runs),
                "json_mb": statistics.median(r[1] for r in json_runs),
                "table_s": statistics.median(r[0] for r in table_runs),
                "table_mb": statistics.median(r[1] for r in table_runs),
                "in_process_s": in_process,
                "paint_s": statistics.median(r["first_paint_s"] for r in tui),
                "all_rows_s": statistics.median(r["all_rows_s"] for r in tui),
            })
            print(json.dumps(rows[-1]), flush=True)
    keys = ["save_ms", "json_s", "json_mb", "table_s", "table_mb", "in_process_s", "paint_s", "all_rows_s"]
    print(
        "\n| models in the store | save ms each | `models list -o json` s | its peak RSS MB | `models list` s "
        "| its peak RSS MB | `ModelStore().list()` s | TUI first paint s | TUI all rows s |"
    )
    print("|---" * (len(keys) + 1) + "|")
    for r in rows:
        print(f"| {r['n']:,} | " + " | ".join(f"{r[k]:.3g}" for k in keys) + " |")
    print("| slope per 1,000 models | " + " | ".join(
        f"{slope([(r['n'] / 1000, r[k]) for r in rows]):.3g}" for k in keys
    ) + " |")


def sizes(text: str) -> list[int]:
    """``1,2,5`` -> ``[1, 2, 5]``."""
    return [int(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", type=sizes, default=[], help="models per server, e.g. 1,2,5,10")
    parser.add_argument("--store", type=sizes, default=[], help="models in the store, e.g. 1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--start", type=lambda text: text.split(","), default=["auto"],
        help=f"{START_ENV} values to compare, interleaved, e.g. spawn,forkserver",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.runners:
        runners(args.runners, args.runs, args.start)
    if args.store:
        store(args.store, args.runs)


if __name__ == "__main__":
    main()
