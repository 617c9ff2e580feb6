"""BentoML v1.1.11 examples/custom_python_model: a plain function and a custom class via picklable_model."""

from __future__ import annotations

from tests.compat.examples._support import client, project


def test_simple_pickable_model(tmp_path):
    proj = project("v1_1/simple_pickable_model", tmp_path)
    assert "my_python_model:" in proj.python("model.py")
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        # curl -X POST -H "content-type: application/json" --data "[1,2,3,4,5]" .../square
        r = http.post("/square", content="[1,2,3,4,5]", headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json() == [1, 4, 9, 16, 25]
        assert http.post("/square", json=[7]).json() == [49]


def test_lda_classifier(tmp_path, iris_data):
    x, y = iris_data
    proj = project("v1_1/lda_classifier", tmp_path)
    out = proj.python("train.py")
    assert "Accuracy:" in out and "iris_clf_lda:" in out
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        # curl -X POST -H "content-type: application/json" --data "[[5.9, 3, 5.1, 1.8]]" .../classify
        r = http.post(
            "/classify", content="[[5.9, 3, 5.1, 1.8]]", headers={"content-type": "application/json"}
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        assert isinstance(answer, list) and len(answer) == 1 and answer[0] in (0, 1)
        # the model's class (lda.LDA, pickled by reference) came back in the runner worker
        rows = x[[0, 10, 20, 60, 70, 80]].tolist()
        answer = http.post("/classify", json=rows).json()
        assert len(answer) == 6 and set(answer) <= {0, 1}
        # dtype float, shape (-1, 4) are declared, not enforced: 3 columns reach the model and fail there
        assert http.post("/classify", json=[[1.0, 2.0]]).status_code in (400, 500)
