"""BentoML's own clients against real bentotui servers: the wire contract, checked end to end.

BentoML 1.4 (``bentoml.SyncHTTPClient``, ``AsyncHTTPClient``, 1.x ``bentoml.client.Client``) runs
in a virtual environment of its own: ``$BENTOML_VENV`` when set (one with bentoml 1.4 installed),
else one built here from PyPI (bounded by ``BUILD_TIMEOUT_S``).  ``bentoml_driver.py`` runs in it
and asserts every answer; this test starts the servers (a 1.2 ``@service`` class, with a
``@bentoml.task`` and a streaming method besides, and a 1.x ``Service``, both serving an iris
model trained in the test) and hands it their URLs.
``scripts/check_bentoml_clients.sh`` runs just this file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.server import serve

HERE = Path(__file__).parent
BENTOML_REQUIREMENT = "bentoml==1.4.*"
BUILD_TIMEOUT_S = 900
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def _has_bentoml(python: Path) -> bool:
    probe = subprocess.run([python, "-c", "import bentoml"], capture_output=True, timeout=120)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def bentoml_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtual environment with BentoML 1.4."""
    given = os.environ.get("BENTOML_VENV")
    if given:
        python = Path(given) / "bin" / "python"
        assert python.exists() and _has_bentoml(python), f"BENTOML_VENV={given} has no python with bentoml"
        return python
    venv = tmp_path_factory.mktemp("bentoml-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", BENTOML_REQUIREMENT],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert install.returncode == 0, f"pip install {BENTOML_REQUIREMENT} failed:\n{install.stderr[-3000:]}"
    return python


@pytest.mark.timeout(BUILD_TIMEOUT_S + 300)  # the venv build is part of the fixture's setup
def test_bentoml_clients_call_bentotui_servers(bentoml_python, iris_model, iris_lr, tmp_path):
    services = tmp_path / "services"
    shutil.copytree(HERE / "services", services)
    expected = iris_lr.predict(np.array(ROWS)).tolist()
    with (
        serve("class_service:IrisClassifier", cwd=services) as class_server,
        serve("v1_service:svc", cwd=services) as v1_server,
    ):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "BENTOML_HOME": str(tmp_path / "bentoml-home"),
            "BENTOML_DO_NOT_TRACK": "True",
        }
        check = subprocess.run(
            [bentoml_python, HERE / "bentoml_driver.py", class_server.url, v1_server.url,
             json.dumps({"rows": ROWS, "expected": expected})],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    assert check.returncode == 0, f"{check.stdout}\n{check.stderr[-5000:]}"
    assert "all checks passed" in check.stdout
