"""Services typed into Jupyter cells, saved or built from a REAL kernel, then served for real.

nbformat builds the notebook, nbclient runs it on an ipykernel whose kernelspec (installed into a
temporary prefix) starts this venv's Python, with the test's BENTOTUI_HOME inherited.  A fresh
``bentotui serve NAME:latest`` process then imports the module bentotui extracted from the cells.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import serve

pytestmark = pytest.mark.slow

SEED = Path(__file__).parent / "seed"
KERNEL = "bentotui-test"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("kernels")
    install(prefix=str(prefix), kernel_name=KERNEL)  # argv: sys.executable -m ipykernel_launcher
    return str(prefix / "share" / "jupyter")


def run_notebook(cells: list[str], workdir: Path, kernel_path: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Execute ``cells`` in a fresh kernel started in ``workdir``; returns each cell's stdout."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", kernel_path + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(notebook, kernel_name=KERNEL, timeout=180, resources={"metadata": {"path": str(workdir)}}).execute()
    return ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout") for cell in notebook.cells]


def script_cells(script: Path) -> list[str]:
    """A script cut into one cell per top-level statement (comments before it included), as a
    user pastes a script into a notebook bit by bit."""
    text = script.read_text(encoding="utf-8")
    lines = text.splitlines()
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) for n in ast.parse(text).body]
    bounds = [0, *(s - 1 for s in starts[1:]), len(lines)]
    return ["\n".join(lines[a:b]).strip() for a, b in zip(bounds, bounds[1:], strict=False)]


IRIS_0X_CELLS = [
    "import bentotui as bentoml\n"
    "from bentotui.adapters import DataframeInput, JsonInput\n"
    "from bentotui.frameworks.sklearn import SklearnModelArtifact\n"
    "from bentotui.service.artifacts.common import PickleArtifact\n"
    "from sklearn.datasets import load_iris\n"
    "from sklearn.linear_model import LogisticRegression",
    "iris = load_iris()\nclf = LogisticRegression(max_iter=1000).fit(iris.data, iris.target)\n"
    "names = {i: str(n) for i, n in enumerate(iris.target_names)}",
    "def to_names(labels, classes):\n    return [classes[int(i)] for i in labels]",
    "@bentoml.artifacts([SklearnModelArtifact('model'), PickleArtifact('classes')])\n"
    "@bentoml.env(infer_pip_packages=True)\n"
    "class NotebookIris(bentoml.BentoService):\n"
    "    @bentoml.api(input=DataframeInput(), batch=True)\n"
    "    def predict(self, df):\n"
    "        return to_names(self.artifacts.model.predict(df), self.artifacts.classes)\n\n"
    "    @bentoml.api(input=JsonInput())\n"
    "    def classes(self, _):\n"
    "        return sorted(self.artifacts.classes.values())",
    "svc = NotebookIris()\nsvc.pack('model', clf)\nsvc.pack('classes', names)\nsaved_path = svc.save()\nprint(saved_path)",
    "!echo Colab-style shell lines are cells too",
    # 0.x's `bentoml.load(saved_path)` (the defining module is named while bentotui.load is not public)
    "from bentotui.service.bundle import load\nloaded = load(saved_path)\nprint(loaded.predict(iris.data[:2]))",
]


def test_0x_service_defined_in_cells_saves_and_serves(tmp_path, kernel_path, monkeypatch, iris_data):
    import bentotui

    out = run_notebook(IRIS_0X_CELLS, tmp_path, kernel_path, monkeypatch)
    bento = bentotui.bentos.get("notebookiris:latest")
    assert out[4].strip() == str(bento.path)
    assert out[6].strip() == "['setosa', 'setosa']"  # bentoml.load(path) in the same kernel
    module = (bento.path / "src" / "notebook_cells.py").read_text()
    assert "class NotebookIris" in module and "def to_names" in module
    assert ".fit(" not in module and "save()" not in module and "echo" not in module
    assert "scikit-learn" in (bento.path / "env" / "python" / "requirements.txt").read_text()  # the model's

    x, _ = iris_data
    elsewhere = tmp_path / "elsewhere"  # the server imports the bento's copy, not the kernel's folder
    elsewhere.mkdir()
    with serve("NotebookIris:latest", cwd=elsewhere) as srv:
        r = httpx.post(srv.url + "/predict", json=[x[0].tolist(), x[149].tolist()], timeout=30)
        assert r.status_code == 200, r.text
        assert r.json() == ["setosa", "virginica"]
        assert httpx.post(srv.url + "/classes", json={}, timeout=30).json() == ["setosa", "versicolor", "virginica"]
        bad = httpx.post(srv.url + "/predict", json=[[1.0]], timeout=30)
        assert bad.status_code == 400 and "features" in bad.json()["error"]


SERVICE_1X_CELLS = [
    "import numpy as np\nimport bentotui as bentoml\nfrom sklearn.datasets import load_iris\n"
    "from sklearn.linear_model import LogisticRegression",
    "iris = load_iris()\nbentoml.sklearn.save_model('iris_nb', LogisticRegression(max_iter=1000).fit(iris.data, iris.target))",
    "@bentoml.service\nclass CellIris:\n"
    "    def __init__(self):\n        self.model = bentoml.models.get('iris_nb:latest').load_model()\n\n"
    "    @bentoml.api\n    def predict(self, input: np.ndarray) -> np.ndarray:\n        return self.model.predict(input)",
    "runner = bentoml.models.get('iris_nb:latest').to_runner()\nsvc = bentoml.Service('cell_svc', runners=[runner])\n\n"
    "@svc.api(input=bentoml.io.NumpyNdarray(), output=bentoml.io.JSON())\n"
    "def classify(x):\n    return {'labels': runner.predict.run(x).tolist()}",
    # the build step a notebook user runs, both spellings of BentoML's Python build API
    "print(bentoml.build(CellIris).tag)\nprint(bentoml.bentos.build(svc).tag)",
]


def test_1x_service_and_12_class_defined_in_cells_build_and_serve(tmp_path, kernel_path, monkeypatch, iris_data):
    out = run_notebook(SERVICE_1X_CELLS, tmp_path, kernel_path, monkeypatch)
    tags = out[-1].split()
    assert [t.split(":")[0] for t in tags] == ["celliris", "cell_svc"]
    x, y = iris_data
    rows = [x[0].tolist(), x[75].tolist(), x[149].tolist()]
    with serve("celliris:latest", cwd=tmp_path) as srv:
        r = httpx.post(srv.url + "/predict", json={"input": rows}, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json() == [0, 1, 2]
    with serve("cell_svc:latest", cwd=tmp_path) as srv:
        r = httpx.post(srv.url + "/classify", json=rows, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json() == {"labels": [0, 1, 2]}


@pytest.mark.parametrize("script", sorted(SEED.glob("*.py")), ids=lambda p: p.stem)
def test_seed_scripts_run_as_notebook_cells(script, tmp_path, kernel_path, monkeypatch, iris_data):
    import bentotui

    run_notebook(script_cells(script), tmp_path, kernel_path, monkeypatch)
    (bento,) = bentotui.bentos.list()
    x, _ = iris_data
    rows = [x[0].tolist(), x[75].tolist(), x[149].tolist()]
    with serve(str(bento.tag), cwd=tmp_path) as srv:
        for api in bento.info.apis:
            r = httpx.post(srv.url + api.route, json=rows, timeout=30)
            assert r.status_code == 200, r.text
            assert r.json() == [0, 1, 2]
