"""``JSON``, with and without a pydantic model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import BaseModel, Field

from bentotui.exceptions import BadInput
from bentotui.io import JSON, HTTPRequest


class Address(BaseModel):
    city: str
    zip: str = "00000"


class Person(BaseModel):
    name: str
    age: int
    tags: list[str] = Field(default_factory=list)
    address: Address | None = None


async def test_plain_json_round_trip():
    desc = JSON()
    value = await desc.from_http(HTTPRequest(b'{"a": [1, 2.5, null]}', "application/json"))
    assert value == {"a": [1, 2.5, None]}
    resp = desc.to_http({"scores": np.array([0.25, 0.75]), "label": np.int64(1)})
    assert resp.content_type == "application/json"
    assert json.loads(resp.body) == {"scores": [0.25, 0.75], "label": 1}


async def test_plain_json_bad_body():
    with pytest.raises(BadInput, match="request body is not valid JSON"):
        await JSON().from_http(HTTPRequest(b"{nope}", "application/json"))


async def test_pydantic_model_instance_is_passed():
    person = await JSON(Person).from_http(HTTPRequest(b'{"name": "Ann", "age": "41"}', "application/json"))
    assert isinstance(person, Person) and person.age == 41


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": "Ann", "age": "old"}', "body.age: Input should be a valid integer"),
        (b'{"age": 3}', "body.name: Field required"),
        (b'{"name": "A", "age": 1, "tags": ["x", 2]}', "body.tags[1]: Input should be a valid string"),
        (b'{"name": "A", "age": 1, "address": {}}', "body.address.city: Field required"),
        (b'{"name": ', "body: Invalid JSON"),
        (b"", "body: Invalid JSON"),
    ],
)
async def test_pydantic_errors_name_the_field(body, message):
    with pytest.raises(BadInput) as info:
        await JSON(Person).from_http(HTTPRequest(body, "application/json"))
    assert message in info.value.message
    assert info.value.detail and all({"loc", "msg"} <= set(e) for e in info.value.detail)


async def test_pydantic_reports_every_bad_field():
    with pytest.raises(BadInput) as info:
        await JSON(Person).from_http(HTTPRequest(b"{}", "application/json"))
    assert [e["loc"] for e in info.value.detail] == ["body.name", "body.age"]


def test_pydantic_output():
    resp = JSON().to_http(Person(name="Ann", age=3))
    assert json.loads(resp.body) == {"name": "Ann", "age": 3, "tags": [], "address": None}


def test_rejects_a_non_model_class():
    with pytest.raises(TypeError, match="pydantic BaseModel class"):
        JSON(pydantic_model=dict)


def test_openapi_with_model_uses_components():
    desc = JSON(Person)
    assert desc.openapi_schema() == {"$ref": "#/components/schemas/Person"}
    components = desc.openapi_components()
    assert set(components) == {"Person", "Address"}
    assert "$defs" not in components["Person"]
    refs = json.dumps(components["Person"])
    assert "#/components/schemas/Address" in refs
    assert desc.openapi_example() == {"name": "string", "age": 0, "tags": ["string"], "address": None}


def test_openapi_examples():
    assert JSON().openapi_example() == {} and JSON().openapi_schema() == {}
    assert JSON(example={"text": "hi"}).openapi_example() == {"text": "hi"}
    assert JSON(Person, example=Person(name="Bo", age=7)).openapi_example()["name"] == "Bo"


def test_non_finite_results_are_written_as_null():
    """Strict JSON (``JSON.parse`` rejects NaN): NaN and the infinities become null, keys too."""
    value = {
        "floats": [float("nan"), float("inf"), -float("inf"), 0.5],
        "numpy": np.array([np.nan, 1.0], dtype=np.float32),
        float("nan"): (np.float64("inf"), {1, 2}),
        "ok": [True, None, "s", 3],
    }
    body = JSON().to_http(value).body
    assert json.loads(body, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "floats": [None, None, None, 0.5],
        "numpy": [None, 1.0],
        "null": [None, [1, 2]],
        "ok": [True, None, "s", 3],
    }
    assert JSON().to_http([1.5, "x"]).body == b'[1.5,"x"]'


def test_encoding_errors_other_than_non_finite_floats_still_raise():
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        JSON().to_http(circular)
    with pytest.raises(TypeError, match="cannot encode a builtins.object"):
        JSON().to_http([float("nan"), object()])


async def test_a_declared_charset_is_honoured_and_a_bogus_one_is_415():
    req = HTTPRequest('{"name": "café"}'.encode("cp1252"), "application/json; charset=windows-1252")
    assert await JSON().from_http(req) == {"name": "café"}
    assert await JSON().from_http(HTTPRequest(b"[1]", "application/json; charset=UTF-8")) == [1]
    with pytest.raises(BadInput, match="not a character set 'punycode'") as info:
        await JSON().from_http(HTTPRequest(b"[1]", "application/json; charset=punycode"))
    assert info.value.http_status == 415
