"""Run one of BentoML's published examples the way its README tells a user to.

Each example lives in a folder next to this file (``v1_1/quickstart/``, ``v1_2/sk_learn/``,
``gallery_0_13/iris_classifier/`` ...), rewritten from BentoML's repository with
``import bentotui as bentoml`` as the only change a user makes.  A test copies the folder into a
temporary directory, runs the README's commands there (``python train.py``, ``bentotui build``,
``bentotui serve service.py:svc``) with a home of its own, and sends the README's requests.

Datasets and weights that BentoML's examples download are replaced by data made in the
example itself (scikit-learn's bundled iris, generated text), so nothing touches the network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bentotui._process import self_command
from tests.helpers.server import RunningServer, serve

EXAMPLES = Path(__file__).parent


@dataclass
class Project:
    """An example copied into a temporary folder, with the BENTOTUI_HOME its commands use."""

    path: Path
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BENTOTUI_HOME": str(self.home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def python(self, *args: str, timeout: float = 180) -> str:
        """``python ARGS`` in the project folder (the venv's interpreter); returns stdout."""
        return self._run([sys.executable, *args], timeout)

    def cli(self, *args: str, timeout: float = 180) -> str:
        """``bentotui ARGS`` in the project folder; returns stdout."""
        return self._run([*self_command(), *args], timeout)

    def _run(self, argv: Sequence[str], timeout: float) -> str:
        done = subprocess.run(
            list(argv), cwd=self.path, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, (
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    @contextlib.contextmanager
    def serve(
        self,
        target: str | None,
        *,
        args: Sequence[str] = (),
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Iterator[RunningServer]:
        """``bentotui serve TARGET`` from the project folder (``None``: no TARGET, the bentofile's)."""
        with serve(target, cwd=cwd or self.path, env={**self.env, **(env or {})}, args=args) as srv:
            yield srv


def project(name: str, root: Path) -> Project:
    """Copy the example folder ``name`` (relative to this package) into ``root``."""
    home = root / "bentotui-home"
    home.mkdir(parents=True, exist_ok=True)
    dest = root / Path(name).name
    shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return Project(path=dest, home=home)


def client(srv: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=srv.url, timeout=60)


def iris_svc(**params):
    """The classifier most examples train: ``svm.SVC(**params)`` fitted on the whole iris set."""
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    return svm.SVC(**params).fit(iris.data, iris.target)
