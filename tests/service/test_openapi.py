"""``/docs.json`` (OpenAPI 3.1, checked by hand: no validator package) and ``/schema.json``, the
documents BentoML's clients read."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

import bentotui
from bentotui.io import JSON, File, Image, NumpyNdarray, PandasDataFrame, Text
from bentotui.service import Service
from bentotui.service.classes import to_service
from bentotui.service.openapi import INFRA_TAG, openapi_spec
from bentotui.service.schema import service_schema
from tests.helpers.server import serve


class Review(BaseModel):
    text: str
    stars: int = 5


class Verdict(BaseModel):
    label: str


def _build() -> Service:
    svc = Service("showcase")
    apis = {
        "classify": (Text(example="Great movie!"), JSON()),
        "review": (JSON(Review), JSON(Verdict)),
        "iris": (NumpyNdarray.from_sample(np.array([[5.1, 3.5, 1.4, 0.2]])), NumpyNdarray()),
        "table": (PandasDataFrame(columns=["a", "b"]), PandasDataFrame()),
        "upload": (File(mime_type="application/pdf"), File()),
        "thumbnail": (Image(), Image(mime_type="image/png")),
    }
    for name, (input_, output) in apis.items():
        svc.add_api(
            lambda value: value, input=input_, output=output, name=name, doc=f"The {name} API.\n\nDetails."
        )
    return svc


@pytest.fixture
def spec() -> dict[str, Any]:
    return openapi_spec(_build())


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_basics(spec):
    assert json.loads(json.dumps(spec)) == spec
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {
        "title": "showcase",
        "version": bentotui.__version__,
        "description": "APIs of the bentotui service 'showcase'.",
    }
    assert {t["name"] for t in spec["tags"]} == {"Service APIs", INFRA_TAG}


def test_every_ref_resolves(spec):
    schemas = spec["components"]["schemas"]
    refs = _refs(spec)
    assert "#/components/schemas/Review" in refs and "#/components/schemas/Verdict" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas


def test_operations_are_well_formed(spec):
    operation_ids = []
    for route, item in spec["paths"].items():
        assert route.startswith("/")
        for method, op in item.items():
            assert method in {"get", "post"}
            assert op["responses"] and all(r["description"] for r in op["responses"].values())
            operation_ids.append(op["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.parametrize(
    ("name", "media_type", "example"),
    [
        ("classify", "text/plain", "Great movie!"),
        ("review", "application/json", {"text": "string", "stars": 5}),
        ("iris", "application/json", [[5.1, 3.5, 1.4, 0.2]]),
        ("table", "application/json", [{"a": 0, "b": 0}]),
        ("upload", "application/pdf", None),
        ("thumbnail", "image/*", None),
    ],
)
def test_each_api_with_its_example(spec, name, media_type, example):
    op = spec["paths"][f"/{name}"]["post"]
    assert op["operationId"] == op["x-bentotui-api-name"] == name
    assert op["summary"] == f"The {name} API." and "Details." in op["description"]
    assert op["tags"] == ["Service APIs"] and op["x-bentoml-name"] == name
    content = op["requestBody"]["content"]
    assert op["requestBody"]["required"] is True
    first = next(iter(content))
    assert first == media_type and "schema" in content[first]
    assert content[first].get("example") == example
    assert set(op["responses"]) >= {"200", "400", "500", "503"}
    for status in ("400", "500", "503"):
        assert op["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert op["responses"]["200"]["content"]


def test_io_and_response_types(spec):
    paths = spec["paths"]
    assert paths["/iris"]["post"]["x-bentotui-io"] == {"input": "NumpyNdarray", "output": "NumpyNdarray"}
    assert "text/csv" in paths["/table"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in paths["/upload"]["post"]["requestBody"]["content"]
    assert list(paths["/thumbnail"]["post"]["responses"]["200"]["content"]) == ["image/png"]
    assert paths["/review"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Verdict"
    }
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]


def test_infrastructure_routes(spec):
    for route in ("/healthz", "/livez", "/readyz", "/metrics"):
        op = spec["paths"][route]["get"]
        assert op["tags"] == [INFRA_TAG] and "200" in op["responses"]
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]


def test_api_without_doc_is_summarised_by_name():
    svc = Service("bare")

    @svc.api(input=Text(), output=Text())
    def echo(text):
        return text

    op = openapi_spec(svc)["paths"]["/echo"]["post"]
    assert op["summary"] == "echo" and op["description"] == ""  # BentoML 1.x's client reads it


@pytest.mark.parametrize(
    ("name", "request_spec", "response_spec"),
    [
        ("classify", {"id": "bentoml.io.Text"}, {"id": "bentoml.io.JSON", "args": {"has_pydantic_model": False, "has_json_encoder": False}}),
        ("review", {"id": "bentoml.io.JSON", "args": {"has_pydantic_model": True, "has_json_encoder": False}}, {"id": "bentoml.io.JSON", "args": {"has_pydantic_model": True, "has_json_encoder": False}}),
        (
            "iris",
            {"id": "bentoml.io.NumpyNdarray", "args": {"dtype": "float64", "shape": [-1, 4], "enforce_dtype": False, "enforce_shape": False}},
            {"id": "bentoml.io.NumpyNdarray", "args": {"dtype": None, "shape": None, "enforce_dtype": False, "enforce_shape": False}},
        ),
        ("upload", {"id": "bentoml.io.File", "args": {"kind": "binaryio", "mime_type": "application/pdf"}}, {"id": "bentoml.io.File", "args": {"kind": "binaryio", "mime_type": None}}),
        (
            "thumbnail",
            {"id": "bentoml.io.Image", "args": {"pilmode": None, "mime_type": "image/jpeg", "allowed_mime_types": ["image/*"]}},
            {"id": "bentoml.io.Image", "args": {"pilmode": None, "mime_type": "image/png", "allowed_mime_types": ["image/*"]}},
        ),
    ],
)
def test_bentoml_1x_io_descriptor_specs(spec, name, request_spec, response_spec):
    op = spec["paths"][f"/{name}"]["post"]
    assert op["requestBody"]["x-bentoml-io-descriptor"] == request_spec
    assert op["responses"]["200"]["x-bentoml-io-descriptor"] == response_spec


def test_dataframe_descriptor_spec(spec):
    args = spec["paths"]["/table"]["post"]["requestBody"]["x-bentoml-io-descriptor"]["args"]
    assert args["orient"] == "records" and args["columns"] == ["a", "b"] and args["default_format"] == "json"


# --- /schema.json ---------------------------------------------------------------------------------


def test_service_schema_of_1x_descriptors_takes_one_root_input():
    schema = service_schema(_build())
    assert schema["name"] == "showcase" and schema["type"] == "service"
    routes = {route["name"]: route for route in schema["routes"]}
    assert list(routes) == ["classify", "review", "iris", "table", "upload", "thumbnail"]
    for route in routes.values():
        assert route["route"] == "/" + route["name"] and route["input"]["root_input"] is True
        assert route["batchable"] is False and route["is_task"] is False
        assert route["description"].startswith(f"The {route['name']} API.")
    assert routes["classify"]["input"]["type"] == "string"
    assert routes["iris"]["input"] == {"type": "tensor", "format": "numpy-array", "dtype": "float64", "shape": [-1, 4], "root_input": True}
    assert routes["iris"]["output"] == {"type": "tensor", "format": "numpy-array"}
    assert routes["table"]["input"] == {"type": "dataframe", "orient": "records", "columns": ["a", "b"], "root_input": True}
    assert routes["upload"]["input"]["type"] == "file" and routes["upload"]["input"]["content_type"] == "application/pdf"
    assert routes["thumbnail"]["output"] == {"type": "file", "format": "image", "pil": True}
    review = routes["review"]
    assert review["input"]["properties"]["stars"] == {"default": 5, "title": "Stars", "type": "integer"}
    assert review["output"]["properties"] == {"label": {"title": "Label", "type": "string"}}


class Address(BaseModel):
    city: str


class Person(BaseModel):
    name: str
    home: Address


class Opaque:
    """A parameter type pydantic has no JSON schema for."""


@bentotui.service
class Typed:
    @bentotui.api(batchable=True)
    def predict(self, input: np.ndarray) -> np.ndarray:
        return input

    @bentotui.api
    def greet(self, person: Person, times: int = 1) -> str:
        return person.name * times

    @bentotui.api
    def frame(self, df: pd.DataFrame) -> dict:
        return {}

    @bentotui.api
    def opaque(self, thing: Opaque, label: str = "") -> dict:
        return {}


def test_service_schema_of_class_methods_takes_keywords():
    routes = {route["name"]: route for route in service_schema(to_service(Typed))["routes"]}
    predict = routes["predict"]["input"]
    assert "root_input" not in predict and predict["required"] == ["input"]
    assert predict["properties"]["input"] == {"title": "Input", "type": "tensor", "format": "numpy-array"}
    assert routes["frame"]["input"]["properties"]["df"]["type"] == "dataframe"
    greet = routes["greet"]["input"]
    assert greet["properties"]["person"]["properties"]["home"]["properties"] == {"city": {"title": "City", "type": "string"}}
    assert "$defs" not in json.dumps(greet) and greet["properties"]["times"]["default"] == 1
    assert routes["greet"]["output"] == {"type": "string"}
    assert routes["predict"]["output"] == {"type": "tensor", "format": "numpy-array"}  # -> np.ndarray
    assert routes["predict"]["batchable"] is True and routes["greet"]["batchable"] is False


def test_undescribable_api_gets_permissive_schemas_and_one_warning(caplog):
    svc = to_service(Typed)
    with caplog.at_level(logging.WARNING, logger="bentotui.server"):
        schema = service_schema(svc)
        spec = openapi_spec(svc)
        service_schema(svc)
    opaque = next(route for route in schema["routes"] if route["name"] == "opaque")
    assert opaque["input"] == {"type": "object", "properties": {"thing": {}, "label": {}}, "required": ["thing"]}
    assert spec["paths"]["/opaque"]["post"]["requestBody"]["content"] == {"application/json": {"schema": {}}}
    assert "person" in json.dumps(spec["components"]["schemas"]).lower()  # the other APIs are whole
    warnings = [r for r in caplog.records if "'opaque'" in r.getMessage()]
    assert len(warnings) == 1 and "PydanticInvalidForJsonSchema" in warnings[0].getMessage()


def test_server_answers_both_documents_despite_an_undescribable_api(tmp_path):
    (tmp_path / "typed.py").write_text(
        "import bentotui\n\nclass Opaque:\n    pass\n\n@bentotui.service\nclass Svc:\n"
        "    @bentotui.api\n    def ok(self, text: str) -> str:\n        return text\n\n"
        "    @bentotui.api\n    def odd(self, thing: Opaque) -> str:\n        return ''\n"
    )
    with serve("typed:Svc", cwd=tmp_path) as srv:
        for _ in range(2):
            for route in ("/schema.json", "/docs.json"):
                answer = httpx.get(srv.url + route)
                assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        schema = httpx.get(srv.url + "/schema.json").json()
        assert {route["name"] for route in schema["routes"]} == {"ok", "odd"}
        assert httpx.post(srv.url + "/ok", json={"text": "hi"}).text == "hi"
        log = srv.log_text()
    assert log.count("'odd' of service 'svc' has no describable schema") == 1
