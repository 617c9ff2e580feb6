"""BentoML v1.1.11 examples/sklearn/{linear_regression,pipeline}."""

from __future__ import annotations

import json

import pytest

from tests.compat.examples._support import client, project


def test_linear_regression(tmp_path):
    proj = project("v1_1/linear_regression", tmp_path)
    out = proj.python("train.py")  # also runs the model through init_local()'s runner
    assert "coef:" in out and "linear_reg:" in out
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        # curl -X POST -H "content-type: application/json" --data "[[5, 3]]" .../predict
        r = http.post("/predict", content="[[5, 3]]", headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json() == pytest.approx([4.0])  # coef (0.5, 0.5)
        assert http.post("/predict", json=[[0, 0], [2, 4], [10, 10]]).json() == pytest.approx(
            [0.0, 3.0, 10.0]
        )


def test_sklearn_pipeline(tmp_path):
    proj = project("v1_1/sklearn_pipeline", tmp_path)
    out = proj.python("train.py")
    assert "Best parameters set:" in out and "twenty_news_group:" in out
    info = json.loads(proj.cli("models", "get", "twenty_news_group:latest", "--output", "json"))
    assert set(info["metadata"]) == {
        "clf__alpha",
        "clf__max_iter",
        "clf__penalty",
        "vect__max_df",
        "vect__ngram_range",
    }
    names = ["alt.atheism", "talk.religion.misc"]
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        headers = {"content-type": "application/text"}
        # curl -X POST -H "content-type: application/text" --data "hello world" .../predict
        r = http.post("/predict", content="hello world", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["result"] in names
        r = http.post("/predict", content="atheist evidence reason science argument", headers=headers)
        assert r.json() == {"result": "alt.atheism"}
        r = http.post("/predict", content="church prayer bible gospel worship", headers=headers)
        assert r.json() == {"result": "talk.religion.misc"}

        r = http.post("/predict_proba", content="hello world", headers=headers)
        assert r.status_code == 200, r.text
        proba = r.json()
        assert len(proba) == 2 and sum(proba) == pytest.approx(1.0) and all(0 <= p <= 1 for p in proba)
        proba = http.post("/predict_proba", content="church jesus faith", headers=headers).json()
        assert proba[1] > proba[0]
