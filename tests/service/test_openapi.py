"""``/docs.json``: structure of the OpenAPI 3.1 document (no validator package: checked by hand)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

import bentotui
from bentotui.io import JSON, File, Image, NumpyNdarray, PandasDataFrame, Text
from bentotui.service import Service
from bentotui.service.openapi import INFRA_TAG, openapi_spec


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
    assert {t["name"] for t in spec["tags"]} == {"service APIs", INFRA_TAG}


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
    assert op["tags"] == ["service APIs"]
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
    assert op["summary"] == "echo" and "description" not in op
