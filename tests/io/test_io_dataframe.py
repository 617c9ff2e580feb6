"""``PandasDataFrame``: orients, CSV, columns and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bentotui.exceptions import BadInput
from bentotui.io import HTTPRequest, PandasDataFrame

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def req(body: bytes | str, content_type: str = "application/json") -> HTTPRequest:
    return HTTPRequest(body.encode() if isinstance(body, str) else body, content_type)


@pytest.mark.parametrize(
    ("orient", "body"),
    [
        ("records", [{"a": 1, "b": 2.5}, {"a": 3, "b": 4.5}]),
        ("columns", {"a": {"0": 1, "1": 3}, "b": {"0": 2.5, "1": 4.5}}),
        ("split", {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4.5]]}),
        ("index", {"0": {"a": 1, "b": 2.5}, "1": {"a": 3, "b": 4.5}}),
    ],
)
async def test_orients(orient, body):
    frame = await PandasDataFrame(orient).from_http(req(json.dumps(body)))
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1, 3] and frame["b"].tolist() == [2.5, 4.5]


async def test_values_orient_named_by_columns():
    frame = await PandasDataFrame("values", columns=COLUMNS).from_http(req("[[5.1, 3.5, 1.4, 0.2]]"))
    assert list(frame.columns) == COLUMNS and frame.shape == (1, 4)


async def test_values_orient_wrong_width():
    with pytest.raises(BadInput, match=r"expected 4 columns \(sepal_length, .*\), got 2"):
        await PandasDataFrame("values", columns=COLUMNS).from_http(req("[[5.1, 3.5]]"))


async def test_columns_are_checked_ordered_and_trimmed():
    desc = PandasDataFrame(columns=["b", "a"])
    frame = await desc.from_http(req('[{"a": 1, "b": 2, "extra": 3}]'))
    assert list(frame.columns) == ["b", "a"]
    with pytest.raises(BadInput, match="missing columns: b") as info:
        await desc.from_http(req('[{"a": 1}]'))
    assert info.value.detail == {"missing": ["b"]}


async def test_csv_body():
    desc = PandasDataFrame(columns=["a", "b"], dtype={"a": "float32"})
    frame = await desc.from_http(req("b,a\n2,1\n4,3\n", "text/csv; charset=utf-8"))
    assert list(frame.columns) == ["a", "b"] and frame["a"].dtype == np.float32
    assert frame["b"].tolist() == [2, 4]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty; expected CSV"),
        (b'a,b\n1,2\n"3,4\n', "request body is not valid CSV"),
    ],
)
async def test_bad_csv(body, message):
    with pytest.raises(BadInput, match=message):
        await PandasDataFrame().from_http(req(body, "text/csv"))


async def test_dtype_conversion_names_the_column():
    desc = PandasDataFrame(dtype={"age": "int64"})
    frame = await desc.from_http(req('[{"age": "41", "name": "x"}]'))
    assert frame["age"].tolist() == [41]
    with pytest.raises(BadInput, match="column 'age': cannot convert to int64"):
        await desc.from_http(req('[{"age": "old"}]'))


async def test_single_dtype_applies_to_every_column():
    frame = await PandasDataFrame(dtype="float32").from_http(req('[{"a": 1, "b": 2}]'))
    assert set(frame.dtypes) == {np.dtype("float32")}


@pytest.mark.parametrize(
    ("orient", "body", "message"),
    [
        ("records", '{"a": 1}', "orient 'records' expects a JSON array of rows"),
        ("records", "[1, 2]", "orient 'records' expects a JSON array of rows"),
        ("values", "[1, 2]", "orient 'values' expects a JSON array of arrays"),
        ("columns", "[1, 2]", "orient 'columns' expects a JSON object"),
        ("split", '{"columns": ["a"]}', "orient 'split' expects an object with 'columns' and 'data'"),
        ("split", '{"columns": ["a"], "data": [[1, 2]]}', "not a table in orient 'split'"),
        ("columns", '{"a": 1, "b": 2}', "not a table in orient 'columns'"),
        ("records", "[{", "not valid JSON"),
    ],
)
async def test_bad_json_tables(orient, body, message):
    with pytest.raises(BadInput, match=message):
        await PandasDataFrame(orient).from_http(req(body))


async def test_unsupported_content_type():
    with pytest.raises(
        BadInput, match="unsupported content type 'image/png'; send application/json or text/csv"
    ):
        await PandasDataFrame().from_http(req(b"\x89PNG", "image/png"))


async def test_lenient_json_content_types():
    for content_type in ("", "text/plain", "application/x-www-form-urlencoded", "application/vnd.api+json"):
        frame = await PandasDataFrame().from_http(req('[{"a": 1}]', content_type))
        assert frame.shape == (1, 1)


def test_output_as_records():
    out = PandasDataFrame().to_http(pd.DataFrame({"label": [0, 2], "p": [0.5, np.nan]}))
    assert json.loads(out.body) == [{"label": 0, "p": 0.5}, {"label": 2, "p": None}]
    assert json.loads(PandasDataFrame().to_http(pd.Series([1, 2])).body) == [1, 2]
    assert json.loads(PandasDataFrame().to_http(np.array([[1, 2]])).body) == [{"0": 1, "1": 2}]
    assert json.loads(PandasDataFrame("split").to_http(pd.DataFrame({"a": [1]})).body)["data"] == [[1]]


def test_bad_orient():
    with pytest.raises(ValueError, match="orient must be one of"):
        PandasDataFrame("table")


def test_openapi():
    desc = PandasDataFrame(columns=["a", "b"])
    schema = desc.openapi_schema()
    assert schema["type"] == "array" and schema["items"]["required"] == ["a", "b"]
    content = desc.openapi_request_content()
    assert list(content) == ["application/json", "text/csv"]
    assert content["application/json"]["example"] == [{"a": 0, "b": 0}]
    assert content["text/csv"]["example"] == "a,b\n0,0\n"
    assert PandasDataFrame().openapi_example() == []
    assert PandasDataFrame("split").openapi_schema()["required"] == ["data"]


def test_from_sample():
    sample = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=COLUMNS)
    desc = PandasDataFrame.from_sample(sample)
    assert desc.columns == COLUMNS and desc.dtype["petal_width"] == "float64"
    assert desc.openapi_example() == [dict(zip(COLUMNS, [5.1, 3.5, 1.4, 0.2], strict=True))]
    assert desc.openapi_request_content()["text/csv"]["example"].startswith("sepal_length,")
