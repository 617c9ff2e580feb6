"""Runner inputs batched along dimension 0 by a real server: lists of texts for a scikit-learn
text pipeline, 1-D arrays and pandas Series for a picklable model, a custom Runnable reading the
files of a ``models.create`` model; models carry their helper module as ``external_modules``.

One server for the module: it is started once, and every request goes over HTTP with httpx.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.server import RunningServer, serve

pytestmark = pytest.mark.slow

HELPERS = textwrap.dedent("""
    import time

    def pause(x):
        time.sleep(0.3)  # long enough that concurrent requests queue up and merge
        return x

    def double(x):
        time.sleep(0.2)
        return x * 2
""")

SERVICE = textwrap.dedent("""
    import json

    import bentotui as bentoml

    class LookupRunnable(bentoml.Runnable):
        SUPPORTED_RESOURCES = ("cpu",)
        SUPPORTS_CPU_MULTI_THREADING = True

        def __init__(self):
            model = bentoml.models.get("lookup:latest")
            self.table = json.loads(model.path_of("table.json").read_text())

        @bentoml.Runnable.method(batchable=True, batch_dim=0)
        def find(self, words):
            return [self.table.get(w, -1) for w in words]

    lookup = bentoml.Runner(LookupRunnable, name="lookup", models=[bentoml.models.get("lookup:latest")], max_latency_ms=60_000)
    texts = bentoml.models.get("texts:latest").to_runner(max_latency_ms=60_000)
    doubler_model = bentoml.models.get("doubler:latest")
    doubler = bentoml.Runner(doubler_model.to_runnable(), name="doubler", models=[doubler_model],
                             max_latency_ms=60_000)
    svc = bentoml.Service(name="inputs", runners=[lookup, texts, doubler])

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def classify(batch):
        return (await texts.predict.async_run(batch)).tolist()

    @svc.api(input=bentoml.io.NumpyNdarray(dtype="float64"), output=bentoml.io.NumpyNdarray())
    async def double_array(arr):
        return await doubler.async_run(arr)

    table = bentoml.io.PandasDataFrame(
        orient="values", columns=["a", "b"], apply_column_names=True,
        dtype={"a": "int64"}, enforce_dtype=True, shape=(-1, 2), enforce_shape=True,
    )

    @svc.api(input=table, output=bentoml.io.PandasDataFrame())
    async def double_column(df):
        df["b2"] = await doubler.async_run(df["b"])
        return df

    @svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
    async def find(words):
        return await lookup.async_run(words)
""")

SPORTS = ["the striker scored twice", "a late goal won the cup", "the keeper saved a penalty"]
MARKETS = ["the central bank raised rates", "shares fell on weak earnings", "bond yields rose again"]


def _save_models(lib: Path) -> object:
    """Train and save the three models; returns the fitted text pipeline (for the expectations)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    import bentotui

    (lib / "inputs_helpers.py").write_text(HELPERS)
    sys.path.insert(0, str(lib))
    try:
        helpers = importlib.import_module("inputs_helpers")
        pipe = make_pipeline(
            TfidfVectorizer(), FunctionTransformer(helpers.pause, accept_sparse=True), LogisticRegression()
        ).fit(SPORTS + MARKETS, ["sport"] * 3 + ["markets"] * 3)
        bentotui.sklearn.save_model("texts", pipe, external_modules=[helpers])
        bentotui.picklable_model.save_model(
            "doubler", helpers.double, signatures={"__call__": {"batchable": True}}, external_modules=[helpers]
        )
    finally:  # from here on the helpers exist only inside the saved models
        sys.path.remove(str(lib))
        sys.modules.pop("inputs_helpers", None)
    with bentotui.models.create("lookup") as model:
        model.path_of("table.json").write_text('{"goal": 1, "rates": 2}')
    return pipe


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, object]]:
    home = tmp_path_factory.mktemp("home")
    lib = tmp_path_factory.mktemp("lib")
    work = tmp_path_factory.mktemp("service")
    (work / "service.py").write_text(SERVICE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENTOTUI_HOME", str(home))
        pipe = _save_models(lib)
    env = {"BENTOTUI_HOME": str(home)}
    with serve("service:svc", cwd=work, env=env, args=["--runner-workers", "1"], timeout=120) as srv:
        yield srv, pipe


async def _post_all(url: str, route: str, bodies: list[object]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await asyncio.gather(*(client.post(route, json=body) for body in bodies))


def _batches(srv: RunningServer, runner: str) -> tuple[float, float]:
    """(batches run, rows in them) for ``runner``, from the server's Prometheus metrics."""
    text = httpx.get(srv.url + "/metrics").text
    values = {"count": 0.0, "sum": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name != "bentoml_runner_adaptive_batch_size":  # 1.x Services: BentoML 1.x names
            continue
        for sample in family.samples:
            kind = sample.name.rpartition("_")[2]
            if sample.labels.get("runner_name") == runner and kind in values:
                values[kind] += sample.value
    return values["count"], values["sum"]


def test_text_pipeline_batches_lists_of_texts_and_splits_them_back(served):
    srv, pipe = served
    bodies = [[SPORTS[i % 3]] if i % 2 else [MARKETS[i % 3], SPORTS[i % 3]] for i in range(10)]
    responses = asyncio.run(_post_all(srv.url, "/classify", bodies))
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json() == pipe.predict(body).tolist()
    batches, rows = _batches(srv, "texts")
    assert rows == sum(len(b) for b in bodies)
    assert batches < len(bodies), "concurrent requests were not merged into batches"


def test_picklable_model_batches_1d_arrays(served):
    srv, _ = served
    bodies = [[float(i)] * (1 + i % 3) for i in range(8)]
    responses = asyncio.run(_post_all(srv.url, "/double_array", bodies))
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json() == [v * 2 for v in body]
    batches, _ = _batches(srv, "doubler")
    assert batches < len(bodies)


def test_series_from_an_enforced_dataframe_batch_and_keep_their_rows(served):
    srv, _ = served
    bodies = [[[i, i + 0.5], [i + 10, 1.0]] for i in range(6)]
    responses = asyncio.run(_post_all(srv.url, "/double_column", bodies))
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json() == [{"a": a, "b": b, "b2": b * 2} for a, b in body]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([[1, 2.0, 3.0]], r"expected a table of shape \(-1, 2\), got \(1, 3\)"),
        ([["x", 2.0]], "column 'a': cannot convert to int64"),
    ],
)
def test_enforced_dataframe_rejects_a_bad_table_with_a_400(served, body, message):
    srv, _ = served
    response = httpx.post(srv.url + "/double_column", json=body)
    assert response.status_code == 400
    assert {"error", "detail"} <= set(response.json())
    assert re.search(message, response.json()["error"])


def test_custom_runnable_reads_the_files_of_a_created_model(served):
    srv, _ = served
    bodies = [["goal"], ["rates", "goal"], ["nothing"]]
    responses = asyncio.run(_post_all(srv.url, "/find", bodies))
    assert [r.json() for r in responses] == [[1], [2, 1], [-1]]
