"""Serving benchmark: bentotui beside BentoML 1.4, LitServe, Ray Serve and the bare HTTP stack, one run.

For each configuration: start the server, time launch -> first ``GET /readyz`` 200 (cold start),
measure the idle RSS and PSS of the whole process tree, then for each concurrency run a
closed-loop load (warm-up, then measurement) with one JSON row per request, and stop the server
by pid.  Configurations are interleaved when ``--reps`` > 1.  Prints req/s, p50/p99/max and the
ratios the issue's targets are stated in, among them bentotui against the best peer on each model
and against the raw ASGI echo.

The load generator runs in a separate process (it shares the 2 cores with the server, as wrk did
for the anchor figures): a minimal HTTP/1.1 keep-alive client on asyncio streams that records
every request's latency (no per-request allocation of a full HTTP client).

The stack's limits: ``asgi_echo`` is an ASGI app with no framework on hypercorn, ``echo`` the
bare Quart echo on the same hypercorn.  The peers (``bentoml_*``, ``litserve_*``, ``ray_*``:
iris LR and RF batched and not, and BentoML serving the same tiny-BERT text pipeline) run from
their own throw-away venvs under ``$BENCHENV`` (default ``/tmp/benchenv``), never from the
project's; ``scripts/bench_peers.py`` says how each is built and configured, ``--setup-peers``
builds the missing ones first, and a peer whose venv is missing is skipped with a note.

Streaming configurations (``*_stream``) serve the tiny GPT-2 of ``bentotui.demo`` (same weights,
greedy decoding, so every server returns the same text) and measure, per request, the time to
the first token (TTFT) and the tokens per second after it, plus the tokens per second of all
streams together; ``--stream-requests`` requests at each concurrency, each ``--stream-tokens``
long.  ``bentotui_stream`` is a 1.x service reading its runner's ``stream`` method;
``bentotui_stream_class`` and ``bentoml_stream`` run the same 1.2 class (the usual
``TextIteratorStreamer`` thread), once under each server.  The BentoML venv then also needs
``torch`` and ``transformers``.

    .venv/bin/python scripts/bench_serving.py                       # everything, ~6 min
    .venv/bin/python scripts/bench_serving.py --configs echo,bentotui_lr_batch --duration 3
    .venv/bin/python scripts/bench_serving.py --configs bentotui_stream,bentotui_stream_class,bentoml_stream --reps 3
    .venv/bin/python scripts/bench_serving.py --configs bentotui_rf_batch,bentotui_rf_remote --conc 64 --reps 3
    .venv/bin/python scripts/bench_serving.py --configs asgi_echo,bentotui_lr_batch,litserve_lr_batch,ray_lr_batch,bentoml_lr_batch --conc 1,64 --reps 2

``bentotui_{lr,rf}_w2`` and ``_w4`` serve it with two and four runner workers.  For bentotui servers each measured
cell also reads ``/runners.json`` before and after: the mean size of the batches sent meanwhile
and each process's CPU % (API and workers), which says whether a change splits batches or moves
CPU between processes.

``bentotui_{lr,rf}_remote`` serve the batched service with its runner in a runner server
(``start-runner-server``) and the API in ``start-http-server --remote-runner``, on loopback: the
cost of the network hop against the same service with local workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import bench_peers
import psutil

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ROW = [5.1, 3.5, 1.4, 0.2]
TEXT = "the team won the final match of the season"
STREAM_SUFFIXES = ("_stream", "_stream_class")  # configurations measured as token streams

ECHO_APP = """
from quart import Quart, request, jsonify
app = Quart(__name__)

@app.post("/echo")
async def echo():
    return jsonify(await request.get_json())

@app.get("/readyz")
async def readyz():
    return "ok"
"""

IRIS_SERVICE = """
import bentotui

runner = bentotui.models.get("{model}:latest").to_runner(max_batch_size=128)
svc = bentotui.Service(name="{model}", runners=[runner])

