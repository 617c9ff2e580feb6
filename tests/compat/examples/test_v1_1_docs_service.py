"""BentoML v1.1.11 docs/source/concepts/service.rst: bentoml.Context (request, response, state, hooks)
and the Multipart IO descriptor."""

from __future__ import annotations

import json

from tests.compat.examples._support import client, project


def test_inference_context(tmp_path):
    proj = project("v1_1/docs_context", tmp_path)
    proj.python("train.py")
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        r = http.post("/predict", json=[[5.9, 3.0, 5.1, 1.8], [5.1, 3.5, 1.4, 0.2]])
        assert r.status_code == 202, r.text
        assert r.json() == [2, 0]
        assert r.headers["x-custom-header"] == "value"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("key=value") and "Path=/predict" in cookie
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=None" in cookie
        r = http.post("/state", content="hi", headers={"content-type": "text/plain"})
        assert r.status_code == 200, r.text
        assert r.json() == {"db_open": True, "echo": "hi"}
        srv.stop()
        assert "Traceback" not in srv.log_text()  # the shutdown hook found its state


def test_multipart(tmp_path):
    proj = project("v1_1/docs_multipart", tmp_path)
    proj.python("train.py")
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        flower = {"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5}
        files = {
            "arr": (None, json.dumps([[5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5]]), "application/json"),
            "json": (None, json.dumps(flower), "application/json"),
        }
        r = http.post("/multi_part_predict", files=files)
        assert r.status_code == 200, r.text
        assert r.json() == [0, 1, 2]
        # enforce_shape: three columns are a 400; a wrong JSON part too
        files["arr"] = (None, json.dumps([[5.1, 3.5, 1.4]]), "application/json")
        assert http.post("/multi_part_predict", files=files).status_code == 400
        files["arr"] = (None, json.dumps([[5.1, 3.5, 1.4, 0.2]]), "application/json")
        files["json"] = (None, json.dumps({"sepal_length": 1}), "application/json")
        assert http.post("/multi_part_predict", files=files).status_code == 400
        schema = http.get("/docs.json").json()["paths"]["/multi_part_predict"]["post"]["requestBody"]
        assert "multipart/form-data" in schema["content"]
