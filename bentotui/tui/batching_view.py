"""The batching panel's content from a server's ``/runners.json`` (pure: tested without Textual).

Per runner, its workers with CPU and memory sparklines (the server measures its own processes,
see ``server/usage.py``); per batchable method, what adaptive batching is doing and why: the
dispatcher's fitted cost line (fixed cost per batch + cost per row, and what a full batch costs),
a histogram of batch sizes in power-of-two bins, the recent queue wait and run time, and the last
refusals with the reason each 503 gave ("would take about 586 ms, over max_latency_ms=200").
Each line is ``(text, tone)``: the screen maps tones to the theme's colours.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from bentotui.tui import fmt
from bentotui.tui.server_view import spark

Line = tuple[str, str | None]
HISTORY = 120  # usage samples kept per worker (two minutes at the panel's pace)
HISTOGRAM_WIDTH = 30
SPARK_WIDTH = 24
REFUSALS_SHOWN = 5
REFUSAL_TONES = {"overloaded": "warning", "expired": "warning", "no_worker": "error"}


def memory(process: Mapping[str, Any]) -> tuple[str, float | None]:
    """``("pss", bytes)`` where the server measured PSS, else ``("rss", bytes)`` (an older server,
    or a kernel without ``smaps``).  PSS splits the pages forked workers share with their fork
    server, so the workers' figures add up to what the server really holds; RSS counts them in
    each worker."""
    if process.get("pss_bytes") is not None:
        return "pss", float(process["pss_bytes"])
    rss = process.get("rss_bytes")
    return "rss", None if rss is None else float(rss)


class UsageHistory:
    """CPU and memory samples per worker slot, ``(runner, slot)`` -> recent values; ``kind`` says
    which memory figure (``pss`` or ``rss``, see :func:`memory`) the latest sample was."""

    def __init__(self, size: int = HISTORY) -> None:
        self.size = size
        self.cpu: dict[tuple[str, int], deque[float]] = {}
        self.mem: dict[tuple[str, int], deque[float]] = {}
        self.kind: dict[tuple[str, int], str] = {}

    def add(self, body: Mapping[str, Any]) -> None:
        for runner, info in (body.get("runners") or {}).items():
            for slot, worker in enumerate(info.get("workers") or ()):
                key = (runner, slot)
                self.kind[key], mem = memory(worker)
                for table, value in ((self.cpu, worker.get("cpu_percent")), (self.mem, mem)):
                    table.setdefault(key, deque(maxlen=self.size)).append(float(value or 0.0))

    def series(self, runner: str, slot: int) -> tuple[deque[float], deque[float], str] | None:
        """The slot's CPU and memory series and its memory kind, or None before a sample."""
        key = (runner, slot)
        cpu, mem = self.cpu.get(key), self.mem.get(key)
        return (cpu, mem, self.kind[key]) if cpu and mem else None


def histogram(sizes: Mapping[str, int], max_batch_size: int, width: int = HISTOGRAM_WIDTH) -> list[str]:
    """Batch counts in bins 1, 2-3, 4-7, ... up to ``max_batch_size``, as bars scaled to the
    fullest bin: where batching lands, at a glance."""
    top_bin = max(0, math.ceil(math.log2(max(max_batch_size, 1) + 1)) - 1)
    bins = [0] * (top_bin + 1)
    for size, count in sizes.items():
        rows = int(size)
        bins[min(top_bin, rows.bit_length() - 1)] += count
    most = max(bins, default=0)
    labels = [_bin_label(i, max_batch_size) for i in range(len(bins))]
    pad = max(len(label) for label in labels)
    lines = []
    for label, count in zip(labels, bins, strict=True):
        bar = "█" * (round(count / most * width) if most else 0)
        if count and not bar:
            bar = "▏"
        lines.append(f"{label:>{pad}} │{bar} {count}" if count else f"{label:>{pad}} │")
    return lines


def _bin_label(i: int, max_batch_size: int) -> str:
    low, high = 2**i, min(2 ** (i + 1) - 1, max_batch_size)
    return str(low) if low >= high else f"{low}-{high}"


def cost_line(cost: Mapping[str, Any], max_batch_size: int) -> str:
    """``fixed 1.20ms + 0.050ms/row: a full batch (100 rows) ≈ 6.2ms``."""
    fixed, per_row = float(cost.get("fixed_ms") or 0.0), float(cost.get("per_row_ms") or 0.0)
    if not fixed and not per_row:
        return "cost line: no batch measured yet"
    text = (
        f"cost line: fixed {fixed:.2f}ms + {per_row:.3f}ms/row; a full batch ({max_batch_size} rows) "
        f"≈ {fmt.ms(fixed + per_row * max_batch_size)}"
    )
    if not cost.get("warm"):
        text += "  (warming up: nothing is refused on its estimate yet)"
    return text


def _quantiles(label: str, values: Mapping[str, float] | None) -> str:
    if not values:
        return f"{label} -"
    return f"{label} p50 {fmt.ms(values['p50'])} p99 {fmt.ms(values['p99'])} max {fmt.ms(values['max'])}"


