"""Schemathesis over ``/docs.json``: generated requests from the spec find no 5xx and no response
that contradicts the spec (status code, content type, body schema), on an automatic service.

Bounded in examples and time (``--max-time``); the seed is fixed so a failure reproduces.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.server import serve

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_generated_requests_find_no_server_error_or_spec_violation(tmp_path, iris_model):
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a dev dependency (pyproject.toml)"
    with serve(model=str(iris_model.tag), cwd=tmp_path) as srv:
        run = subprocess.run(
            [st, "run", srv.url + "/docs.json", "--checks", CHECKS, "--max-examples", "20", "--seed", "1",
             "--max-time", "40", "--no-color"],
            capture_output=True, text=True, timeout=180, cwd=tmp_path,
        )
    assert run.returncode == 0, run.stdout[-4000:]
    assert " generated, " in run.stdout and " passed" in run.stdout  # cases were run, all passed
