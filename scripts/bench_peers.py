"""The peers ``bench_serving.py`` runs beside bentotui: their service files and how each is started.

Each peer runs from its own throw-away venv under ``$BENCHENV`` (default ``/tmp/benchenv``) and is
configured as its documentation recommends for a CPU model:

- **BentoML 1.4** (``bento``: ``pip install bentoml==1.4.40 scikit-learn psutil``, plus ``torch``
  and ``transformers`` at bentotui's versions for the text and streaming services): a 1.2-style
  class, ``workers=1`` (``bentoml_{lr,rf}_w2``: ``workers=2``), ``@bentoml.api(batchable=...)``.
- **LitServe 0.2.19** (``litserve``: ``pip install litserve==0.2.19 scikit-learn joblib psutil``):
  one inference worker on the CPU (``workers_per_device=1``), one API server, ``fast_queue=True``
  (its docs recommend the ZeroMQ queue above 100 req/s); batched: ``max_batch_size=64``,
  ``batch_timeout=2 ms``.
- **Ray Serve 2.60** (``ray``: ``pip install "ray[serve]==2.60.0" scikit-learn joblib psutil``): a
  local Ray (``num_cpus=2``, no dashboard), one replica, ``max_ongoing_requests=128``; batched:
  ``@serve.batch(max_batch_size=64, batch_wait_timeout_s=0.002)``.

``bench_serving.py --setup-peers`` builds the venvs that are missing (``python3 -m venv``, then pip
with scikit-learn, NumPy, torch and transformers pinned to the versions bentotui runs with, so
every server loads the same model bytes with the same libraries).

Every iris peer answers ``POST /predict {"input": [[...]]}`` with the predicted classes and
``GET /readyz`` with 200 once its model is loaded, so the cold start counts until it can answer.
A peer whose venv is missing is skipped with a note.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

BENCHENV = Path(os.environ.get("BENCHENV", "/tmp/benchenv"))
PEER_VENVS = {"bentoml": "bento", "litserve": "litserve", "ray": "ray"}
BATCH = 64
BATCH_WAIT_S = 0.002

#: the stack's limit: an ASGI app with no framework at all, on the same hypercorn
RAW_ASGI_ECHO = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/readyz":
        body = b"ok"
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
'''

BENTOML_IRIS = """
import os
import numpy as np
import bentoml, joblib

@bentoml.service(workers=int(os.environ.get("BENCH_WORKERS", "1")))
class IrisService:
    model_ref = bentoml.models.BentoModel(f"iris_{os.environ['BENCH_MODEL']}:latest")

    def __init__(self):
        self.model = joblib.load(self.model_ref.path_of("model.joblib"))

    @bentoml.api(batchable=os.environ.get("BENCH_BATCHABLE", "1") == "1")
    def predict(self, input: np.ndarray) -> np.ndarray:
        return self.model.predict(input)
"""

#: the seed's tiny BERT under BentoML, the pipeline built as ``bentotui.transformers.load_model``
#: builds it; batchable: each request is a batch of one text, merged across requests
BENTOML_TEXT = """
import os
import sys

import bentoml

BATCHABLE = os.environ.get("BENCH_BATCHABLE", "1") == "1"


@bentoml.service(workers=1)
class TextService:
    model_ref = bentoml.models.BentoModel("tiny_text:latest")

    def __init__(self):
        import torch
        import transformers

        folder = str(self.model_ref.path)
        self.pipe = transformers.pipeline(
            "text-classification", model=folder, tokenizer=folder, device="cpu", local_files_only=True
        )
        print(f"BENCH_THREADS bentoml worker torch threads {torch.get_num_threads()}", file=sys.stderr, flush=True)

    if BATCHABLE:
        @bentoml.api(batchable=True, max_batch_size=64)
        def classify(self, text: list[str]) -> list[dict]:
            return self.pipe(text, max_length=512)
    else:
        @bentoml.api
        def classify(self, text: str) -> dict:
            return self.pipe(text, max_length=512)[0]
"""

LITSERVE_IRIS = f"""
import os

import joblib
import litserve as ls
import numpy as np

BATCH = int(os.environ["BENCH_BATCH"])


class IrisAPI(ls.LitAPI):
    def setup(self, device):
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])

    def decode_request(self, request):
        return np.asarray(request["input"], dtype=np.float64)

    def batch(self, inputs):
        return inputs  # requests may carry several rows: merged and split back in predict

    def predict(self, x):
        if BATCH > 1:
            out = self.model.predict(np.concatenate(x))
            return np.split(out, np.cumsum([len(a) for a in x])[:-1])
        return self.model.predict(x)

    def unbatch(self, output):
        return output

    def encode_response(self, output):
        return output.tolist()


if __name__ == "__main__":
    api = IrisAPI(max_batch_size=BATCH, batch_timeout={BATCH_WAIT_S}) if BATCH > 1 else IrisAPI()
    server = ls.LitServer(
        api, accelerator="cpu", devices=1, workers_per_device=1, healthcheck_path="/readyz", fast_queue=True
    )
    server.run(
        host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning",
        generate_client_file=False, num_api_servers=1,
    )
"""

RAY_IRIS = f"""
import os
import signal
import threading

import numpy as np
import ray
from ray import serve
from starlette.responses import JSONResponse, PlainTextResponse

BATCH = int(os.environ["BENCH_BATCH"])


