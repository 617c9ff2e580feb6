"""``Descriptor.from_sample(sample, **options)``: options taken from a real input, the sample shown
as the ``/docs.json`` example, and samples that cannot be right refused at build time."""

from __future__ import annotations

import io
import textwrap

import httpx
import numpy as np
import pytest
from PIL import Image as PILImage
from pydantic import BaseModel

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import JSON, File, HTTPRequest, Image, NumpyNdarray, Text
from tests.helpers.server import serve


class Features(BaseModel):
    sepal_len: float
    petal_len: float


def test_json_from_a_pydantic_instance_takes_its_model():
    desc = JSON.from_sample(Features(sepal_len=1.0, petal_len=2.0))
    assert desc.pydantic_model is Features
    assert desc.openapi_example() == {"sepal_len": 1.0, "petal_len": 2.0}
    assert "Features" in desc.openapi_components()


@pytest.mark.parametrize("sample", [{"a": [1, 2]}, [{"a": 1}], '{"a": [1, 2]}', b'[{"a": 1}]'])
def test_json_from_plain_samples(sample):
    desc = JSON.from_sample(sample)
    assert desc.pydantic_model is None
    assert desc.openapi_example() in ({"a": [1, 2]}, [{"a": 1}])
    assert desc.sample == desc.openapi_example()


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ("{not json", "the sample is not valid JSON"),
        (42, "needs a dict, a list, a JSON string or a pydantic model, got int"),
    ],
)
def test_json_bad_samples(sample, message):
    with pytest.raises(BuildError, match=message):
        JSON.from_sample(sample)


def test_text_from_sample():
    assert Text.from_sample("Bento box is").openapi_example() == "Bento box is"
    assert Text.from_sample(b"caf\xc3\xa9").sample == "café"
    with pytest.raises(BuildError, match="not UTF-8 text"):
        Text.from_sample(b"\xff")
    with pytest.raises(BuildError, match="needs a str or bytes, got list"):
        Text.from_sample(["x"])


async def test_ndarray_from_sample_options_and_enforcement():
    sample = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
    desc = NumpyNdarray.from_sample(sample, enforce_dtype=True, enforce_shape=True)
    assert (desc.dtype, desc.shape, desc.enforce_dtype, desc.enforce_shape) == (
        np.float32,
        (-1, 4),
        True,
        True,
    )
    assert desc.openapi_example() == sample.tolist()
    with pytest.raises(BadInput, match=r"expected an array of shape \(-1, 4\), got \(3,\)"):
        await desc.from_http(HTTPRequest(b"[1, 2, 3]", "application/json"))
    with pytest.raises(BadInput, match="cannot be read as an array of float32"):
        await desc.from_http(HTTPRequest(b'[["a", "b", "c", "d"]]', "application/json"))
    given = NumpyNdarray.from_sample(
        sample, dtype="float64", shape=(1, 4)
    )  # options given win over the sample
    assert (given.dtype, given.shape) == (np.float64, (1, 4))
    assert NumpyNdarray.from_sample([1, 2, 3]).shape == (-1,)


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (np.float32(1.0), "needs an array, not a numpy scalar"),
        ([[1, 2], [3]], "not an array"),
        ([{"a": 1}], "not a rectangular array of numbers"),
    ],
)
def test_ndarray_bad_samples(sample, message):
    with pytest.raises(BuildError, match=message):
        NumpyNdarray.from_sample(sample)


def test_file_from_sample(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert File.from_sample(pdf).mime_type == "application/pdf"
    assert File.from_sample(str(pdf)).media_type == "application/pdf"
    with pdf.open("rb") as fh:
        assert File.from_sample(fh).mime_type == "application/pdf"
    assert File.from_sample(b"raw").mime_type is None
    assert File.from_sample(pdf, mime_type="application/x-custom").mime_type == "application/x-custom"
    with pytest.raises(BuildError, match="no file at"):
        File.from_sample(tmp_path / "missing.pdf")
    with pytest.raises(BuildError, match="needs a path, bytes or a file object, got int"):
        File.from_sample(3)


def test_image_from_sample(tmp_path):
    png = tmp_path / "cat.png"
    PILImage.new("RGB", (3, 3)).save(png)
    assert Image.from_sample(png).mime_type == "image/png"
    assert Image.from_sample(PILImage.open(png), pilmode="L").pilmode == "L"
    assert (
        Image.from_sample(np.zeros((2, 2, 3), dtype=np.uint8)).mime_type == "image/jpeg"
    )  # no format: default
    tiff = io.BytesIO()
    PILImage.new("RGB", (2, 2)).save(tiff, format="TIFF")
    (tmp_path / "x.tiff").write_bytes(tiff.getvalue())
    assert Image.from_sample(tmp_path / "x.tiff").mime_type == "image/jpeg"  # a type Image() cannot send
    (tmp_path / "fake.png").write_bytes(b"not an image")
    with pytest.raises(BuildError, match="cannot read .*fake.png.* as an image"):
        Image.from_sample(tmp_path / "fake.png")
    with pytest.raises(BuildError, match="needs a path, a PIL image or an array, got dict"):
        Image.from_sample({})


SERVICE = textwrap.dedent(
    """
    import numpy as np
    from pydantic import BaseModel

    import bentotui as bentoml
    from bentotui.io import JSON, NumpyNdarray, Text


    class Features(BaseModel):
        sepal_len: float
        petal_len: float


    svc = bentoml.Service(name="samples")


    @svc.api(
        input=NumpyNdarray.from_sample(np.array([[4.9, 3.0, 1.4, 0.2]]), enforce_shape=True),
        output=NumpyNdarray(),
    )
    def sums(arr):
        return arr.sum(axis=1)


    @svc.api(input=JSON.from_sample(Features(sepal_len=4.9, petal_len=1.4)), output=JSON())
    def features(f):
        return {"ratio": f.sepal_len / f.petal_len}


    @svc.api(input=Text.from_sample("Bento box is"), output=Text())
    def shout(text):
        return text.upper()
    """
)


def test_samples_served_and_shown(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    with serve("service:svc", cwd=tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        paths = client.get("/docs.json").json()["paths"]
        examples = {
            route: paths[route]["post"]["requestBody"]["content"]
            for route in ("/sums", "/features", "/shout")
        }
        assert examples["/sums"]["application/json"]["example"] == [[4.9, 3.0, 1.4, 0.2]]
        assert examples["/features"]["application/json"]["example"] == {"sepal_len": 4.9, "petal_len": 1.4}
        assert examples["/shout"]["text/plain"]["example"] == "Bento box is"

        r = client.post("/sums", json=[[1, 2, 3, 4], [1, 1, 1, 1]])
        assert r.status_code == 200 and r.json() == [10.0, 4.0]
        r = client.post("/sums", json=[1, 2, 3])
        assert r.status_code == 400 and "expected an array of shape (-1, 4), got (3,)" in r.json()["error"]
        r = client.post("/features", json={"sepal_len": 2, "petal_len": 1})
        assert r.status_code == 200 and r.json() == {"ratio": 2.0}
        r = client.post("/features", json={"sepal_len": 2})
        assert r.status_code == 400 and "body.petal_len: Field required" in r.json()["error"]
