"""What the framework modules share: store fields, framework checks, version warnings, lazy imports."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import bentotui
from bentotui.exceptions import InvalidArgument, NotFound
from bentotui.frameworks import picklable_model as bpm
from bentotui.frameworks import sklearn as bsk
from bentotui.frameworks._common import FrameworkVersionWarning


def test_labels_metadata_and_custom_objects_are_recorded(iris_lr):
    model = bsk.save_model(
        "iris",
        iris_lr,
        labels={"stage": "prod", "owner": "ml"},
        metadata={"accuracy": 0.97, "features": ["a", "b"]},
        custom_objects={"classes": ["setosa", "versicolor", "virginica"], "scale": lambda v: v * 2},
    )
    again = bentotui.models.get(model.tag)
    assert again.info.labels == {"stage": "prod", "owner": "ml"}
    assert again.info.metadata == {"accuracy": 0.97, "features": ["a", "b"]}
    assert again.custom_objects["classes"] == ["setosa", "versicolor", "virginica"]
    assert again.custom_objects["scale"](3) == 6


def test_a_model_of_another_framework_is_refused(iris_model):
    with pytest.raises(
        InvalidArgument, match=r"was saved with bentotui.sklearn, not bentotui.picklable_model"
    ):
        bpm.load_model(iris_model.tag)
    with pytest.raises(InvalidArgument, match="not bentotui.picklable_model"):
        bpm.get(str(iris_model.tag))


def test_unknown_model_is_not_found():
    with pytest.raises(NotFound):
        bsk.load_model("nothing:latest")


def test_loading_under_another_major_version_warns(iris_model, monkeypatch):
    import sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bsk.load_model(iris_model)  # same version: silent
    monkeypatch.setattr(sklearn, "__version__", "2.0.0")
    with pytest.warns(
        FrameworkVersionWarning, match=r"saved with scikit-learn 1\.\S+; loading it with scikit-learn 2\.0\.0"
    ):
        assert bsk.load_model(iris_model) is not None


def test_a_minor_version_change_is_silent(iris_model, monkeypatch):
    import sklearn

    major = sklearn.__version__.split(".")[0]
    monkeypatch.setattr(sklearn, "__version__", f"{major}.999.0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bsk.load_model(iris_model)


def test_bad_signature_options_are_refused(iris_lr):
    with pytest.raises(InvalidArgument, match="batchable must be true or false"):
        bsk.save_model("iris", iris_lr, signatures={"predict": {"batchable": "yes"}})


def test_public_aliases_and_0x_artifact_imports():
    assert bentotui.sklearn is bsk and bentotui.picklable_model is bpm
    assert bentotui.frameworks.pytorch.MODULE_NAME == "bentotui.pytorch"
    from bentotui.frameworks.sklearn import SklearnModelArtifact
    from bentotui.service.artifacts import SklearnModelArtifact as defined

    assert SklearnModelArtifact is defined
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        bentotui.frameworks.sklearn.Nope  # noqa: B018


def test_framework_modules_import_no_ml_library():
    code = (
        "import sys, bentotui.frameworks.sklearn, bentotui.frameworks.pytorch, "
        "bentotui.frameworks.transformers, bentotui.frameworks.picklable_model, bentotui.demo\n"
        "heavy = {'sklearn', 'torch', 'transformers', 'numpy', 'pandas', 'skops', 'joblib'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
