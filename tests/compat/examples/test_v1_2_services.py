"""BentoML v1.2.20: examples/model-loading-saving, examples/inference-graph, docs guides/asgi.rst."""

from __future__ import annotations

import hashlib
import io
import json

from tests.compat.examples._support import client, project


def test_model_loading_saving(tmp_path):
    from PIL import Image

    proj = project("v1_2/model_loading_saving", tmp_path)
    assert "Model saved:" in proj.python("import_model.py")
    listing = json.loads(proj.cli("models", "list", "--output", "json"))
    assert [m["tag"].split(":")[0] for m in listing] == ["sd"]
    with proj.serve(".") as srv, client(srv) as http:
        r = http.post("/txt2img", json={"prompt": "A Pokemon with blue eyes.", "height": 48, "width": 64})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("image/")
        img = Image.open(io.BytesIO(r.content))
        assert img.size == (64, 48)
        # the LoRA adapter copied into the model's lora/ subpath was loaded (its tint shows)
        digest = hashlib.sha256(b"A Pokemon with blue eyes.").digest()
        tint = (10, 20, 30)  # lora/adapter_config.json
        assert img.convert("RGB").getpixel((0, 0)) == tuple((digest[i] + tint[i]) % 256 for i in range(3))
        # every parameter has a default: {} is the 768x768 default image
        r = http.post("/txt2img", json={})
        assert r.status_code == 200, r.text
        assert Image.open(io.BytesIO(r.content)).size == (768, 768)


def test_inference_graph(tmp_path):
    proj = project("v1_2/inference_graph", tmp_path)
    with proj.serve(".") as srv, client(srv) as http:
        r = http.post("/generate_score", json={"original_sentence": "I have an idea!"})
        assert r.status_code == 200, r.text
        results = r.json()
        assert len(results) == 2
        for item in results:
            assert item["generated"].startswith("I have an idea! ")
            assert 0.0 <= item["score"] <= 1.0
        assert results[0]["generated"] != results[1]["generated"]  # gpt2 and distilgpt2
        # the parameter's default sentence
        assert http.post("/generate_score", json={}).json() == results


def test_asgi_guide(tmp_path):
    proj = project("v1_2/docs_asgi", tmp_path)
    with proj.serve("service.py:MyService") as srv, client(srv) as http:
        r = http.get("/v1/hello")
        assert r.status_code == 200, r.text
        assert r.json() == "Hello MyService"
        r = http.get("/v1/hello1")
        assert r.status_code == 200, r.text
        assert r.json() == "Hello MyService"
        assert http.get("/healthz").status_code == 200
