"""The seed's third script, as written there with ``import bentotui as bentoml``, and its curls."""

from __future__ import annotations

import textwrap

import httpx
import pytest

from tests.helpers.server import serve

pytestmark = pytest.mark.slow

# The seed's service.py, with only the import changed.
SEED_SERVICE = textwrap.dedent("""
    import bentotui as bentoml

    runner = bentoml.models.get("bert_news_classification:latest").to_runner()

    svc = bentoml.Service(
        name="bert_news_classification", runners=[runner]
    )

    @svc.api(input=bentoml.io.Text(), output=bentoml.io.JSON())

    async def classify(text: str) -> dict[str, int|float]:
        output = await runner.async_run(text, max_length=512)
        return output[0]
""")


@pytest.fixture(scope="module")
def text_pipeline():
    from bentotui.demo import build_tiny_text_pipeline

    return build_tiny_text_pipeline()


def test_seed_script_three(tmp_path, text_pipeline):
    import bentotui as bentoml

    bentoml.transformers.save_model("bert_news_classification", text_pipeline)
    (tmp_path / "service.py").write_text(SEED_SERVICE)
    text = "The team won the final match of the season"
    local = text_pipeline(text, max_length=512)[0]
    with serve("service:svc", cwd=tmp_path, timeout=120) as srv:
        assert httpx.head(srv.url + "/healthz").status_code == 200  # curl -I localhost:3000/healthz
        r = httpx.post(srv.url + "/classify", content=text, headers={"Content-Type": "text/plain"})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"label", "score"}
        assert body["label"] == local["label"]
        assert body["score"] == pytest.approx(local["score"], rel=1e-4)
        from bentotui.client import SyncClient

        with SyncClient(srv.url) as client:
            assert client.classify(text)["label"] == local["label"]
