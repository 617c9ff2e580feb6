"""bentoml/gallery, branch 0.13-LTS, scikit-learn/*: BentoML 0.x BentoService notebooks.

Each notebook writes a service module (``%%writefile``), runs a training script that packs and
saves the service, then ``bentoml serve Name:latest`` and curl against it (0.x port 5000; the
tests take a free port).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.compat.examples._support import client, iris_svc, project


def _saved_path(out: str) -> Path:
    path = Path(out.strip().splitlines()[-1])
    assert path.is_dir(), out
    return path


def test_iris_classifier(tmp_path):
    proj = project("gallery_0_13/iris_classifier", tmp_path)
    saved = _saved_path(proj.python("main.py"))
    assert (saved / "bento.yaml").exists()
    clf = iris_svc(gamma="scale")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with proj.serve("IrisClassifier:latest", cwd=elsewhere) as srv, client(srv) as http:
        # curl -i --header "Content-Type: application/json" --request POST --data '[[1,2,1,2]]' localhost:5000/predict
        r = http.post("/predict", content="[[1,2,1,2]]", headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json() == clf.predict([[1, 2, 1, 2]]).tolist()
        rows = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]
        assert http.post("/predict", json=rows).json() == [0, 1, 2]
        # `bentoml run IrisClassifier:latest predict --input '[[5, 4, 3, 2]]'` has no bentotui command;
        # the same input over HTTP
        assert http.post("/predict", json=[[5, 4, 3, 2]]).json() == clf.predict([[5, 4, 3, 2]]).tolist()


def test_iris_classifier_web_static_content(tmp_path):
    proj = project("gallery_0_13/iris_classifier_web_ui", tmp_path)
    proj.python("main.py")
    with proj.serve("IrisClassifier:latest", cwd=tmp_path) as srv, client(srv) as http:
        r = http.get("/")
        assert r.status_code == 200, r.text
        assert "<h1>Iris Classifier</h1>" in r.text
        assert http.get("/css/styles.css").text.startswith("body")
        assert "fetch(" in http.get("/js/scripts.js").text
        # "It's still possible to access the swagger docs at /docs"
        assert http.get("/docs").status_code == 200
        r = http.post("/test", json=[[5.1, 3.5, 1.4, 0.2]])
        assert r.status_code == 200, r.text
        assert r.json() == [0]


def test_sentiment_analysis(tmp_path):
    proj = project("gallery_0_13/sentiment_analysis", tmp_path)
    out = proj.python("train.py")
    assert "precision" in out  # the classification report
    _saved_path(out)
    with proj.serve("SKSentimentAnalysis:latest", cwd=tmp_path) as srv, client(srv) as http:
        # the notebook's curl sends three strings; its predict() reads the first row only
        # (df.iloc[0, :]), so each request here sends one
        for text, polarity in (("happy time", 4), ("sad day", 0), ("some new text, sweet noodles", 4)):
            r = http.post(
                "/predict", content=json.dumps([text]), headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 200, r.text
            assert r.json() == [polarity], text


def test_titanic_multiple_models_json_input(tmp_path):
    proj = project("gallery_0_13/titanic", tmp_path)
    _saved_path(proj.python("train.py"))
    table = json.loads((proj.path / "x_test.json").read_text())
    with proj.serve("TitanicSurvivalPredictionService:latest", cwd=tmp_path) as srv, client(srv) as http:
        r = http.post("/predict", json=table)
        assert r.status_code == 200, r.text
        result = json.loads(r.json())  # a list of JSON strings: one per request
        rows = result["data"]
        assert len(rows) == len(table["data"]) == 80
        assert {"xgb_proba", "lgb_proba"} <= set(rows[0])
        assert all(0.0 <= row["xgb_proba"] <= 1.0 and 0.0 <= row["lgb_proba"] <= 1.0 for row in rows)