@svc.api(input=bentotui.io.NumpyNdarray(), output=bentotui.io.NumpyNdarray())
async def predict(arr):
    return await runner.predict.async_run(arr)
"""

TEXT_SERVICE = """
import bentotui

runner = bentotui.models.get("{model}:latest").to_runner(max_batch_size=64)
svc = bentotui.Service(name="{model}", runners=[runner])

@svc.api(input=bentotui.io.Text(), output=bentotui.io.JSON())
async def classify(text):
    output = await runner.async_run(text, max_length=512)
    return output[0]
"""

GEN_RUNNER_SERVICE = """
import bentotui

runner = bentotui.transformers.get("tiny_gpt:latest").to_runner()
svc = bentotui.Service(name="gen", runners=[runner])

@svc.api(input=bentotui.io.JSON(), output=bentotui.io.Text())
async def generate(body):
    stream = runner.stream.async_stream(body["prompt"], max_new_tokens=body["max_new_tokens"], do_sample=False)
    async for piece in stream:
        yield piece
"""

#: one 1.2 class, served by both: ``{package}`` is the one imported as bentoml, ``{model_ref}`` how
#: each declares its model at class scope
GEN_CLASS_SERVICE = """
import threading
from collections.abc import Generator

import {package} as bentoml


@bentoml.service(workers=1)
class Gen:
    model_ref = {model_ref}

    def __init__(self):
        from transformers import pipeline

        self.pipe = pipeline("text-generation", model=str(self.model_ref.path), tokenizer=str(self.model_ref.path), device="cpu")

    @bentoml.api
    def generate(self, prompt: str, max_new_tokens: int = 64) -> Generator[str, None, None]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.pipe.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer)
        threading.Thread(target=self.pipe, args=(prompt,), kwargs=kwargs, daemon=True).start()
        for piece in streamer:
            if piece:
                yield piece
