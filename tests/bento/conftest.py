"""Fixtures for bento tests: a real iris service project and a bento built from it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

IRIS_SERVICE = textwrap.dedent(
    '''
    import bentotui
    from bentotui.io import JSON, NumpyNdarray

    runner = bentotui.models.get("iris:latest").to_runner()
    svc = bentotui.Service(name="iris_classifier", runners=[runner])


    @svc.api(input=NumpyNdarray(), output=JSON())
    async def classify(features):
        return (await runner.predict.async_run(features)).tolist()
    '''
)

BENTOFILE = textwrap.dedent(
    """
    service: "service:svc"
    description: "iris as a bento"
    labels:
      owner: tests
    include: ["*.py", "data/*.csv"]
    exclude: ["scratch_*.py"]
    python:
      packages: ["tabulate>=0.9"]
    docker:
      system_packages: ["libgomp1"]
      env: {OMP_NUM_THREADS: "1"}
    """
)

#: two iris rows, one setosa (0) and one virginica (2)
IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def write_project(folder: Path, bentofile: str = BENTOFILE) -> Path:
    """The iris service, its bentofile and files that the globs must keep or drop."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service.py").write_text(IRIS_SERVICE)
    (folder / "bentofile.yaml").write_text(bentofile)
    (folder / "scratch_notes.py").write_text("print('not packed')\n")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "labels.csv").write_text("0,setosa\n")
    (folder / "data" / "big.bin").write_bytes(b"\0" * 10)
    (folder / ".venv" / "lib").mkdir(parents=True, exist_ok=True)
    (folder / ".venv" / "lib" / "site.py").write_text("# never packed\n")
    (folder / "__pycache__").mkdir(exist_ok=True)
    (folder / "__pycache__" / "service.cpython-311.pyc").write_bytes(b"\0")
    return folder


@pytest.fixture
def iris_project(tmp_path: Path, iris_model) -> Path:
    """A project folder whose service serves the stored ``iris`` model."""
    return write_project(tmp_path / "project")


@pytest.fixture
def iris_bento(iris_project: Path):
    """The iris project built into the store."""
    from bentotui.bento.build import build_from_bentofile

    return build_from_bentofile(iris_project / "bentofile.yaml")
