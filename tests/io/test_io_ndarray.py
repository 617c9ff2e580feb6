"""``NumpyNdarray``: the hot path of the iris benchmark."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bentotui.exceptions import BadInput
from bentotui.io import HTTPRequest, NumpyNdarray


def req(body: bytes) -> HTTPRequest:
    return HTTPRequest(body, "application/json")


async def test_body_is_the_array():
    arr = await NumpyNdarray().from_http(req(b"[[5.1, 3.5, 1.4, 0.2]]"))
    assert arr.shape == (1, 4) and arr.dtype == np.float64
    assert (await NumpyNdarray().from_http(req(b'["a", "b"]'))).dtype.kind == "U"


async def test_dtype_is_applied():
    arr = await NumpyNdarray(dtype="float32").from_http(req(b"[[1, 2], [3, 4]]"))
    assert arr.dtype == np.float32


async def test_unenforced_dtype_passes_what_cannot_convert():
    arr = await NumpyNdarray(dtype="float32").from_http(req(b'["a", "b"]'))
    assert arr.tolist() == ["a", "b"]


async def test_enforced_dtype_rejects():
    with pytest.raises(
        BadInput, match="cannot be read as an array of float32: could not convert string to float"
    ):
        await NumpyNdarray(dtype="float32", enforce_dtype=True).from_http(req(b'[["a", 1]]'))


async def test_shape_wildcard_and_enforcement():
    desc = NumpyNdarray(shape=(-1, 4), enforce_shape=True)
    assert (await desc.from_http(req(b"[[1, 2, 3, 4], [5, 6, 7, 8]]"))).shape == (2, 4)
    with pytest.raises(BadInput, match=r"expected an array of shape \(-1, 4\), got \(1, 2\)"):
        await desc.from_http(req(b"[[1, 2]]"))
    with pytest.raises(BadInput, match=r"got \(4,\)"):
        await desc.from_http(req(b"[1, 2, 3, 4]"))


async def test_unenforced_shape_reshapes_when_it_can():
    desc = NumpyNdarray(shape=(2, 2))
    assert (await desc.from_http(req(b"[1, 2, 3, 4]"))).shape == (2, 2)
    assert (await desc.from_http(req(b"[1, 2, 3]"))).shape == (3,)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[[1, 2], [3]]", "cannot be read as an array: setting an array element with a sequence"),
        (b'{"input": [1, 2]}', "must be a JSON array of numbers"),
        (b"[1, null]", "must be a JSON array of numbers"),
        (b"[1, 2", "not valid JSON"),
        (b"", "request body is empty"),
    ],
)
async def test_bad_bodies(body, message):
    with pytest.raises(BadInput, match=message):
        await NumpyNdarray().from_http(req(body))


async def test_ragged_with_dtype_is_rejected_too():
    with pytest.raises(BadInput, match="cannot be read as an array"):
        await NumpyNdarray(dtype="float64").from_http(req(b"[[1, 2], [3]]"))


def test_enforce_needs_something_to_enforce():
    with pytest.raises(TypeError):
        NumpyNdarray(enforce_shape=True)


def test_output():
    resp = NumpyNdarray().to_http(np.array([0, 2, 1], dtype=np.int64))
    assert json.loads(resp.body) == [0, 2, 1] and resp.content_type == "application/json"
    assert json.loads(NumpyNdarray().to_http([1.5]).body) == [1.5]


def test_openapi_schema_follows_dtype_and_shape():
    assert NumpyNdarray().openapi_schema() == {"type": "array", "items": {}}
    schema = NumpyNdarray(dtype="int32", shape=(-1, 3)).openapi_schema()
    assert schema == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
    }


def test_examples():
    assert NumpyNdarray().openapi_example() == [[0.0]]  # one row: an empty batch is refused (bug 18)
    assert NumpyNdarray(dtype="int64").openapi_example() == [[0]]
    assert NumpyNdarray(dtype="float32", shape=(-1, 2)).openapi_example() == [[0.0, 0.0]]
    assert NumpyNdarray(example=np.array([[1, 2]])).openapi_example() == [[1, 2]]


async def test_from_sample():
    desc = NumpyNdarray.from_sample(np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32), enforce_shape=True)
    assert desc.dtype == np.float32 and desc.shape == (-1, 4)
    assert desc.openapi_example()[0] == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert (await desc.from_http(req(b"[[1, 2, 3, 4], [1, 2, 3, 4]]"))).dtype == np.float32


def test_non_finite_output_is_null():
    body = NumpyNdarray().to_http(np.array([[np.nan, np.inf], [-np.inf, 1.0]])).body
    assert json.loads(body, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == [[None, None], [None, 1.0]]
