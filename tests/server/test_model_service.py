"""``bentotui serve --model TAG``: routes, examples that work as published, and outside Pythons."""

from __future__ import annotations

import dataclasses
import sys

import httpx
import pytest

from bentotui import config
from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import registry
from bentotui.server import serve as serve_module
from tests.helpers.server import serve


def _example(spec: dict, route: str):
    content = spec["paths"][route]["post"]["requestBody"]["content"]
    return next(iter(content.values()))["example"]


def test_published_example_is_accepted(iris_model, iris_lr, tmp_path):
    """The TUI pre-fills the request from /docs.json: that body must be a valid input."""
    with serve(model=str(iris_model.tag), cwd=tmp_path) as srv:
        spec = httpx.get(srv.url + "/docs.json").json()
        example = _example(spec, "/predict")
        assert example == [[0.0, 0.0, 0.0, 0.0]]
        r = httpx.post(srv.url + "/predict", json=example)
        assert r.status_code == 200, r.text
        assert r.json() == iris_lr.predict(example).tolist()


@pytest.fixture
def doubler_model():
    torch = pytest.importorskip("torch")  # not installable on every Python the suite runs on

    import bentotui

    doubler = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        doubler.weight.copy_(torch.eye(2) * 2)
    return bentotui.pytorch.save_model("doubler", doubler)


def test_torch_model_through_an_outside_python(doubler_model, tmp_path):
    """``--python`` starts the workers with the named interpreter (how the bundle runs torch)."""
    with serve(model="doubler", cwd=tmp_path, args=["--python", sys.executable]) as srv:
        assert "/predict" in httpx.get(srv.url + "/docs.json").json()["paths"]
        r = httpx.post(srv.url + "/predict", json=[[1.0, 2.0], [3.0, 4.0]])
        assert r.status_code == 200, r.text
        assert r.json() == [[2.0, 4.0], [6.0, 8.0]]


def test_missing_framework_needs_runner_python(doubler_model, monkeypatch):
    """A runner whose framework this program lacks asks for ``runner.python`` in one clear line."""
    runner = doubler_model.to_runner()
    row = dataclasses.replace(registry.framework("bentotui.pytorch"), import_packages=("no_such_framework_pkg",))
    monkeypatch.setitem(registry._BY_MODULE, "bentotui.pytorch", row)
    with pytest.raises(InvalidArgument, match="needs no_such_framework_pkg.*runner.python"):
        serve_module.outside_python(runner)
    config.set_value("runner.python", sys.executable)
    assert serve_module.outside_python(runner) == sys.executable


def test_framework_present_runs_in_process(doubler_model):
    assert serve_module.outside_python(doubler_model.to_runner()) is None


def test_python_must_be_a_file(tmp_path):
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "bentotui", "serve", "--model", "x", "--python", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2 and "is not a file" in out.stderr and "Traceback" not in out.stderr
