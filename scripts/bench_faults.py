"""Worker-kill benchmark: what clients see when the runner worker of a server dies under load.

Saves an iris ``LogisticRegression`` (batchable ``predict``) in a throw-away ``BENTOTUI_HOME``,
starts ``bentotui serve --model iris`` (one runner worker, as for every scikit-learn model), runs a
closed loop of ``--conc`` keep-alive connections posting one row each, and SIGKILLs the worker
``--kills`` times after a warm-up, each ``--gap`` seconds after the server was ready again (so no
kill lands in the previous one's restart).  For each kill it reports:

- ``failed``: requests answered with anything but 200 between this kill and the next;
- ``outage_s``: from the kill to the last failed answer of that window (how long clients saw
  errors; 0 when nothing failed);
- ``ready_s``: from the kill to ``/readyz`` 200 again (the replacement worker is up);
- ``max_ms``: the slowest request of the window (calls that waited for the replacement).

Medians over the kills are printed last.  The load generator is a separate process (a minimal
HTTP/1.1 client on asyncio streams, every request's start, end and status recorded) so that it
does not share the server's event loop; it shares the machine's cores.  Run with another
bentotui on ``PYTHONPATH`` to measure that version (the server is started with this interpreter
and the same environment)::

    .venv/bin/python scripts/bench_faults.py                       # --conc 32 --kills 3 --gap 5
    PYTHONPATH=/tmp/old .venv/bin/python scripts/bench_faults.py   # an older checkout
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

BODY = b"[[5.1, 3.5, 1.4, 0.2]]"
Record = tuple[float, float, int]  # request start, answer, HTTP status (0: connection broke)


# ---------------------------------------------------------------------------------------- load
async def _load(port: int, conc: int, until: float) -> list[Record]:
    """Closed loop until stdin closes, or ``until`` at the latest (``time.monotonic``, which the
    processes of one machine share)."""
    request = (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    records: list[Record] = []
    stopped = asyncio.ensure_future(asyncio.to_thread(sys.stdin.read))  # the benchmark closes it

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not stopped.done() and time.monotonic() < until:
                start = time.monotonic()
                writer.write(request)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    records.append((start, time.monotonic(), 0))  # 0: the connection broke
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                length, close = 0, False
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line[15:])
                    elif line.startswith(b"connection:") and b"close" in line:
                        close = True
                await reader.readexactly(length)
                records.append((start, time.monotonic(), int(head[9:12])))
                if close:  # hypercorn closes after keep_alive_max_requests
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(conc)))
    return records


def start_load(port: int, conc: int, until: float) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--loadgen", json.dumps([port, conc, until])]
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


# ------------------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def worker_pids(server: int) -> list[int]:
    found = []
    for proc in psutil.Process(server).children(recursive=True):
        try:
            if "_worker" in " ".join(proc.cmdline()):  # one string when forked (setproctitle)
                found.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return found


def save_model(home: Path) -> None:
    code = (
        "import bentotui\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "x, y = load_iris(return_X_y=True)\n"
        "bentotui.sklearn.save_model('iris', LogisticRegression(max_iter=1000).fit(x, y),\n"
        "                            signatures={'predict': {'batchable': True}})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "BENTOTUI_HOME": str(home)})


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started; SIGKILL it (by pid) if it does not exit in time."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------------------------ analysis
def per_kill(records: list[Record], kills: list[float], readies: list[float], end: float) -> list[dict[str, Any]]:
    """One row per kill, over the answers that arrived between it and the next kill."""
    rows = []
    for i, kill in enumerate(kills):
        window_end = kills[i + 1] if i + 1 < len(kills) else end
        window = [r for r in records if kill <= r[1] < window_end]
        failed = [r for r in window if r[2] != 200]
        rows.append(
            {
                "failed": len(failed),
                "statuses": sorted({r[2] for r in failed}),
                "outage_s": max((r[1] for r in failed), default=kill) - kill,
                "ready_s": readies[i] - kill,
                "max_ms": max((r[1] - r[0] for r in window), default=0.0) * 1000,
                "answered": len(window),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conc", type=int, default=32)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--gap", type=float, default=3.0, help="seconds of load after each recovery")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        port, conc, until = json.loads(args.loadgen)
        print(json.dumps(asyncio.run(_load(port, conc, until))))
        return
    if not 1 <= args.kills <= 10 or not 0.5 <= args.gap <= 30:
        parser.error("--kills must be 1-10 and --gap 0.5-30 s (the run stays bounded)")

    import bentotui

    print(f"bentotui from {Path(bentotui.__file__).parent}, python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        home = Path(tmp) / "home"
        save_model(home)
        port = free_port()
        env = {**os.environ, "BENTOTUI_HOME": str(home)}
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "bentotui", "serve", "--model", "iris", "--port", str(port)],
                cwd=tmp,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            deadline = time.monotonic() + 60
            while not ready(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(log_path.read_text())
                time.sleep(0.05)
            next_kill = time.monotonic() + args.warmup
            cap = next_kill + args.kills * (args.gap + 60)  # a restart never takes a minute
            load = start_load(port, args.conc, cap)
            kills: list[float] = []
            readies: list[float] = []
            for _ in range(args.kills):
                time.sleep(max(0.0, next_kill - time.monotonic()))
                [victim] = worker_pids(server.pid)
                os.kill(victim, signal.SIGKILL)
                kills.append(time.monotonic())
                noticed = time.monotonic() + 2
                while ready(port) and time.monotonic() < noticed:  # until the server notices
                    time.sleep(0.01)
                while not ready(port) and time.monotonic() < cap:
                    time.sleep(0.02)
                readies.append(time.monotonic())
                next_kill = readies[-1] + args.gap
            time.sleep(max(0.0, next_kill - time.monotonic()))
            end = time.monotonic()
            out, _ = load.communicate("", timeout=120)
        finally:
            stop(server)
    records: list[Record] = [(start, done, status) for start, done, status in json.loads(out)]
    rows = per_kill(records, kills, readies, end)
    print(f"c={args.conc}, {args.kills} kills, {args.gap:g} s of load after each recovery, {len(records)} requests")
    print("kill  failed  statuses    outage_s  ready_s  max_ms  answered")
    for i, row in enumerate(rows, 1):
        print(
            f"{i:>4}  {row['failed']:>6}  {str(row['statuses']):<10}  {row['outage_s']:>8.2f}  "
            f"{row['ready_s']:>7.2f}  {row['max_ms']:>6.0f}  {row['answered']:>8}"
        )
    print(
        "median {failed:>6}  {blank:<10}  {outage_s:>8.2f}  {ready_s:>7.2f}  {max_ms:>6.0f}".format(
            blank="",
            **{k: statistics.median(row[k] for row in rows) for k in ("failed", "outage_s", "ready_s", "max_ms")},
        )
    )


if __name__ == "__main__":
    main()
