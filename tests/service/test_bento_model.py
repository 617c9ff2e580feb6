"""``bentoml.models.BentoModel``: a 1.2 class's model reference, resolved on the instance,
served from a real worker, and packed by ``build`` without a ``models:`` entry."""

from __future__ import annotations

import textwrap

import httpx
import numpy as np
import pytest

import bentotui
from bentotui.exceptions import InvalidArgument, NotFound
from bentotui.models import BentoModel
from bentotui.store.models import Model
from tests.helpers.server import serve

SERVICE = textwrap.dedent("""
    import numpy as np
    import bentotui as bentoml

    @bentoml.service(name="iris_ref")
    class Iris:
        model_ref = bentoml.models.BentoModel("iris:latest")

        def __init__(self):
            self.model = bentoml.sklearn.load_model(self.model_ref)
            self.folder = self.model_ref.path

        @bentoml.api
        def predict(self, input: np.ndarray) -> np.ndarray:
            return self.model.predict(input)

        @bentoml.api
        def where(self) -> str:
            return str(self.folder)
""")


def test_read_on_the_class_it_is_the_reference_on_an_instance_the_stored_model(iris_model):
    class Holder:
        ref = BentoModel("iris:latest")
        missing = BentoModel("nothing:latest")  # declaring does not look it up

    assert isinstance(Holder.ref, BentoModel) and str(Holder.ref) == "iris:latest"
    holder = Holder()
    assert isinstance(holder.ref, Model) and holder.ref.tag == iris_model.tag
    assert holder.ref is holder.ref  # looked up once
    with pytest.raises(NotFound, match="nothing"):
        _ = holder.missing
    loaded = bentotui.sklearn.load_model(Holder.ref)  # a framework's load_model takes the reference too
    assert loaded.predict(np.array([[5.1, 3.5, 1.4, 0.2]])).tolist() == [0]


def test_hugging_face_hub_models_are_refused_with_what_to_do():
    with pytest.raises(InvalidArgument, match="never does.*BentoModel"):
        bentotui.models.HuggingFaceModel("openai-community/gpt2")


def test_a_class_with_a_bento_model_serves_and_builds_with_it(iris_model, iris_lr, tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    with serve("service:Iris", cwd=tmp_path) as srv:
        response = httpx.post(srv.url + "/predict", json={"input": rows})
        assert response.status_code == 200 and response.json() == iris_lr.predict(np.array(rows)).tolist()
        assert httpx.post(srv.url + "/where", json={}).text == str(iris_model.path)
    from bentotui.bento.build import build_from_arguments

    bento = build_from_arguments(
        tmp_path, service="service:Iris", name="iris-ref", labels=None, include=["*.py"], exclude=None,
        python=None, models=None,
    )
    assert [str(m.tag) for m in bento.info.models] == [str(iris_model.tag)]  # no models: entry needed


def test_two_workers_of_a_class_fork_with_its_models_library_preloaded(iris_model, iris_lr, tmp_path):
    """The class's runner names its ``BentoModel``: the fork server imports scikit-learn once."""
    source = SERVICE.replace('@bentoml.service(name="iris_ref")', '@bentoml.service(name="iris_ref", workers=2)')
    (tmp_path / "service.py").write_text(source)
    rows = [[5.1, 3.5, 1.4, 0.2]]
    with serve("service:Iris", cwd=tmp_path) as srv:
        response = httpx.post(srv.url + "/predict", json={"input": rows})
        assert response.status_code == 200 and response.json() == iris_lr.predict(np.array(rows)).tolist()
        [line] = [line for line in srv.log_text().splitlines() if "fork server up" in line]
        assert "sklearn.linear_model" in line
