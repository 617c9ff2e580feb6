"""The framework runnables behind a real ``bentotui serve``: worker processes, batching, HTTP 400."""

from __future__ import annotations

import asyncio
import textwrap

import httpx
import pytest

from tests.helpers.server import serve

pytestmark = pytest.mark.slow

TEXT_SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    runner = bentoml.models.get("news:latest").to_runner(max_batch_size=16, max_latency_ms=60_000)
    svc = bentoml.Service(name="news", runners=[runner])

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())
    async def classify(text: str):
        return await runner.async_run(text, max_length=512, truncation=True)
""")

HEADLINES = [
    f"{subject} {event} in the {place}"
    for subject in ("The striker", "The central bank", "A startup", "The president")
    for event in ("scored twice", "raised rates", "launched a chip")
    for place in ("final", "capital")
]


def test_batched_pipeline_answers_each_request_as_the_local_pipeline(tmp_path):
    import bentotui
    from bentotui.demo import build_tiny_text_pipeline

    pipe = build_tiny_text_pipeline()
    bentotui.transformers.save_model("news", pipe, signatures={"__call__": {"batchable": True}})
    (tmp_path / "service.py").write_text(TEXT_SERVICE)

    async def fire(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post("/classify", content=t, headers={"Content-Type": "text/plain"})
                    for t in HEADLINES
                )
            )

    with serve("service:svc", cwd=tmp_path, timeout=120) as srv:
        responses = asyncio.run(fire(srv.url))
    for text, response in zip(HEADLINES, responses, strict=True):
        assert response.status_code == 200, response.text
        (local,) = pipe(text, max_length=512, truncation=True)
        (served,) = response.json()
        assert served["label"] == local["label"]
        assert served["score"] == pytest.approx(local["score"], rel=1e-4)


def test_wrong_width_is_a_400_naming_the_problem(iris_lr, tmp_path):
    import bentotui

    bentotui.sklearn.save_model("iris", iris_lr)
    with serve(model="iris:latest", cwd=tmp_path) as srv:
        bad = httpx.post(srv.url + "/predict", json=[[5.1, 3.5], [4.9, 3.0]])
        good = httpx.post(srv.url + "/predict", json=[[5.1, 3.5, 1.4, 0.2]])
    assert bad.status_code == 400
    assert "expected 4 features, got 2" in bad.json()["error"] + str(bad.json().get("detail"))
    assert good.status_code == 200 and good.json() == [0]
