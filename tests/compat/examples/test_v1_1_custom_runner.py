"""BentoML v1.1.11 examples/custom_runner/nltk_pretrained_model and examples/custom_model_runner."""

from __future__ import annotations

import io

import pytest

from tests.compat.examples._support import client, project


def test_nltk_custom_runnable_with_metrics(tmp_path):
    proj = project("v1_1/nltk_pretrained_model", tmp_path)
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        # curl -X POST -H "content-type: application/text" --data "BentoML is great" .../analysis
        headers = {"content-type": "application/text"}
        r = http.post("/analysis", content="BentoML is great", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"is_positive": True}
        r = http.post("/analysis", content="This is terrible. I hate it.", headers=headers)
        assert r.json() == {"is_positive": False}
        http.post("/analysis", content="What a good day!", headers=headers)

        metrics = http.get("/metrics").text
        # the API server's counter, and the histogram observed inside the runner worker
        assert 'polarity_total{polarity="True"} 2.0' in metrics
        assert 'polarity_total{polarity="False"} 1.0' in metrics
        assert "inference_duration_bucket{" in metrics
        assert 'sentiment_cls="SentimentIntensityAnalyzer"' in metrics
        assert "inference_duration_count{" in metrics


@pytest.mark.slow
def test_custom_model_runner_mnist(tmp_path):
    from PIL import Image

    proj = project("v1_1/custom_model_runner", tmp_path)
    assert "Saved:" in proj.python("train.py")
    # a 28x28 grayscale digit, like mnist_png/testing/8/1007.png
    img = Image.new("L", (28, 28), 0)
    for y in range(4, 24):
        img.putpixel((12, y), 255)
        img.putpixel((13, y), 255)
    png = io.BytesIO()
    img.save(png, format="PNG")
    with proj.serve("service.py:svc") as srv, client(srv) as http:
        # curl -F 'image=@mnist_png/testing/8/1007.png' http://127.0.0.1:3000/predict
        r = http.post("/predict", files={"image": ("1007.png", png.getvalue(), "image/png")})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert isinstance(answer, list) and len(answer) == 1 and answer[0] in range(10)
        metrics = http.get("/metrics").text
        assert "inference_duration_bucket{" in metrics and 'device_id="' in metrics
