"""The request/response seam and the JSON codec shared by the descriptors."""

from __future__ import annotations

import dataclasses
import datetime
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from bentotui.exceptions import BadInput
from bentotui.io import HTTPRequest, HTTPResponse, _json
from bentotui.io.base import content_type_param, media_type_of


def test_request_media_type_and_parameters():
    req = HTTPRequest(b"x", "Text/Plain; Charset=latin-1", {"x-request-id": "1"})
    assert req.media_type == "text/plain"
    assert content_type_param(req.content_type, "charset") == "latin-1"
    assert content_type_param('multipart/form-data; boundary="a b"', "boundary") == "a b"
    assert content_type_param("text/plain", "charset") is None
    assert media_type_of("") == "" and HTTPRequest(b"").headers == {}


def test_response_defaults():
    resp = HTTPResponse(b"{}", "application/json", headers={"x": "1"})
    assert (resp.status, resp.headers) == (200, {"x": "1"})


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Label(BaseModel):
    name: str
    score: float


def test_encode_model_values():
    value = {
        "array": np.arange(3, dtype=np.int64),
        "scalar": np.float32(0.5),
        "bool": np.bool_(True),
        "frame": pd.DataFrame({"a": [1, 2], "t": pd.to_datetime(["2024-01-01", "2024-01-02"])}),
        "series": pd.Series([1.5, 2.5]),
        "model": Label(name="cat", score=0.9),
        "point": Point(1, 2.0),
        "when": datetime.date(2024, 5, 1),
        "tags": {"only"},
    }
    decoded = json.loads(_json.encode(value))
    assert decoded["array"] == [0, 1, 2]
    assert decoded["scalar"] == 0.5 and decoded["bool"] is True
    assert decoded["frame"][0]["a"] == 1 and decoded["frame"][1]["t"].startswith("2024-01-02")
    assert decoded["series"] == [1.5, 2.5]
    assert decoded["model"] == {"name": "cat", "score": 0.9}
    assert decoded["point"] == {"x": 1, "y": 2.0}
    assert decoded["when"] == "2024-05-01" and decoded["tags"] == ["only"]


def test_encode_is_compact_utf8():
    assert _json.encode({"k": "é", "v": [1, 2]}) == '{"k":"é","v":[1,2]}'.encode()


def test_encode_unknown_type_names_it():
    with pytest.raises(TypeError, match="cannot encode a builtins.object"):
        _json.encode(object())


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "application/json", "request body is empty; expected JSON"),
        (b'{"a": ', "application/json", "not valid JSON: Expecting value: line 1 column 7"),
        (b"\xff\xfe\xfa", "application/json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
        (b"a=1", "application/x-www-form-urlencoded", "(content type 'application/x-www-form-urlencoded')"),
    ],
)
def test_decode_errors_say_what_broke(body, content_type, message):
    with pytest.raises(BadInput) as info:
        _json.decode(body, content_type)
    assert message in info.value.message


def test_importing_io_loads_no_heavy_library():
    """Service files import bentotui.io at module level; numpy & co. load only when a descriptor needs them."""
    code = (
        "import sys, bentotui.io, bentotui.service;"
        "print(sorted(m for m in ('numpy', 'pandas', 'PIL', 'pydantic', 'quart', 'werkzeug') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
