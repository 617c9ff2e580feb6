"""BentoML v1.1.11 examples/quickstart: train, check the model, serve service.py:svc, build, serve the bento."""

from __future__ import annotations

import json

import pytest

from tests.compat.examples._support import client, project


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    proj = project("v1_1/quickstart", tmp_path_factory.mktemp("quickstart"))
    out = proj.python("train.py")
    assert "Model saved:" in out and "iris_clf:" in out
    return proj


def test_models_get_and_local_runner(quickstart):
    info = json.loads(quickstart.cli("models", "get", "iris_clf:latest", "--output", "json"))
    assert info["name"] == "iris_clf"
    assert info["signatures"]["predict"]["batchable"] is True
    # loaded_model.predict([[5.9, 3., 5.1, 1.8]])  # => array(2), twice: the model, then init_local's runner
    assert quickstart.python("verify_model.py").split() == ["[2]", "[2]"]


def test_serve_service_and_classify(quickstart, iris_data):
    x, _ = iris_data
    with quickstart.serve("service.py:svc") as srv, client(srv) as http:
        # curl -X POST -H "content-type: application/json" --data "[[5.9, 3, 5.1, 1.8]]" .../classify
        r = http.post(
            "/classify", content="[[5.9, 3, 5.1, 1.8]]", headers={"content-type": "application/json"}
        )
        assert r.status_code == 200, r.text
        assert r.json() == [2]
        r = http.post("/classify", json=x[[0, 60, 120]].tolist())
        assert r.json() == [0, 1, 2]
        # the Bento UI at / and the OpenAPI document it reads
        assert http.get("/").status_code == 200
        assert "/classify" in http.get("/docs.json").json()["paths"]


def test_build_and_serve_bento(quickstart, tmp_path):
    quickstart.cli("build")
    listing = quickstart.cli("bentos", "list", "--output", "json")
    assert "iris_classifier" in listing
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with quickstart.serve("iris_classifier:latest", cwd=elsewhere) as srv, client(srv) as http:
        r = http.post("/classify", json=[[5.9, 3, 5.1, 1.8]])
        assert r.status_code == 200, r.text
        assert r.json() == [2]
