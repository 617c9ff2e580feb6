"""BentoML v1.1.11 examples/custom_web_serving/{fastapi_example,flask_example}: apps mounted on a Service."""

from __future__ import annotations

import json

from tests.compat.examples._support import client, iris_svc, project

FEATURES = ["sepal_len", "sepal_width", "petal_len", "petal_width"]


def _features(row):
    return dict(zip(FEATURES, row, strict=True))


def test_fastapi_example(tmp_path):
    proj = project("v1_1/fastapi_example", tmp_path)
    proj.python("train.py")
    model = json.loads(proj.cli("models", "get", "iris_clf_with_feature_names:latest", "--output", "json"))
    clf = iris_svc()
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        body = {"sepal_len": 7.2, "sepal_width": 3.2, "petal_len": 5.2, "petal_width": 2.2}
        r = http.post("/predict_bentoml", json=body)
        assert r.status_code == 200, r.text
        assert r.json() == [2]

        body = {"sepal_len": 6.2, "sepal_width": 3.2, "petal_len": 5.2, "petal_width": 2.2}
        for route in ("/predict_fastapi", "/predict_fastapi_async"):
            r = http.post(route, json=body)
            assert r.status_code == 200, (route, r.text)
            assert r.json() == {"prediction": 2}
        for row in ([5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5]):
            expected = int(clf.predict([row])[0])
            assert http.post("/predict_fastapi", json=_features(row)).json() == {"prediction": expected}
            assert http.post("/predict_bentoml", json=_features(row)).json() == [expected]

        r = http.get("/metadata")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "iris_clf_with_feature_names", "version": model["version"]}
        # FastAPI validates its own body (422), the BentoML API its pydantic model (400)
        assert http.post("/predict_fastapi", json={"sepal_len": 1}).status_code == 422
        assert http.post("/predict_bentoml", json={"sepal_len": 1}).status_code == 400
        # the service's own routes still answer beside the mounted app
        assert http.get("/healthz").status_code == 200
        assert "/predict_bentoml" in http.get("/docs.json").json()["paths"]


def test_flask_example(tmp_path):
    proj = project("v1_1/flask_example", tmp_path)
    proj.python("train.py")
    model = json.loads(proj.cli("models", "get", "iris_clf:latest", "--output", "json"))
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        headers = {"content-type": "application/json"}
        r = http.post("/predict_bentoml", content="[[5.9, 3, 5.1, 1.8]]", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == [2]

        r = http.get("/metadata")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "iris_clf", "version": model["version"]}

        r = http.post("/predict_flask", content="[[5.9, 3, 5.1, 1.8]]", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == [2]
        r = http.post(
            "/predict_flask", content="[[5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5]]", headers=headers
        )
        assert r.json() == [0, 1]
        r = http.post("/predict_flask", content="5.9,3,5.1,1.8", headers={"content-type": "text/csv"})
        assert r.text == "Content-Type not supported!"
        assert http.get("/healthz").status_code == 200
