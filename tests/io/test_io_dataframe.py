"""``PandasDataFrame``: orients, CSV, Parquet, columns, dtypes, shapes and BentoML's enforce_* flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bentotui.exceptions import BadInput, BuildError, MissingDependencyException
from bentotui.io import HTTPRequest, PandasDataFrame
from bentotui.io.dataframe import parquet_engine

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


async def test_dtype_is_applied_where_it_can_be_and_enforced_on_request():
    lenient = PandasDataFrame(dtype={"age": "int64"})
    assert (await lenient.from_http(req('[{"age": "41", "name": "x"}]')))["age"].tolist() == [41]
    kept = await lenient.from_http(req('[{"age": "old"}]'))  # not enforced: the column stays as sent
    assert kept["age"].tolist() == ["old"]
    strict = PandasDataFrame(dtype={"age": "int64"}, enforce_dtype=True)
    with pytest.raises(BadInput, match="column 'age': cannot convert to int64") as info:
        await strict.from_http(req('[{"age": "old"}]'))
    assert info.value.detail == {"column": "age"}


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
    with pytest.raises(BadInput, match="unsupported content type 'image/png'; send application/json, text/csv") as info:
        await PandasDataFrame().from_http(req(b"\x89PNG", "image/png"))
    assert info.value.http_status == 415


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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"orient": "table"}, "orient must be one of records, columns"),
        ({"default_format": "xml"}, "default_format must be one of json, csv, parquet"),
        ({"apply_column_names": True}, "apply_column_names=True needs columns"),
        ({"enforce_dtype": True}, "enforce_dtype=True needs a dtype"),
        ({"enforce_shape": True}, "enforce_shape=True needs a shape"),
        ({"shape": (4,)}, r"shape must be \(rows, columns\)"),
        ({"shape": (-1, "4")}, r"shape must be \(rows, columns\)"),
        ({"dtype": "flaot32"}, "dtype 'flaot32' is not a pandas dtype"),
        ({"dtype": {"a": "int64", "b": "nope"}}, "dtype of column 'b' 'nope' is not a pandas dtype"),
    ],
)
def test_build_mistakes_are_build_errors(kwargs, message):
    with pytest.raises(BuildError, match=message):
        PandasDataFrame(**kwargs)


async def test_apply_column_names_renames_by_position():
    desc = PandasDataFrame(columns=COLUMNS, apply_column_names=True)
    frame = await desc.from_http(req('[{"0": 5.1, "1": 3.5, "2": 1.4, "3": 0.2}]'))
    assert list(frame.columns) == COLUMNS and frame.iloc[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    split = await PandasDataFrame("split", columns=["a", "b"], apply_column_names=True).from_http(
        req('{"columns": ["x", "y"], "data": [[1, 2]]}')
    )
    assert list(split.columns) == ["a", "b"]
    with pytest.raises(BadInput, match=r"expected 4 columns \(sepal_length, .*\), got 2") as info:
        await desc.from_http(req('[{"x": 1, "y": 2}]'))
    assert info.value.detail == {"expected": COLUMNS, "got": ["x", "y"]}


async def test_dtype_applies_after_the_names_are_applied():
    desc = PandasDataFrame("values", columns=["a", "b"], apply_column_names=True, dtype={"b": "float32"})
    frame = await desc.from_http(req("[[1, 2]]"))
    assert frame["b"].dtype == np.float32 and frame["a"].dtype == np.int64


@pytest.mark.parametrize(
    ("shape", "body", "ok"),
    [
        ((-1, 2), '[{"a": 1, "b": 2}, {"a": 3, "b": 4}]', True),
        ((2, -1), '[{"a": 1}, {"a": 3}]', True),
        ((1, 2), '[{"a": 1, "b": 2}, {"a": 3, "b": 4}]', False),
        ((-1, 3), '[{"a": 1, "b": 2}]', False),
    ],
)
async def test_enforce_shape(shape, body, ok):
    desc = PandasDataFrame(shape=shape, enforce_shape=True)
    if ok:
        await desc.from_http(req(body))
        return
    with pytest.raises(BadInput, match=r"expected a table of shape \(.*\), got \(.*\)") as info:
        await desc.from_http(req(body))
    assert info.value.detail["expected"] == list(shape)


async def test_shape_is_checked_on_the_table_as_sent():
    """Extra columns are not trimmed away before the check (BentoML checks what was sent)."""
    desc = PandasDataFrame(columns=["a", "b"], shape=(-1, 2), enforce_shape=True)
    with pytest.raises(BadInput, match=r"expected a table of shape \(-1, 2\), got \(1, 3\)"):
        await desc.from_http(req('[{"a": 1, "b": 2, "c": 3}]'))
    assert PandasDataFrame(shape=(-1, 2)).shape == (-1, 2)  # not enforced: documentation only
    assert (await PandasDataFrame(shape=(-1, 2)).from_http(req('[{"a": 1}]'))).shape == (1, 1)


async def test_default_format_csv_reads_unlabelled_bodies_and_writes_csv():
    desc = PandasDataFrame(default_format="csv")
    for content_type in ("", "application/x-www-form-urlencoded", "text/plain"):
        frame = await desc.from_http(req("a,b\n1,2\n", content_type))
        assert frame.to_dict("records") == [{"a": 1, "b": 2}]
    assert (await desc.from_http(req('[{"a": 1}]'))).shape == (1, 1)  # JSON still understood
    out = desc.to_http(pd.DataFrame({"a": [1, 2]}))
    assert out.content_type == "text/csv" and out.body == b",a\n0,1\n1,2\n"  # index kept, as BentoML
    assert list(desc.openapi_request_content()) == ["text/csv", "application/json"]
    assert desc.openapi_response_content() == {"text/csv": {"schema": {"type": "string"}}}


@pytest.mark.skipif(parquet_engine() is not None, reason="a Parquet engine is installed")
async def test_parquet_without_an_engine():
    with pytest.raises(MissingDependencyException, match="needs pyarrow or fastparquet"):
        PandasDataFrame(default_format="parquet")
    with pytest.raises(BadInput, match="cannot read Parquet") as info:
        await PandasDataFrame().from_http(req(b"PAR1", "application/vnd.apache.parquet"))
    assert info.value.http_status == 415


@pytest.mark.skipif(parquet_engine() is None, reason="needs pyarrow or fastparquet")
async def test_parquet_round_trip():
    desc = PandasDataFrame(default_format="parquet")
    body = pd.DataFrame({"a": [1, 2]}).to_parquet()
    for content_type in ("application/vnd.apache.parquet", "application/octet-stream", ""):
        assert (await desc.from_http(req(body, content_type)))["a"].tolist() == [1, 2]
    with pytest.raises(BadInput, match="not a valid Parquet file"):
        await desc.from_http(req(b"not parquet", "application/vnd.apache.parquet"))
    out = desc.to_http(pd.DataFrame({"a": [3]}))
    assert out.content_type == "application/vnd.apache.parquet" and out.body.startswith(b"PAR1")


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


async def test_from_sample():
    sample = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=COLUMNS)
    desc = PandasDataFrame.from_sample(sample)
    assert desc.columns == COLUMNS and desc.dtype["petal_width"] == "float64"
    assert desc.shape == (-1, 4) and not desc.enforce_shape
    strict = PandasDataFrame.from_sample(sample, orient="values", enforce_shape=True)
    assert (await strict.from_http(req("[[1, 2, 3, 4], [5, 6, 7, 8]]"))).shape == (2, 4)
    with pytest.raises(BadInput, match="shape"):
        await strict.from_http(req("[[1, 2, 3]]"))
    assert desc.openapi_example() == [dict(zip(COLUMNS, [5.1, 3.5, 1.4, 0.2], strict=True))]
    assert desc.openapi_request_content()["text/csv"]["example"].startswith("sepal_length,")


def test_non_finite_output_is_null():
    body = PandasDataFrame().to_http(pd.DataFrame({"a": [np.nan, np.inf], "b": [1, 2]})).body
    assert json.loads(body, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == [
        {"a": None, "b": 1},
        {"a": None, "b": 2},
    ]
