"""``bentotui.io.PandasSeries``: BentoML 1.x's one-column descriptor, decoded, checked and served."""

from __future__ import annotations

import textwrap

import httpx
import pandas as pd
import pytest

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import HTTPRequest, PandasSeries
from tests.helpers.server import serve


def request(body: bytes) -> HTTPRequest:
    return HTTPRequest(body=body, content_type="application/json", headers={})


async def test_a_json_array_is_a_series_in_the_dtype_asked_for():
    series = await PandasSeries(dtype="float32").from_http(request(b"[1, 2, 3]"))
    assert series.dtype == "float32" and series.tolist() == [1.0, 2.0, 3.0]


async def test_enforced_dtype_and_shape_are_400s_naming_them():
    with pytest.raises(BadInput, match="dtype int64"):
        await PandasSeries(dtype="int64", enforce_dtype=True).from_http(request(b'["a", "b"]'))
    with pytest.raises(BadInput, match=r"shape \(3,\), got \(2,\)"):
        await PandasSeries(shape=(3,), enforce_shape=True).from_http(request(b"[1, 2]"))
    with pytest.raises(BadInput, match="expected a JSON array"):
        await PandasSeries().from_http(request(b"5"))


def test_bad_arguments_and_from_sample():
    with pytest.raises(BuildError, match="enforce_dtype needs dtype="):
        PandasSeries(enforce_dtype=True)
    with pytest.raises(BuildError, match="orient must be one of"):
        PandasSeries(orient="sideways")
    described = PandasSeries.from_sample(pd.Series([0.5, 1.5]))
    assert described.dtype == "float64" and described.sample == [0.5, 1.5]


def test_served_series_round_trip(tmp_path):
    (tmp_path / "service.py").write_text(textwrap.dedent("""
        import bentotui as bentoml

        svc = bentoml.Service(name="series")

        @svc.api(input=bentoml.io.PandasSeries(dtype="float64"), output=bentoml.io.PandasSeries())
        def double(series):
            return series * 2
    """))
    with serve("service:svc", cwd=tmp_path) as srv:
        assert httpx.post(srv.url + "/double", json=[1, 2.5]).json() == [2.0, 5.0]
        bad = httpx.post(srv.url + "/double", json=7)
        assert bad.status_code == 400 and "expected a JSON array" in bad.json()["error"]
