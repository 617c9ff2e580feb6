"""Typed parameters of 1.2 ``@service`` APIs with ``bentotui.validators`` (and pydantic constraints):
conversion, the 400 a broken rule gives, ``/docs.json``, and build mistakes."""

import inspect
import io
import textwrap
import typing
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from annotated_types import Gt
from PIL import Image
from pydantic import Field

from bentotui.exceptions import BadInput, BuildError
from bentotui.io import HTTPRequest, IODescriptor
from bentotui.service.params import input_descriptor, output_descriptor
from bentotui.validators import ContentType, DataframeSchema, DType, Shape
from tests.helpers.server import serve


class API(typing.NamedTuple):
    input: Any
    output: IODescriptor


def api_of(fn: Any) -> API:
    """The descriptors a 1.2 ``@service`` method with ``fn``'s signature gets (what classes.py builds)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    params = list(inspect.signature(fn).parameters.values())
    return API(input_descriptor("T_input", params, hints), output_descriptor(hints.get("return")))


async def decode(api: API, body: bytes) -> Any:
    return await api.input.from_http(HTTPRequest(body, "application/json"))


def field_schema(api: API, name: str) -> dict[str, Any]:
    return api.input.openapi_components()["T_input"]["properties"][name]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Shape(4), "Shape takes a tuple of sizes"),
        (lambda: Shape((2, -2)), "Shape takes a tuple of sizes"),
        (lambda: Shape((-1, -1)), "at most one axis can be -1"),
        (lambda: DType(""), "DType takes a dtype name"),
        (lambda: ContentType("jpeg"), "ContentType takes a media type"),
        (lambda: DataframeSchema(orient="split"), "orient must be one of records, columns"),
        (lambda: DataframeSchema(columns="ab"), "columns must be a list of column names"),
    ],
)
def test_validator_arguments(make, message):
    with pytest.raises(BuildError, match=message):
        make()


def test_validators_normalise_their_arguments():
    assert Shape([2, 2]).dimensions == (2, 2)
    assert DataframeSchema(columns=["a", "b"]).columns == ("a", "b")
    assert Shape((2, 2)) == Shape((2, 2)) and hash(DType("float32")) == hash(DType("float32"))


async def test_ndarray_shape_and_dtype():
    def f(x: Annotated[np.ndarray, Shape((2, 2)), DType("float32")]) -> np.ndarray:
        return x

    api = api_of(f)
    value = await decode(api, b'{"x": [1, 2, 3, 4]}')  # reshaped, as BentoML does
    assert value.x.dtype == np.float32 and value.x.shape == (2, 2)
    with pytest.raises(
        BadInput, match=r"body.x: Value error, an array of shape \(3,\) does not fit Shape\(\(2, 2\)\)"
    ):
        await decode(api, b'{"x": [1, 2, 3]}')
    with pytest.raises(BadInput, match="body.x: Value error, not an array of float32"):
        await decode(api, b'{"x": [["a", "b"], ["c", "d"]]}')
    schema = field_schema(api, "x")
    assert schema["minItems"] == schema["maxItems"] == 2
    assert schema["items"] == {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    assert api.input.openapi_example() == {"x": [[0.0, 0.0], [0.0, 0.0]]}


async def test_ndarray_dtype_from_npt_annotation():
    def f(x: npt.NDArray[np.int64]) -> np.ndarray:
        return x

    value = await decode(api_of(f), b'{"x": [1.0, 2.0]}')
    assert value.x.dtype == np.int64

    def conflicting(x: Annotated[npt.NDArray[np.int64], DType("float32")]) -> np.ndarray:
        return x

    with pytest.raises(BuildError, match="conflicting dtypes"):
        api_of(conflicting)


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Annotated[np.ndarray, DType("floaty")], "is not a numpy dtype"),
        (Annotated[np.ndarray, Shape((2,)), Shape((3,))], "more than one Shape"),
        (Annotated[int, Shape((2,))], "Shape does not apply to 'int'"),
        (Annotated[list, DataframeSchema()], "DataframeSchema does not apply to 'list'"),
        (Annotated[str, ContentType("image/png")], "ContentType does not apply to 'str'"),
        (Annotated[Path, Shape((1,))], "Shape does not apply to 'Path'"),
    ],
)
def test_validator_misuse_is_a_build_error(annotation, message):
    def f(x: annotation) -> dict:  # type: ignore[valid-type]
        return {}

    with pytest.raises(BuildError, match=message):
        api_of(f)


async def test_pydantic_constraints_name_the_parameter():
    def f(n: Annotated[int, Gt(0)], m: int = Field(default=1, le=5)) -> int:
        return n

    api = api_of(f)
    with pytest.raises(BadInput, match="body.n: Input should be greater than 0"):
        await decode(api, b'{"n": 0}')
    with pytest.raises(BadInput, match="body.m: Input should be less than or equal to 5"):
        await decode(api, b'{"n": 1, "m": 9}')
    assert field_schema(api, "n")["exclusiveMinimum"] == 0 and field_schema(api, "m")["maximum"] == 5


@pytest.mark.slow
async def test_torch_tensor_parameter():
    torch = pytest.importorskip("torch")

    def f(x: Annotated[torch.Tensor, DType("float32"), Shape((-1, 2))]) -> torch.Tensor:
        return x

    api = api_of(f)
    value = await decode(api, b'{"x": [1, 2, 3, 4]}')
    assert value.x.dtype == torch.float32 and tuple(value.x.shape) == (2, 2)
    assert api.output.to_http(value.x * 2).body == b"[[2.0,4.0],[6.0,8.0]]"
    with pytest.raises(
        BadInput, match=r"body.x: Value error, a tensor of shape \(3,\) does not fit Shape\(\(-1, 2\)\)"
    ):
        await decode(api, b'{"x": [1, 2, 3]}')
    with pytest.raises(BadInput, match="body.x: Value error, not a tensor of torch.float32"):
        await decode(api, b'{"x": ["a"]}')
    schema = field_schema(api, "x")
    assert schema["items"] == {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}

    def plain(x: torch.Tensor) -> torch.Tensor:
        return x

    assert (await decode(api_of(plain), b'{"x": [[1, 2]]}')).x.dtype == torch.int64
    with pytest.raises(BuildError, match="is not a torch dtype"):

        def wrong(x: Annotated[torch.Tensor, DType("float128")]) -> torch.Tensor:
            return x

        api_of(wrong)


async def test_dataframe_schema():
    def f(df: Annotated[pd.DataFrame, DataframeSchema(orient="records", columns=["a", "b"])]) -> pd.DataFrame:
        return df

    api = api_of(f)
    frame = (await decode(api, b'{"df": [{"b": 1, "a": 2, "c": 3}]}')).df
    assert list(frame.columns) == ["a", "b"] and frame.to_dict("records") == [{"a": 2, "b": 1}]
    assert (await decode(api, b'{"df": [[1, 2]]}')).df.to_dict("records") == [{"a": 1, "b": 2}]
    with pytest.raises(
        BadInput, match=r"body.df: Value error, missing columns b \(DataframeSchema columns: a, b\)"
    ):
        await decode(api, b'{"df": [{"a": 1}]}')
    with pytest.raises(BadInput, match=r"expected a DataFrame as a list of records \(orient 'records'\)"):
        await decode(api, b'{"df": {"a": [1], "b": [2]}}')
    schema = field_schema(api, "df")
    assert schema["items"] == {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"]}

    def by_columns(df: Annotated[pd.DataFrame, DataframeSchema(orient="columns", columns=["a"])]) -> dict:
        return {}

    columns_api = api_of(by_columns)
    assert (await decode(columns_api, b'{"df": {"a": [1, 2], "z": [0, 0]}}')).df.to_dict("list") == {
        "a": [1, 2]
    }
    with pytest.raises(BadInput, match=r"an object of columns \(orient 'columns'\)"):
        await decode(columns_api, b'{"df": [{"a": 1}]}')
    with pytest.raises(BadInput, match="body.df: Value error"):
        await decode(columns_api, b'{"df": {"a": [1, 2], "z": [0]}}')  # columns of different lengths


def test_content_type_sets_the_response_media_type():
    def photo() -> Annotated[Path, ContentType("image/jpeg")]:
        return Path("x")

    def picture() -> Annotated[Image.Image, ContentType("image/webp")]:
        return Image.new("RGB", (1, 1))

    def bad() -> Annotated[Image.Image, ContentType("image/tiff")]:
        return Image.new("RGB", (1, 1))

    assert api_of(photo).output.mime_type == "image/jpeg"
    assert api_of(picture).output.mime_type == "image/webp"
    with pytest.raises(BuildError, match="return annotation: mime_type must be one of"):
        api_of(bad)


SERVICE = textwrap.dedent(
    """
    from pathlib import Path
    from typing import Annotated

    import numpy as np
    import pandas as pd
    import torch
    from annotated_types import Gt
    from PIL import Image

    import bentotui as bentoml
    from bentotui.validators import ContentType, DataframeSchema, DType, Shape


    @bentoml.service(name="typed")
    class Typed:
        @bentoml.api
        def grid(self, x: Annotated[np.ndarray, Shape((2, 2)), DType("float32")], times: Annotated[int, Gt(0)] = 1) -> np.ndarray:
            return x * times

        @bentoml.api
        def double(self, t: Annotated[torch.Tensor, DType("float32")]) -> torch.Tensor:
            return t * 2

        @bentoml.api
        def table(self, df: Annotated[pd.DataFrame, DataframeSchema(orient="records", columns=["a", "b"])]) -> pd.DataFrame:
            return df.assign(total=df["a"] + df["b"])

        @bentoml.api
        def size(self, photo: Annotated[Path, ContentType("image/*")]) -> dict:
            return {"size": list(Image.open(photo).size), "suffix": photo.suffix}
    """
)


@pytest.mark.slow
def test_validators_served(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "typed_service.py").write_text(SERVICE)
    with (
        serve("typed_service:Typed", cwd=tmp_path) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as client,
    ):
        r = client.post("/grid", json={"x": [1, 2, 3, 4], "times": 2})
        assert r.status_code == 200, r.text
        assert r.json() == [[2.0, 4.0], [6.0, 8.0]]
        r = client.post("/grid", json={"x": [1, 2, 3]})
        assert r.status_code == 400
        assert r.json()["error"] == "body.x: Value error, an array of shape (3,) does not fit Shape((2, 2))"
        r = client.post("/grid", json={"x": [1, 2, 3, 4], "times": 0})
        assert r.status_code == 400 and r.json()["error"] == "body.times: Input should be greater than 0"

        r = client.post("/double", json={"t": [[1, 2], [3, 4]]})
        assert r.status_code == 200 and r.json() == [[2.0, 4.0], [6.0, 8.0]]
        r = client.post("/double", json={"t": [[1, 2], [3]]})
        assert r.status_code == 400 and r.json()["error"].startswith(
            "body.t: Value error, not a tensor of torch.float32"
        )

        r = client.post("/table", json={"df": [{"b": 2, "a": 1}]})
        assert r.status_code == 200 and r.json() == [{"a": 1, "b": 2, "total": 3}]
        r = client.post("/table", json={"df": [{"a": 1}]})
        assert r.status_code == 400 and "missing columns b" in r.json()["error"]

        png = io.BytesIO()
        Image.new("RGB", (3, 2)).save(png, format="PNG")
        r = client.post("/size", files={"photo": ("cat.png", png.getvalue(), "image/png")})
        assert r.status_code == 200 and r.json() == {"size": [3, 2], "suffix": ".png"}
        r = client.post("/size", files={"photo": ("notes.txt", b"hello", "text/plain")})
        assert r.status_code == 400
        assert (
            r.json()["error"] == "body.photo: content type text/plain does not match ContentType('image/*')"
        )

        docs = client.get("/docs.json").json()
        schemas = docs["components"]["schemas"]
        grid = schemas["Typed_grid_input"]["properties"]
        assert grid["x"]["minItems"] == 2 and grid["x"]["items"]["items"] == {"type": "number"}
        assert grid["times"]["exclusiveMinimum"] == 0
        assert schemas["Typed_double_input"]["properties"]["t"]["items"] == {"type": "number"}
        assert schemas["Typed_table_input"]["properties"]["df"]["items"]["required"] == ["a", "b"]
        photo = docs["paths"]["/size"]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert photo["encoding"] == {"photo": {"contentType": "image/*"}}
        assert photo["schema"]["properties"]["photo"]["contentMediaType"] == "image/*"
