"""Time to first paint of the TUI with N models in the store (default 1,000).

Fills a temporary ``BENTOTUI_HOME`` with N small models through the real store, then, in fresh
interpreters (cold imports, like a person typing ``bentotui``), runs the app headless and times
from interpreter start to the first frame written to the terminal that shows the Models table
(``first_paint_s``) and until all N rows are in the table (``all_rows_s``).  Reports
the median of several runs plus a breakdown (import, store listing).

    .venv/bin/python scripts/bench_tui.py [--models 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from textual.widgets import DataTable
from bentotui.tui.app import BentoApp
from bentotui.tui.settings import TuiSettings
t_import = time.perf_counter() - t0
N = int(sys.argv[1])
painted = {}


def watch_frames(app):
    # time the first frame written to the terminal that shows store rows (the first useful paint)
    display = app._display

    def _display(screen, renderable):
        display(screen, renderable)
        if renderable is not None and "paint" not in painted and getattr(screen, "loaded", False):
            if len(screen.shown) == N and screen.query_one(DataTable).row_count:
                painted["paint"] = time.perf_counter() - t0

    app._display = _display


async def main():
    app = BentoApp(settings=TuiSettings(), poll_interval=None)
    watch_frames(app)
    async with app.run_test(size=(160, 48)) as pilot:
        deadline = time.monotonic() + 60
        while "paint" not in painted and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        while app.screen.query_one(DataTable).row_count < N:
            await pilot.pause()
        return time.perf_counter() - t0

t_all_rows = asyncio.run(main())
from bentotui.tui import bridge
t1 = time.perf_counter(); bridge.load_store(); t_list = time.perf_counter() - t1
print(json.dumps({"import_s": t_import, "first_paint_s": painted["paint"], "all_rows_s": t_all_rows,
                  "store_list_s": t_list}))
"""


def fill(n: int, start: int = 0) -> None:
    """Save ``n`` small models (100 names, versions spread over them), numbered from ``start``."""
    from bentotui.store.models import ModelStore

    store = ModelStore()
    for i in range(start, start + n):
        with store.create(
            f"model-{i % 100:03d}",
            module="bentotui.frameworks.sklearn",
            framework_version="1.9.1",
            signatures={"predict": {"batchable": True}},
            labels={"team": f"t{i % 7}"},
            metadata={"index": i},
        ) as draft:
            (draft.path / "saved_model.bin").write_bytes(os.urandom(256))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["BENTOTUI_HOME"] = home
        t = time.perf_counter()
        fill(args.models)
        print(f"filled {args.models} models in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        results = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(args.models)], capture_output=True, text=True, timeout=120
            )
            if out.returncode:
                sys.exit(out.stderr)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {key: round(statistics.median(r[key] for r in results), 3) for key in results[0]}
    summary["max_first_paint_s"] = round(max(r["first_paint_s"] for r in results), 3)
    summary.update(models=args.models, runs=args.runs)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
