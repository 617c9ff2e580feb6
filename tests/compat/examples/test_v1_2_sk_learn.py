"""BentoML v1.2.20 examples/sk-learn: bentoml.models.create + joblib, a @bentoml.service class, Shape validator."""

from __future__ import annotations

from tests.compat.examples._support import client, iris_svc, project

# examples/sk-learn/client.py sends these with bentoml.SyncHTTPClient
INPUT_SERIES = [
    [5.1, 3.5, 1.4, 0.2],
    [6.2, 2.9, 4.3, 1.3],
    [5.9, 3.0, 5.1, 1.8],
    [4.6, 3.1, 1.5, 0.2],
    [6.7, 3.1, 4.4, 1.4],
    [5.5, 2.6, 4.4, 1.2],
    [7.7, 3.0, 6.1, 2.3],
    [4.9, 3.0, 1.4, 0.2],
]


def test_sk_learn(tmp_path):
    proj = project("v1_2/sk_learn", tmp_path)
    assert "iris_sklearn:" in proj.python("prepare_model.py")
    assert "iris_sklearn" in proj.cli("models", "list")
    clf = iris_svc()
    with proj.serve(".") as srv, client(srv) as http:
        r = http.post("/classify", json={"input_series": INPUT_SERIES})
        assert r.status_code == 200, r.text
        assert r.json() == clf.predict(INPUT_SERIES).tolist() == [0, 1, 2, 0, 1, 1, 2, 0]
        # the Field default: [[5.2, 2.3, 5.0, 0.7]]
        r = http.post("/classify", json={})
        assert r.status_code == 200, r.text
        assert r.json() == clf.predict([[5.2, 2.3, 5.0, 0.7]]).tolist()
        # Shape((-1, 4)) rejects three columns
        r = http.post("/classify", json={"input_series": [[5.1, 3.5, 1.4]]})
        assert r.status_code == 400, r.text
        assert "input_series" in r.text
    proj.cli("build")
    assert "irisclassifier" in proj.cli("bentos", "list", "--output", "json")
