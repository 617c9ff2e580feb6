"""BentoML v1.2.20 examples/io-descriptors: each @bentoml.service picked by bentofile.yaml, `bentoml serve .`.

service.py imports torch at module level (the TransposeTensor service), hence ``slow``.
PDFtoImage and AudioSpeedUp need pdf2image/poppler and pydub/ffmpeg, which are not bentotui's.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from tests.compat.examples._support import client, project

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def serving(tmp_path, service_class: str):
    proj = project("v1_2/io_descriptors", tmp_path)
    # "simply replace AudioSpeedUp with the class name of the Service"
    bentofile = proj.path / "bentofile.yaml"
    bentofile.write_text(bentofile.read_text().replace("AudioSpeedUp", service_class))
    with proj.serve(".") as srv, client(srv) as http:
        yield http


def _image(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (100, 80), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def test_transpose_tensor(tmp_path):
    with serving(tmp_path, "TransposeTensor") as http:
        r = http.post(
            "/transpose",
            json={"tensor": [[0, 1, 2, 3], [4, 5, 6, 7]]},
            headers={"accept": "application/json"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == [[0, 4], [1, 5], [2, 6], [3, 7]]
        # DType("float32"): a string is no tensor
        assert http.post("/transpose", json={"tensor": [["a", "b"]]}).status_code == 400


def test_addition_and_count_rows(tmp_path):
    with serving(tmp_path / "add", "AdditionService") as http:
        r = http.post("/add", json={"num1": 1.5, "num2": 2.25})
        assert r.status_code == 200, r.text
        assert r.json() == 3.75
        assert http.post("/add", json={"num1": 1.5}).status_code == 400
    with serving(tmp_path / "count", "CountRowsDF") as http:
        rows = [{"dummy1": 1, "dummy2": "a"}, {"dummy1": 2, "dummy2": "b"}, {"dummy1": 3, "dummy2": "c"}]
        r = http.post("/count_rows", json={"input": rows})
        assert r.status_code == 200, r.text
        assert r.json() == 3


def test_image_resize(tmp_path):
    from PIL import Image

    with serving(tmp_path, "ImageResize") as http:
        files = {"image": ("flower.png", _image("PNG"), "image/png")}
        r = http.post("/generate", files=files, data={"height": "32", "width": "48"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("image/")
        assert Image.open(io.BytesIO(r.content)).size == (
            32,
            48,
        )  # size = height, width, as the example has it
        r = http.post("/generate", files=files)
        assert Image.open(io.BytesIO(r.content)).size == (64, 64)

        files = {"image": ("flower.jpg", _image("JPEG"), "image/jpeg")}
        r = http.post("/generate_with_path", files=files, data={"height": "20", "width": "10"})
        assert r.status_code == 200, r.text
        assert Image.open(io.BytesIO(r.content)).size == (20, 10)


def test_append_string_to_file(tmp_path):
    with serving(tmp_path, "AppendStringToFile") as http:
        files = {"txt_file": ("notes.txt", b"first line\n", "text/plain")}
        r = http.post("/append_string_to_eof", files=files, data={"input_string": "appended"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        assert r.content == b"first line\nappended"