def method_lines(name: str, info: Mapping[str, Any], now: float) -> list[Line]:
    """One batchable method: limits and queue, cost line, histogram, waits, refusals (their age
    against ``now``, epoch seconds)."""
    limit = int(info.get("max_batch_size") or 1)
    lines: list[Line] = [
        (
            f"  {name}: max_batch_size {limit} · max_latency_ms {fmt.ms(info.get('max_latency_ms'))} · "
            f"{info.get('queued_rows', 0)} rows queued · {info.get('batches', 0)} batches",
            "accent",
        ),
        ("    " + cost_line(info.get("cost") or {}, limit), None),
    ]
    lines += [("    " + line, None) for line in histogram(info.get("sizes") or {}, limit)]
    lines.append(
        ("    " + _quantiles("queue wait", info.get("queue_wait_ms")) + " · " + _quantiles("run", info.get("exec_ms")), None)
    )
    refused: Mapping[str, int] = info.get("refused") or {}
    total = sum(refused.values())
    if not total:
        lines.append(("    refused: none", "success"))
        return lines
    kinds = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(refused.items()))
    lines.append((f"    refused: {total} ({kinds}); the latest:", "error"))
    for refusal in list(info.get("refusals") or ())[-REFUSALS_SHOWN:][::-1]:
        when = fmt.duration(now - float(refusal["at"])) + " ago"
        calls = f" ×{refusal['calls']}" if refusal.get("calls", 1) > 1 else ""
        lines.append((f"      {when}{calls} {refusal['message']}", REFUSAL_TONES.get(refusal.get("kind", ""), "warning")))
    return lines


def worker_lines(runner: str, workers: Sequence[Mapping[str, Any]], usage: UsageHistory) -> list[Line]:
    """One line per worker slot: where it runs, state, in flight, restarts, CPU and RSS sparks."""
    lines: list[Line] = []
    for slot, worker in enumerate(workers):
        where = f"pid {worker['pid']}" if worker.get("pid") else f"at {worker.get('address') or '?'}"
        state, tone = ("up", None) if worker.get("alive") else ("down", "error")
        text = f"  worker {slot} {where} {state} · {worker.get('inflight', 0)} in flight · {worker.get('restarts', 0)} restarts"
        series = usage.series(runner, slot)
        if worker.get("pid") and series:
            cpu, mem, kind = series
            text += (
                f" · cpu {spark(cpu, SPARK_WIDTH)} {cpu[-1]:.0f}% (max {max(cpu):.0f}%)"
                f" · {kind} {spark(mem, SPARK_WIDTH)} {fmt.size(mem[-1])}"
            )
        lines.append((text, tone))
    return lines


def usage_lines(body: Mapping[str, Any], usage: UsageHistory, width: int = SPARK_WIDTH // 2) -> list[str]:
    """One short line per local worker, for the Servers area's detail beside the latency
    sparklines: ``iris_clf/0 pid 4312  cpu ▂▄█ 88%  pss ▁▂▂ 156.0 MiB``."""
    lines = []
    for runner, info in (body.get("runners") or {}).items():
        for slot, worker in enumerate(info.get("workers") or ()):
            series = usage.series(runner, slot)
            if not worker.get("pid") or not series:
                where = worker.get("address") or "starting"
                lines.append(f"{runner}/{slot} {where} {'up' if worker.get('alive') else 'down'}")
                continue
            cpu, mem, kind = series
            lines.append(
                f"{runner}/{slot} pid {worker['pid']}  cpu {spark(cpu, width)} {cpu[-1]:.0f}%  "
                f"{kind} {spark(mem, width)} {fmt.size(mem[-1])}"
            )
    return lines


def process_line(what: str, process: Mapping[str, Any]) -> str:
    """``API process pid 4310 · cpu 61% · pss 58.0 MiB``."""
    kind, mem = memory(process)
    return f"{what} pid {process.get('pid')} · cpu {process.get('cpu_percent') or 0:.0f}% · {kind} {fmt.size(mem)}"


def panel(body: Mapping[str, Any], usage: UsageHistory, now: float) -> list[Line]:
    """Everything the panel shows for one ``/runners.json`` answer, at ``now`` (epoch seconds)."""
    runners: Mapping[str, Any] = body.get("runners") or {}
    api = body.get("api") or {}
    lines: list[Line] = []
    if api:
        lines.append((process_line("API process", api), "dim"))
    if body.get("fork_server"):
        lines.append((process_line("fork server", body["fork_server"]) + " · the workers are forked from it", "dim"))
    if not runners:
        lines.append(("this service has no runners: its APIs run in the API process", None))
        return lines
    for name, info in runners.items():
        workers = info.get("workers") or ()
        lines.append((f"runner {name} · {len(workers)} worker slot{'s' if len(workers) != 1 else ''}", "accent"))
        lines += worker_lines(name, workers, usage)
        methods: Mapping[str, Any] = info.get("methods") or {}
        if not methods:
            lines.append(("  no batchable method: every call goes to the least busy worker as it comes", "dim"))
        for method, method_info in methods.items():
            lines += method_lines(method, method_info, now)
        lines.append(("", None))
    return lines