"""

# ---------------------------------------------------------------------------------------- load
async def _load(host: str, port: int, path: str, body: bytes, ctype: str, conc: int, seconds: float) -> dict:
    """Closed loop: ``conc`` keep-alive connections, each sending the next request when answered."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def connection() -> None:
        """One keep-alive connection; reopened when the server closes it (hypercorn does so every
        ``keep_alive_max_requests``), as wrk does."""
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < end:
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                close = False
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line[15:])
                    elif line.startswith(b"connection:") and b"close" in line:
                        close = True
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    started = time.perf_counter()
    results = await asyncio.gather(*(connection() for _ in range(conc)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors += sum(isinstance(r, Exception) for r in results)
    latencies.sort()
    n = len(latencies)

    def q(p: float) -> float:
        return latencies[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    return {
        "n": n,
        "errors": errors,
        "rps": n / elapsed,
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
        "max_ms": latencies[-1] * 1000 if n else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if n else float("nan"),
    }


async def _streams(port: int, path: str, body: bytes, conc: int, requests: int) -> dict:
    """``requests`` streaming requests, ``conc`` at a time: per request the time to its first
    non-empty chunk (TTFT) and its tokens per second after that; tokens are words (the tiny
    GPT-2's tokenizer is word level), counted in the whole text, not in chunks."""
    import httpx

    ttft: list[float] = []
    rates: list[float] = []
    texts: set[str] = set()
    tokens = errors = 0
    todo = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal tokens, errors
        for _ in todo:
            start = time.perf_counter()
            first = None
            parts = []
            async with client.stream("POST", path, content=body, headers={"content-type": "application/json"}) as r:
                async for chunk in r.aiter_raw():
                    if chunk and first is None:
                        first = time.perf_counter()
                    parts.append(chunk)
            end = time.perf_counter()
            text = b"".join(parts).decode()
            if r.status_code != 200 or first is None:
                errors += 1
                continue
            n = len(text.split())
            texts.add(text.strip())
            tokens += n
            ttft.append(first - start)
            if n > 1 and end > first:
                rates.append((n - 1) / (end - first))

    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(conc)))
        elapsed = time.perf_counter() - started
    ttft.sort()

    def q(p: float) -> float:
        return ttft[min(len(ttft) - 1, int(p * len(ttft)))] * 1000 if ttft else float("nan")

    return {
        "n": len(ttft), "errors": errors, "rps": len(ttft) / elapsed, "p50_ms": q(0.5), "p99_ms": q(0.99),
        "ttft_p50_ms": q(0.5), "ttft_p99_ms": q(0.99),
        "stream_tok_s": statistics.median(rates) if rates else float("nan"),
        "total_tok_s": tokens / elapsed, "distinct_texts": len(texts), "text": min(texts, default=""),
    }


def run_streams(port: int, path: str, body: bytes, conc: int, requests: int) -> dict:
    """The streaming load generator, in its own process like :func:`run_load`."""
    args = [PY, __file__, "--streamgen", json.dumps([port, path, body.decode(), conc, requests])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def run_load(url_port: int, path: str, body: bytes, ctype: str, conc: int, seconds: float) -> dict:
    """Run the load generator in its own process (its CPU is not the server's)."""
    args = [PY, __file__, "--loadgen", json.dumps([url_port, path, body.decode(), ctype, conc, seconds])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


# ------------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readyz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def runners_json(port: int) -> dict | None:
    """A bentotui server's ``/runners.json`` (None for other servers); reading it also starts the
    window its next reading's CPU percentages cover."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/runners.json", timeout=2) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def batching_during(before: dict | None, after: dict | None) -> dict:
    """Mean batch size of the batches sent between two readings, and each process's CPU % over
    that time (the API process's and every local worker's), for bentotui servers."""
    if not before or not after:
        return {}
    rows = batches = 0
    for name, runner in after["runners"].items():
        for method, info in runner.get("methods", {}).items():
            old = before["runners"].get(name, {}).get("methods", {}).get(method, {}).get("sizes", {})
            for size, count in info["sizes"].items():
                new = count - old.get(size, 0)
                rows, batches = rows + int(size) * new, batches + new
    if not batches:
        return {}
    workers = [w.get("cpu_percent") or 0.0 for r in after["runners"].values() for w in r["workers"]]
    return {"batch_mean": rows / batches, "api_cpu": after["api"].get("cpu_percent") or 0.0, "worker_cpu": workers}


def tree_memory_mb(pid: int) -> tuple[float, float, int]:
    """RSS and PSS of the process tree under ``pid`` and how many processes it has: PSS counts a
    page shared by several of them (forked workers, shared libraries) once in all."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan"), float("nan"), 0
    rss = pss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss += info.rss
        pss += info.pss
    return rss / 2**20, pss / 2**20, len(procs)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM our server, then SIGKILL whatever of its own tree is left (only pids it started)."""
    pids = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)] if proc.poll() is None else []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.home = work / "home"
        self.env = {
            **os.environ,
            "BENTOTUI_HOME": str(self.home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        self.configs = self._configs()

    # each config: (launcher(port) -> (argv, env, cwd), path, body, content type)
    def _configs(self) -> dict:
        iris = (json.dumps([ROW]).encode(), "application/json")
        configs = {
            "echo": (self._hypercorn("echo_app:app"), "/echo", *iris),
            "asgi_echo": (self._hypercorn("raw_echo_app:app"), "/echo", *iris),
        }
        for model in ("lr", "rf"):
            for batch in ("batch", "nobatch"):
                name = f"iris_{model}_{batch}"
                configs[f"bentotui_{model}_{batch}"] = (self._bentotui(name), "/predict", *iris)
            configs[f"bentotui_{model}_remote"] = (self._bentotui_remote(f"iris_{model}_batch"), "/predict", *iris)
            for workers in (2, 4):
                configs[f"bentotui_{model}_w{workers}"] = (
                    self._bentotui(f"iris_{model}_batch", args=("--runner-workers", str(workers))), "/predict", *iris
                )
        configs.update(bench_peers.configs(self.env, self.work))
        stream_body = (
            json.dumps({"prompt": TEXT, "max_new_tokens": self.args.stream_tokens}).encode(), "application/json",
        )
        configs["bentotui_stream"] = (self._bentotui("gen_runner"), "/generate", *stream_body)
        configs["bentotui_stream_class"] = (self._bentotui("gen_class", "service:Gen"), "/generate", *stream_body)
        configs["bentoml_stream"] = (
            bench_peers.bentoml_launch(self.env, self.work / "bentoml_gen", "service:Gen", {}), "/generate", *stream_body
        )
        for batch in ("batch", "nobatch"):
            configs[f"bentotui_text_{batch}"] = (
                self._bentotui(f"text_{batch}"),
                "/classify",
                TEXT.encode(),
                "text/plain",
            )
        return configs

    def _bentotui(self, service_dir: str, target: str = "service:svc", args: tuple[str, ...] = ()):
        def launch(port: int):
            argv = [PY, "-m", "bentotui", "serve", target, "--port", str(port), *args]
            return argv, self.env, self.work / service_dir

        return launch

    def _bentotui_remote(self, service_dir: str):
        """The same service with its runner in a ``start-runner-server`` process on loopback and
        the API in ``start-http-server --remote-runner``: one shell whose children are both, so the
        RSS and the stop cover the pair."""

        def launch(port: int):
            runner_port = free_port()
            bentotui = shlex.join([PY, "-m", "bentotui"])
            script = (
                f"{bentotui} start-runner-server service:svc --runner-name {service_dir} "
                f"--bind tcp://127.0.0.1:{runner_port} & exec {bentotui} start-http-server service:svc "
                f"--port {port} --remote-runner {service_dir}=tcp://127.0.0.1:{runner_port}"
            )
            return ["sh", "-c", script], self.env, self.work / service_dir

        return launch

    def _hypercorn(self, app: str):
        def launch(port: int):
            return [PY, "-m", "hypercorn", app, "-b", f"127.0.0.1:{port}", "-w", "1"], self.env, self.work

        return launch

    def prepare(self, names: list[str]) -> list[str]:
        """Train and save the models, write the service files; drop the peers whose venv is missing."""
        (self.work / "echo_app.py").write_text(ECHO_APP)
        for file, text in bench_peers.FILES.items():
            (self.work / file).parent.mkdir(exist_ok=True)
            (self.work / file).write_text(text)
        sys.path.insert(0, str(ROOT))
        os.environ.update(BENTOTUI_HOME=str(self.home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        import joblib
        from sklearn.datasets import load_iris
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression

        import bentotui

        missing = {p for p in map(bench_peers.peer_of, names) if p and not bench_peers.available(p)}
        for peer in sorted(missing):
            print(f"note: {bench_peers.python(peer)} missing: the {peer} configurations are skipped", flush=True)
        names = [n for n in names if bench_peers.peer_of(n) not in missing]
        x, y = load_iris(return_X_y=True)
        trained = {
            "lr": LogisticRegression(max_iter=1000).fit(x, y),
            "rf": RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y),
        }
        (self.work / "artifacts").mkdir()
        for model, est in trained.items():
            joblib.dump(est, self.work / "artifacts" / f"{model}.joblib")
            for batch in ("batch", "nobatch"):
                name = f"iris_{model}_{batch}"
                bentotui.sklearn.save_model(
                    name, est, signatures={"predict": {"batchable": batch == "batch"}}
                )
                folder = self.work / name
                folder.mkdir()
                (folder / "service.py").write_text(IRIS_SERVICE.format(model=name))
        if any("text" in n for n in names):
            from bentotui.demo import build_tiny_text_pipeline

            pipe = build_tiny_text_pipeline()
            for batch in ("batch", "nobatch"):
                model = bentotui.transformers.save_model(
                    f"text_{batch}", pipe, signatures={"__call__": {"batchable": batch == "batch"}}
                )
                folder = self.work / f"text_{batch}"
                folder.mkdir()
                (folder / "service.py").write_text(TEXT_SERVICE.format(model=f"text_{batch}"))
            if any(n.startswith("bentoml_text") for n in names):
                self._bentoml_copy("tiny_text", model.path)
        if any(n.endswith(STREAM_SUFFIXES) for n in names):
            self._prepare_generator(bentoml="bentoml_stream" in names)
        if any(n.startswith(("bentoml_lr", "bentoml_rf")) for n in names):
            save = (
                "import sys, joblib, bentoml\nfor name in ('lr', 'rf'):\n"
                "    m = joblib.load(f'{sys.argv[1]}/{name}.joblib')\n"
                "    with bentoml.models.create(name=f'iris_{name}') as ref:\n"
                "        joblib.dump(m, ref.path_of('model.joblib'))\n"
            )
            self._bentoml_python(save, self.work / "artifacts")
        return names

    def _bentoml_python(self, code: str, arg: Path) -> None:
        """Run ``code`` in BentoML's venv against the bench's BentoML store."""
        env = {**os.environ, **bench_peers.BENTOML_ENV}
        subprocess.run([str(bench_peers.python("bentoml")), "-c", code, str(arg)], env=env, check=True, capture_output=True)

    def _bentoml_copy(self, name: str, folder: Path) -> None:
        """A BentoML model ``name`` holding the same files as bentotui's model ``folder``."""
        copy = (
            "import shutil, sys, bentoml\n"
            f"with bentoml.models.create(name={name!r}) as ref:\n"
            "    shutil.copytree(sys.argv[1], ref.path, dirs_exist_ok=True)\n"
        )
        self._bentoml_python(copy, folder)

    def _prepare_generator(self, bentoml: bool) -> None:
        """The tiny GPT-2 in both stores (the same files) and the three streaming services."""
        import bentotui
        from bentotui.demo import build_tiny_text_generator

        pipe = build_tiny_text_generator()
        model = bentotui.transformers.save_model("tiny_gpt", pipe)
        for folder, text in (
            ("gen_runner", GEN_RUNNER_SERVICE),
            ("gen_class", GEN_CLASS_SERVICE.format(package="bentotui", model_ref='bentoml.models.get("tiny_gpt:latest")')),
            ("bentoml_gen", GEN_CLASS_SERVICE.format(package="bentoml", model_ref='bentoml.models.BentoModel("tiny_gpt:latest")')),
        ):
            (self.work / folder).mkdir()
            (self.work / folder / "service.py").write_text(text)
        if bentoml:
            self._bentoml_copy("tiny_gpt", model.path)

    def run_one(self, name: str) -> dict:
        launch, path, body, ctype = self.configs[name]
        port = free_port()
        argv, env, cwd = launch(port)
        log = open(self.work / f"{name}.log", "ab")
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not readyz(port):
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise RuntimeError(f"{name} did not start; see {self.work / (name + '.log')}")
                time.sleep(0.01)
            cold = time.perf_counter() - started
            time.sleep(2)
            rss, pss, nprocs = tree_memory_mb(proc.pid)
            result = {
                "config": name, "cold_start_s": cold, "idle_rss_mb": rss, "idle_pss_mb": pss, "procs": nprocs, "runs": {},
            }
            for conc in self.args.conc:
                if name.endswith(STREAM_SUFFIXES):
                    run_streams(port, path, body, conc, conc)  # warm-up: one stream per connection
                    r = result["runs"][conc] = run_streams(port, path, body, conc, self.args.stream_requests)
                    print(
                        f"{name:24s} c={conc:3d} TTFT p50 {r['ttft_p50_ms']:7.2f} ms  p99 {r['ttft_p99_ms']:7.2f} ms  "
                        f"{r['stream_tok_s']:7.0f} tok/s per stream  {r['total_tok_s']:7.0f} tok/s in all  "
                        f"errors {r['errors']}  texts {r['distinct_texts']}",
                        flush=True,
                    )
                    continue
                run_load(port, path, body, ctype, conc, self.args.warmup)
                before = runners_json(port)
                r = run_load(port, path, body, ctype, conc, self.args.duration)
                r.update(batching_during(before, runners_json(port)))
                result["runs"][conc] = r
                batching = (
                    f"  batch mean {r['batch_mean']:.1f} rows, cpu % api {r['api_cpu']:.0f} workers "
                    + "/".join(f"{c:.0f}" for c in r["worker_cpu"])
                    if "batch_mean" in r else ""
                )
                print(
                    f"{name:24s} c={conc:3d} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                    f"p99 {r['p99_ms']:7.2f} ms  max {r['max_ms']:7.1f} ms  errors {r['errors']}{batching}",
                    flush=True,
                )
            print(
                f"{name:24s} cold start {cold:.2f} s, idle RSS {rss:.0f} MB (PSS {pss:.0f}) in {nprocs} processes",
                flush=True,
            )
            log.flush()
            lines = (self.work / f"{name}.log").read_text(errors="replace").splitlines()
            for line in dict.fromkeys(line for line in lines if "BENCH_THREADS" in line):
                print(f"{name:24s} {line.strip()}", flush=True)  # a peer's torch threads, as it reports them
            if any(r["errors"] for r in result["runs"].values()):
                print(f"{name:24s} had errors; its server log ends with:\n  " + "\n  ".join(lines[-6:]), flush=True)
            return result
        finally:
            stop(proc)
            log.close()


def summarize(results: list[dict], conc: list[int]) -> None:
    by: dict[str, list[dict]] = {}
    for r in results:
        by.setdefault(r["config"], []).append(r)

    def med(name: str, c: int, key: str) -> float:
        vals = [r["runs"][c][key] for r in by.get(name, []) if c in r["runs"]]
        return statistics.median(vals) if vals else float("nan")

    print(
        "\n| config | "
        + " | ".join(f"c={c} req/s | c={c} p50 ms | c={c} p99 ms" for c in conc)
        + " | cold start s | idle RSS MB | idle PSS MB | errors |"
    )
    print("|---" * (3 * len(conc) + 5) + "|")
    for name, rs in by.items():
        if name.endswith(STREAM_SUFFIXES):
            continue  # their own table below
        cells = " | ".join(
            f"{med(name, c, 'rps'):.0f} | {med(name, c, 'p50_ms'):.2f} | {med(name, c, 'p99_ms'):.1f}"
            for c in conc
        )
        cold = statistics.median(r["cold_start_s"] for r in rs)
        rss = statistics.median(r["idle_rss_mb"] for r in rs)
        pss = statistics.median(r["idle_pss_mb"] for r in rs)
        errors = sum(run["errors"] for r in rs for run in r["runs"].values())
        print(f"| {name} | {cells} | {cold:.2f} | {rss:.0f} | {pss:.0f} | {errors} |")
    streams = [name for name in by if name.endswith(STREAM_SUFFIXES)]
    if streams:
        print("\n| config | " + " | ".join(
            f"c={c} TTFT p50 ms | c={c} TTFT p99 ms | c={c} tok/s per stream | c={c} tok/s in all" for c in conc
        ) + " |")
        print("|---" * (4 * len(conc) + 1) + "|")
        for name in streams:
            print(f"| {name} | " + " | ".join(
                f"{med(name, c, 'ttft_p50_ms'):.1f} | {med(name, c, 'ttft_p99_ms'):.1f} | "
                f"{med(name, c, 'stream_tok_s'):.0f} | {med(name, c, 'total_tok_s'):.0f}" for c in conc
            ) + " |")
        texts = {r["runs"][c]["text"] for name in streams for r in by[name] for c in r["runs"]}
        print(f"streams returned {len(texts)} distinct text(s) across servers (1: the same generation everywhere)")
        for ours in ("bentotui_stream", "bentotui_stream_class"):
            if ours in by and "bentoml_stream" in by:
                for c in conc:
                    print(
                        f"  c={c}: {ours} / bentoml_stream: TTFT p50 "
                        f"{med(ours, c, 'ttft_p50_ms') / med('bentoml_stream', c, 'ttft_p50_ms'):.2f}, "
                        f"tok/s in all {med(ours, c, 'total_tok_s') / med('bentoml_stream', c, 'total_tok_s'):.2f}"
                    )
    top = max(conc)
    print(f"\nratios at c={top} (req/s):")
    for a, b in [
        ("bentotui_lr_batch", "bentoml_lr_batch"),
        ("bentotui_lr_batch", "echo"),
        ("echo", "asgi_echo"),
        ("bentotui_rf_batch", "bentoml_rf_batch"),
        ("bentotui_rf_batch", "bentotui_rf_nobatch"),
        ("bentotui_rf_remote", "bentotui_rf_batch"),
        ("bentotui_rf_w2", "bentotui_rf_batch"),
        ("bentotui_lr_w2", "bentotui_lr_batch"),
        ("bentotui_lr_remote", "bentotui_lr_batch"),
        ("bentotui_lr_batch", "bentotui_lr_nobatch"),
        ("bentotui_text_batch", "bentotui_text_nobatch"),
        ("bentotui_text_batch", "bentoml_text_batch"),
        ("bentotui_text_nobatch", "bentoml_text_nobatch"),
        ("bentotui_rf_w4", "bentotui_rf_batch"),
    ]:
        if a in by and b in by:
            print(f"  {a} / {b} = {med(a, top, 'rps') / med(b, top, 'rps'):.2f}")
    for model in ("lr", "rf", "text"):
        peers = [n for n in by if bench_peers.peer_of(n) and n.split("_")[1] == model]
        ours = f"bentotui_{model}_batch"
        if ours not in by or not peers:
            continue
        best = max(peers, key=lambda n: med(n, top, "rps"))
        print(
            f"  {ours} / best peer ({best}) = {med(ours, top, 'rps') / med(best, top, 'rps'):.2f} req/s, "
            f"{med(ours, top, 'p99_ms') / med(best, top, 'p99_ms'):.2f} p99"
        )
    for c in conc:
        if "bentotui_lr_batch" in by and "asgi_echo" in by:
            print(f"  c={c}: bentotui_lr_batch / asgi_echo = {med('bentotui_lr_batch', c, 'rps') / med('asgi_echo', c, 'rps'):.2f} req/s")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--loadgen":
        port, path, body, ctype, conc, seconds = json.loads(sys.argv[2])
        print(json.dumps(asyncio.run(_load("127.0.0.1", port, path, body.encode(), ctype, conc, seconds))))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--streamgen":
        port, path, body, conc, requests = json.loads(sys.argv[2])
        print(json.dumps(asyncio.run(_streams(port, path, body.encode(), conc, requests))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per concurrency")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--conc", type=lambda s: [int(c) for c in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--configs", default=None, help="comma list (default: all)")
    parser.add_argument(
        "--setup-peers", action="store_true", help="first build the missing peer venvs (scripts/bench_peers.py)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write raw results here")
    parser.add_argument("--stream-tokens", type=int, default=64, help="tokens per streamed generation")
    parser.add_argument("--stream-requests", type=int, default=40, help="streams measured per concurrency")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        bench = Bench(args, work)
        names = args.configs.split(",") if args.configs else list(bench.configs)
        unknown = set(names) - set(bench.configs)
        if unknown:
            parser.error(f"unknown configs: {', '.join(sorted(unknown))}")
        if args.setup_peers:
            bench_peers.setup([p for p in map(bench_peers.peer_of, names) if p])
        names = bench.prepare(names)
        print(
            f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {args.duration:g}s per cell",
            flush=True,
        )
        results = []
        for _ in range(args.reps):
            for name in names:
                try:
                    results.append(bench.run_one(name))
                except RuntimeError as exc:
                    print(f"ERROR {name}: {exc}", flush=True)
        summarize(results, args.conc)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
