"""0.x front-end benchmark: the seed's IrisClassifier script saved and served, single-row requests.

Runs ``tests/e2e/seed/iris_classifier.py`` (train, pack, ``save()``) in a temporary
BENTOTUI_HOME, serves ``IrisClassifier:latest`` on a free port and drives it closed-loop at a few
concurrencies with one JSON row per request, reusing the load generator and process helpers of
``scripts/bench_serving.py``; prints req/s and latency percentiles.

    .venv/bin/python scripts/bench_legacy.py --duration 5 --conc 1,16,64
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_serving", ROOT / "scripts" / "bench_serving.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per concurrency")
    parser.add_argument("--conc", default="1,16,64", help="comma-separated concurrencies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-legacy-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "BENTOTUI_HOME": str(work / "home")}
        shutil.copy(ROOT / "tests" / "e2e" / "seed" / "iris_classifier.py", work)
        subprocess.run([sys.executable, "iris_classifier.py"], cwd=work, env=env, check=True, capture_output=True)
        port = bench.free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bentotui", "serve", "IrisClassifier:latest", "--port", str(port)],
            cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            while not bench.readyz(port):
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise SystemExit("server did not become ready")
                time.sleep(0.05)
            print(f"cold start to /readyz: {time.perf_counter() - started:.2f} s")
            body = json.dumps([bench.ROW]).encode()
            bench.run_load(port, "/predict", body, "application/json", 4, 1.0)  # warm-up
            print(f"{'conc':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            for conc in (int(c) for c in args.conc.split(",")):
                r = bench.run_load(port, "/predict", body, "application/json", conc, args.duration)
                print(f"{conc:>5} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
        finally:
            bench.stop(proc)


if __name__ == "__main__":
    main()
