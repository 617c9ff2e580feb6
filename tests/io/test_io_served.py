"""Every descriptor behind a real ``bentotui serve`` process, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image as PILImage

from tests.helpers.server import RunningServer, serve

SERVICE = textwrap.dedent(
    """
    import bentotui as bentoml
    from pydantic import BaseModel


    class Person(BaseModel):
        name: str
        age: int


    svc = bentoml.Service(name="io-showcase")


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def classify(text):
        return [{"label": "POSITIVE", "length": len(text)}]


    @svc.api(input=bentoml.io.JSON(pydantic_model=Person), output=bentoml.io.JSON())
    def greet(person):
        return {"greeting": f"hello {person.name}", "next_age": person.age + 1}


    @svc.api(
        input=bentoml.io.NumpyNdarray(dtype="float32", shape=(-1, 4), enforce_shape=True),
        output=bentoml.io.NumpyNdarray(),
    )
    def row_sums(arr):
        return arr.sum(axis=1)


    @svc.api(input=bentoml.io.PandasDataFrame(columns=["a", "b"]), output=bentoml.io.PandasDataFrame())
    def swap(df):
        return df[["b", "a"]]


    @svc.api(input=bentoml.io.File(), output=bentoml.io.JSON())
    def describe(upload):
        return {"name": upload.name, "size": len(upload.read()), "type": upload.content_type}


    @svc.api(input=bentoml.io.Image(pilmode="L"), output=bentoml.io.Image(mime_type="image/png"))
    def gray(image):
        return image
    """
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    work = tmp_path_factory.mktemp("io-served")
    (work / "home").mkdir()
    (work / "service.py").write_text(SERVICE)
    with serve("service:svc", cwd=work, env={"BENTOTUI_HOME": str(work / "home")}) as srv:
        yield srv


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (5, 4), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def test_text_in_json_out(client):
    resp = client.post("/classify", content="I loved it", headers={"content-type": "text/plain"})
    assert resp.status_code == 200 and resp.json() == [{"label": "POSITIVE", "length": 10}]


def test_pydantic_json(client):
    assert client.post("/greet", json={"name": "Ann", "age": 41}).json() == {
        "greeting": "hello Ann",
        "next_age": 42,
    }
    bad = client.post("/greet", json={"name": "Ann", "age": "old"})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("body.age: Input should be a valid integer")


def test_numpy(client):
    assert client.post("/row_sums", json=[[1, 2, 3, 4], [1, 1, 1, 1]]).json() == [10.0, 4.0]
    bad = client.post("/row_sums", json=[[1, 2]])
    assert bad.status_code == 400 and bad.json()["error"] == "expected an array of shape (-1, 4), got (1, 2)"
    broken = client.post("/row_sums", content=b"[[1, 2", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]


def test_dataframe_json_and_csv(client):
    assert client.post("/swap", json=[{"a": 1, "b": 2}]).json() == [{"b": 2, "a": 1}]
    csv = client.post("/swap", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"})
    assert csv.json() == [{"b": 2, "a": 1}]
    missing = client.post("/swap", json=[{"a": 1}])
    assert missing.status_code == 400 and missing.json()["error"] == "missing columns: b"


def test_file_raw_and_multipart(client):
    raw = client.post("/describe", content=b"12345", headers={"content-type": "application/pdf"})
    assert raw.json() == {"name": None, "size": 5, "type": "application/pdf"}
    form = client.post("/describe", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert form.json() == {"name": "notes.txt", "size": 5, "type": "text/plain"}
    empty = client.post("/describe", content=b"", headers={"content-type": "application/octet-stream"})
    assert empty.status_code == 400 and empty.json()["error"] == "request body is empty; expected a file"


def test_image(client):
    resp = client.post("/gray", files={"image": ("x.png", _png(), "image/png")})
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert PILImage.open(io.BytesIO(resp.content)).mode == "L"
    bad = client.post("/gray", content=b"not an image", headers={"content-type": "image/png"})
    assert bad.status_code == 400 and "not an image Pillow can read" in bad.json()["error"]


def test_docs_json_carries_the_examples(client):
    spec = client.get("/docs.json").json()
    assert spec["info"]["title"] == "io-showcase"
    assert spec["paths"]["/greet"]["post"]["requestBody"]["content"]["application/json"]["example"] == {
        "name": "string",
        "age": 0,
    }
    assert spec["paths"]["/row_sums"]["post"]["requestBody"]["content"]["application/json"]["example"] == [
        [0.0, 0.0, 0.0, 0.0]
    ]
    assert {op["post"]["operationId"] for route, op in spec["paths"].items() if "post" in op} == {
        "classify",
        "greet",
        "row_sums",
        "swap",
        "describe",
        "gray",
    }