@serve.deployment(num_replicas=1, max_ongoing_requests=128)
class Iris:
    def __init__(self, path):
        import joblib

        self.model = joblib.load(path)

    async def __call__(self, request):
        if request.url.path.endswith("/readyz"):
            return PlainTextResponse("ok")  # from the replica: ready once the model is loaded
        x = np.asarray((await request.json())["input"], dtype=np.float64)
        y = await self.predict_batch(x) if BATCH > 1 else self.model.predict(x)
        return JSONResponse(y.tolist())

    @serve.batch(max_batch_size={BATCH}, batch_wait_timeout_s={BATCH_WAIT_S})
    async def predict_batch(self, xs):
        out = self.model.predict(np.concatenate(xs))
        return np.split(out, np.cumsum([len(a) for a in xs])[:-1])


if __name__ == "__main__":
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={{"host": "127.0.0.1", "port": int(os.environ["BENCH_PORT"])}})
    serve.run(Iris.bind(os.environ["BENCH_MODEL_PATH"]), name="iris", route_prefix="/")
    stop.wait()
    serve.shutdown()
    ray.shutdown()
"""

#: file name -> text, written into the bench's work folder
FILES = {
    "raw_echo_app.py": RAW_ASGI_ECHO,
    "bentoml/bento_svc.py": BENTOML_IRIS,
    "bentoml_text/service.py": BENTOML_TEXT,
    "litserve_iris.py": LITSERVE_IRIS,
    "ray_iris.py": RAY_IRIS,
}


#: peer -> what pip installs into its venv beside the pinned libraries of :func:`pins`
REQUIREMENTS = {
    "bentoml": ["bentoml==1.4.40", "psutil"],
    "litserve": ["litserve==0.2.19", "joblib", "psutil"],
    "ray": ["ray[serve]==2.60.0", "joblib", "psutil"],
}


def pins(*names: str) -> list[str]:
    """``name==version`` of each library as installed beside bentotui."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in names]


def setup(peers: list[str]) -> None:
    """Build the venv of each of ``peers`` that is missing; BentoML's also gets torch and
    transformers (its text and streaming services)."""
    for peer in dict.fromkeys(peers):
        venv = BENCHENV / PEER_VENVS[peer]
        if available(peer):
            continue
        libs = pins("scikit-learn", "numpy")
        if peer == "bentoml":
            libs += pins("torch", "transformers", "tokenizers", "safetensors")
        print(f"building {venv} ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *REQUIREMENTS[peer], *libs], check=True)


def python(peer: str) -> Path:
    """The interpreter of ``peer``'s venv."""
    return BENCHENV / PEER_VENVS[peer] / "bin" / "python"


def available(peer: str) -> bool:
    return python(peer).exists()


#: BentoML's store for the bench, apart from any the user has
BENTOML_ENV = {"BENTOML_HOME": str(BENCHENV / "bentohome"), "BENTOML_DO_NOT_TRACK": "True"}


def bentoml_launch(env: dict[str, str], cwd: Path, target: str, extra: dict[str, str]):
    """``bentoml serve TARGET`` in ``cwd`` on the port given, on loopback."""

    def launch(port: int):
        argv = [str(python("bentoml").parent / "bentoml"), "serve", target, "--host", "127.0.0.1", "--port", str(port)]
        return argv, {**env, **BENTOML_ENV, **extra}, cwd

    return launch


def configs(env: dict[str, str], work: Path) -> dict:
    """``name -> (launch(port) -> (argv, env, cwd), path, body, content type)`` for every peer
    configuration; ``work`` holds :data:`FILES` and ``artifacts/{lr,rf}.joblib``."""
    iris = (json.dumps({"input": [[5.1, 3.5, 1.4, 0.2]]}).encode(), "application/json")

    def bentoml(target: str, folder: str, extra: dict[str, str]):
        return bentoml_launch(env, work / folder, target, extra)

    def script(peer: str, file: str, model: str, batch: bool):
        def launch(port: int):
            extra = {
                "BENCH_PORT": str(port),
                "BENCH_BATCH": str(BATCH if batch else 0),
                "BENCH_MODEL_PATH": str(work / "artifacts" / f"{model}.joblib"),
            }
            return [str(python(peer)), file], {**env, **extra}, work

        return launch

    out: dict = {}
    for model in ("lr", "rf"):
        for batch in (True, False):
            suffix = "batch" if batch else "nobatch"
            out[f"bentoml_{model}_{suffix}"] = (
                bentoml("bento_svc:IrisService", "bentoml", {"BENCH_MODEL": model, "BENCH_BATCHABLE": str(int(batch))}),
                "/predict", *iris,
            )
            if batch:
                out[f"bentoml_{model}_w2"] = (
                    bentoml("bento_svc:IrisService", "bentoml", {"BENCH_MODEL": model, "BENCH_WORKERS": "2"}),
                    "/predict", *iris,
                )
            out[f"litserve_{model}_{suffix}"] = (script("litserve", "litserve_iris.py", model, batch), "/predict", *iris)
            out[f"ray_{model}_{suffix}"] = (script("ray", "ray_iris.py", model, batch), "/predict", *iris)
    text = "the team won the final match of the season"
    for batch in (True, False):
        body = {"text": [text] if batch else text}
        out[f"bentoml_text_{'batch' if batch else 'nobatch'}"] = (
            bentoml("service:TextService", "bentoml_text", {"BENCH_BATCHABLE": str(int(batch))}),
            "/classify", json.dumps(body).encode(), "application/json",
        )
    return out


def peer_of(config: str) -> str | None:
    """The peer a configuration name belongs to (None for bentotui's and the echoes)."""
    head = config.split("_", 1)[0]
    return head if head in PEER_VENVS else None
