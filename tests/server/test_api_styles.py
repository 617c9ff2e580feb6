"""API styles through a real server: a custom Runnable (1.x) and a 1.2 ``@service`` class."""

from __future__ import annotations

import asyncio
import textwrap

import httpx

from tests.helpers.server import serve

CUSTOM_RUNNABLE = textwrap.dedent("""
    import sys

    import numpy as np
    import bentotui as bentoml


    class Scaler(bentoml.Runnable):
        SUPPORTS_CPU_MULTI_THREADING = True

        def __init__(self, factor):
            self.factor = factor

        @bentoml.Runnable.method(batchable=True, batch_dim=0)
        def scale(self, arr):
            return np.asarray(arr) * self.factor

        @bentoml.Runnable.method(batchable=False)
        def describe(self, text):
            print(f"worker says {text}", file=sys.stderr, flush=True)
            return {"text": text, "factor": self.factor}


    runner = bentoml.Runner(Scaler, name="scaler", runnable_init_params={"factor": 3},
                            max_batch_size=32, max_latency_ms=10_000)
    svc = bentoml.Service(name="scaling", runners=[runner])


    @svc.api(input=bentoml.io.NumpyNdarray(), output=bentoml.io.NumpyNdarray())
    async def scale(arr):
        return await runner.scale.async_run(arr)


    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON(), route="/v1/describe")
    def describe(text):
        return runner.describe.run(text)
""")

SERVICE_CLASS = textwrap.dedent("""
    import numpy as np
    import bentotui


    @bentotui.service(name="adder")
    class Adder:
        def __init__(self):
            self.offset = 10

        @bentotui.api(batchable=True)
        def add(self, input: np.ndarray) -> np.ndarray:
            return input + self.offset

        @bentotui.api
        def greet(self, name: str) -> str:
            return f"hello {name}"
""")


def test_custom_runnable_batched_and_plain(tmp_path):
    (tmp_path / "service.py").write_text(CUSTOM_RUNNABLE)

    async def fire(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return await asyncio.gather(*(client.post("/scale", json=[[i, -i]]) for i in range(100)))

    with serve("service:svc", cwd=tmp_path) as srv:
        responses = asyncio.run(fire(srv.url))
        assert [r.json() for r in responses] == [[[3 * i, -3 * i]] for i in range(100)]
        r = httpx.post(srv.url + "/v1/describe", content=b"hi", headers={"content-type": "text/plain"})
        assert r.json() == {"text": "hi", "factor": 3}
        assert "worker says hi" in srv.log_text()  # worker stderr lands in the run's log file


def test_service_class_style(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE_CLASS)
    with serve("service:Adder", cwd=tmp_path) as srv:
        r = httpx.post(srv.url + "/add", json={"input": [[1, 2], [3, 4]]})
        assert r.status_code == 200 and r.json() == [[11, 12], [13, 14]]
        bad = httpx.post(srv.url + "/add", json={"wrong": 1})
        assert bad.status_code == 400 and "input" in bad.text
        assert httpx.post(srv.url + "/greet", json={"name": "ann"}).text == "hello ann"  # str: text/plain
