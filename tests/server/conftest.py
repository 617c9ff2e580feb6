"""A runner-less service exercising every IO descriptor and error path, served once per module."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers.server import serve

SERVICE = textwrap.dedent("""
    import asyncio

    import numpy as np

    import bentotui as bentoml
    from bentotui.exceptions import ServiceUnavailable

    svc = bentoml.Service(name="kitchen-sink")

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def echo(text):
        return {"text": text, "length": len(text)}

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def add(body):
        return {"sum": body["a"] + body["b"]}

    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64", shape=(-1, 4), enforce_shape=True), output=bentoml.io.NumpyNdarray())
    def double(arr):
        return arr * 2

    @svc.api(input=bentoml.io.PandasDataFrame(), output=bentoml.io.PandasDataFrame())
    def frame(df):
        df["total"] = df.sum(axis=1, numeric_only=True)
        return df

    @svc.api(input=bentoml.io.File(), output=bentoml.io.File(mime_type="application/octet-stream"))
    def reverse(f):
        return f.read()[::-1]

    @svc.api(input=bentoml.io.Image(), output=bentoml.io.Image(mime_type="image/png"))
    def flip(img):
        return img.transpose(0)

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def boom(body):
        raise ValueError("secret internal detail")

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    def busy(body):
        raise ServiceUnavailable("model busy")

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def sleep(seconds):
        await asyncio.sleep(seconds)
        return {"slept": seconds}
""")


def write_service(folder: Path, source: str = SERVICE) -> Path:
    """``folder`` with ``source`` (the kitchen-sink service by default) as its ``service.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    """One server for a module's tests: small body limit, short timeout, low concurrency cap."""
    root = tmp_path_factory.mktemp("sink")
    home = root / "home"
    home.mkdir()
    args = ("--timeout", "2", "--max-concurrency", "4", "--max-body", "4096")
    with serve(
        "service:svc", cwd=write_service(root / "svc"), env={"BENTOTUI_HOME": str(home)}, args=args
    ) as srv:
        yield srv
