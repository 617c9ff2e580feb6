"""The seed's two 0.x scripts, run as written (``python script.py``), then served for real.

Each script trains, packs and calls ``svc.save()`` in a subprocess with the test's
BENTOTUI_HOME; ``bentotui serve IrisClassifier:latest`` then serves the bento it stored.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import serve

SEED = Path(__file__).parent / "seed"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _run_script(name: str, workdir: Path) -> str:
    script = workdir / name
    shutil.copy(SEED / name, script)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=workdir, env=dict(os.environ), capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def iris_rows(iris_data):
    x, y = iris_data
    return x, y


def _served_without_port(tag: str, cwd: Path) -> str:
    """What ``bentotui serve TAG`` does with no --port: the port it serves on, or, when that port
    is taken on this machine, the one-line error naming it (either way the default shows)."""
    from bentotui import runs
    from bentotui._process import self_command

    run_id = runs.new_run_id()
    proc = subprocess.Popen(
        [*self_command(), "serve", tag, "--run-id", run_id], cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            run = runs.find_run(run_id)
            if run is not None and run.port:
                return f"serving on {run.port}"
            time.sleep(0.1)
        return proc.communicate(timeout=30)[1].strip().splitlines()[-1]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def test_iris_classifier_script_saves_and_serves(tmp_path, iris_rows):
    from sklearn import svm

    import bentotui

    out = _run_script("iris_classifier.py", tmp_path)
    bento = bentotui.bentos.get("irisclassifier:latest")
    assert out.strip() == str(bento.path)
    src = Path(bento.path) / "src"
    extracted = (src / "iris_classifier.py").read_text()
    assert "class IrisClassifier" in extracted and "save()" not in extracted and ".fit(" not in extracted
    assert any(p.startswith("scikit-learn==") for p in bento.info.python.packages)
    # as in BentoML 0.x: port 5000 when none is given
    assert _served_without_port("IrisClassifier:latest", tmp_path) in (
        "serving on 5000", "error: port 5000 on 127.0.0.1 is already in use (try --port 0 for a free one)"
    )

    x, y = iris_rows
    expected = svm.SVC(gamma="scale").fit(x, y).predict(x).tolist()
    serve_dir = tmp_path / "elsewhere"
    serve_dir.mkdir()
    with serve("IrisClassifier:latest", cwd=serve_dir) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        # 0.x clients: a JSON list of rows, records, and CSV
        r = client.post("/predict", json=x[:3].tolist())
        assert r.status_code == 200, r.text
        assert r.json() == expected[:3]
        r = client.post("/predict", json=[dict(zip(FEATURES, x[60].tolist(), strict=True))])
        assert r.json() == [expected[60]]
        csv = ",".join(FEATURES) + "\n" + "\n".join(",".join(map(str, row)) for row in x[100:102]) + "\n"
        r = client.post("/predict", content=csv, headers={"content-type": "text/csv"})
        assert r.json() == expected[100:102]

        # 100 concurrent single-row requests: each gets its own row's answer
        def one(i: int) -> list:
            resp = client.post("/predict", json=[x[i].tolist()])
            assert resp.status_code == 200, resp.text
            return resp.json()

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(one, range(100)))
        assert answers == [[e] for e in expected[:100]]

        r = client.post("/predict", json=[[1.0, 2.0]])
        assert r.status_code == 400 and "expecting 4 features" in r.json()["error"]
        r = client.post("/predict", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "not valid JSON" in r.json()["error"]


def test_multi_model_script_serves_both_apis(tmp_path, iris_rows):
    _run_script("multi_model_service.py", tmp_path)
    x, _ = iris_rows
    with serve("MultiModelService:latest", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        for route in ("/predict_rf", "/predict_lr"):
            r = client.post(route, json=[x[0].tolist(), x[75].tolist(), x[149].tolist()])
            assert r.status_code == 200, r.text
            assert r.json() == [0, 1, 2]
        spec = client.get("/docs.json").json()
        assert {"/predict_rf", "/predict_lr"} <= set(spec["paths"])
