"""BentoML v1.1.11 examples/pydantic_validation: JSON(pydantic_model=IrisFeatures) with extra="forbid"."""

from __future__ import annotations

import pytest

from tests.compat.examples._support import client, project


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proj = project("v1_1/pydantic_validation", tmp_path_factory.mktemp("pydantic"))
    proj.python("train.py")
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        yield srv, http


def test_expected_input(server):
    _, http = server
    body = {"sepal_len": 7.2, "sepal_width": 3.2, "petal_len": 5.2, "petal_width": 2.2}
    r = http.post("/classify", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == [2]
    r = http.post(
        "/classify", json={"sepal_len": 5.1, "sepal_width": 3.5, "petal_len": 1.4, "petal_width": 0.2}
    )
    assert r.json() == [0]


def test_optional_field(server):
    _, http = server
    body = {"sepal_len": 7.2, "sepal_width": 3.2, "petal_len": 5.2, "petal_width": 2.2, "request_id": 123}
    r = http.post("/classify", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == [2]
    r = http.post("/classify", json={**body, "request_id": "not a number"})
    assert r.status_code == 400 and "request_id" in r.text


def test_wrong_field_name(server):
    _, http = server
    body = {"sepal_len": 6.2, "sepal_width": 3.2, "petal_len": 5.2, "petal_width_typo": 2.2}
    r = http.post("/classify", json=body)
    assert r.status_code == 400, r.text
    # 2 validation errors for IrisFeatures: petal_width missing, petal_width_typo not permitted
    assert "petal_width" in r.text and "petal_width_typo" in r.text
    assert "Traceback" not in r.text
    r = http.post("/classify", json={**body, "petal_width": "wide"})
    assert r.status_code == 400
