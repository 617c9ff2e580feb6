"""bentotui.sklearn: joblib and skops round trips, signatures, and the batch-checking runnable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bentotui
from bentotui.exceptions import BadInput, InvalidArgument
from bentotui.frameworks import sklearn as bsk
from bentotui.store.models import ModelStore, UntrustedModel


def double(x):
    """A user function inside a pipeline: skops flags it as a type it does not trust."""
    return x * 2


def test_joblib_round_trip_and_default_signatures(iris_lr, iris_data):
    x, _ = iris_data
    model = bsk.save_model("iris", iris_lr)
    assert model.info.module == bsk.MODULE_NAME and model.info.framework == "sklearn"
    assert model.info.framework_version == __import__("sklearn").__version__
    assert model.info.options == {"serialization": "joblib", "n_features_in": 4}
    assert model.info.signatures == {
        "predict": {"batchable": True, "batch_dim": 0},
        "predict_proba": {"batchable": True, "batch_dim": 0},
    }
    assert model.path_of("model.joblib").is_file()
    loaded = bsk.load_model("iris:latest")
    np.testing.assert_array_equal(loaded.predict(x), iris_lr.predict(x))
    assert bsk.get(model.tag) == model
    assert model.load_model().predict(x[:1]) == iris_lr.predict(x[:1])  # store dispatch


def test_predict_proba_is_a_default_only_when_present(iris_data):
    from sklearn.svm import SVC

    x, y = iris_data
    model = bsk.save_model("svc", SVC().fit(x, y))
    assert set(model.info.signatures) == {"predict"}


def test_skops_round_trip_trusts_exactly_the_types_recorded_at_save(iris_data):
    from sklearn.ensemble import RandomForestClassifier

    x, y = iris_data
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    model = bsk.save_model("forest", forest, serialization="skops")
    assert model.path_of("model.skops").is_file() and not model.path_of("model.joblib").exists()
    # the allow-list lives in the store's provenance record, never in model.yaml (an archive's)
    assert "trusted_types" not in model.info.options
    assert model.provenance.trusted_types == ("sklearn.tree._tree.Tree",)
    np.testing.assert_array_equal(bsk.load_model(model).predict(x), forest.predict(x))


def _pipeline_with_a_user_function(iris_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x, y = iris_data
    return make_pipeline(FunctionTransformer(double), LogisticRegression(max_iter=1000)).fit(x, y)


def test_skops_user_type_loads_where_it_was_saved_not_from_an_import(iris_data, tmp_path):
    x, _ = iris_data
    pipe = _pipeline_with_a_user_function(iris_data)
    model = bsk.save_model("custom", pipe, serialization="skops")
    np.testing.assert_array_equal(bsk.load_model(model).predict(x), pipe.predict(x))  # saved here

    archive = bentotui.models.export_model(model.tag, tmp_path)
    bentotui.models.delete(model.tag)
    imported = bentotui.models.import_model(archive)
    with pytest.raises(UntrustedModel, match=r"not trusted: tests\.frameworks\.test_sklearn\.double; .*models trust"):
        bsk.load_model(imported)
    loaded = bsk.load_model(imported, trusted=["tests.frameworks.test_sklearn.double"])
    np.testing.assert_array_equal(loaded.predict(x), pipe.predict(x))
    ModelStore().trust(imported.tag)  # the user's consent covers the types its file needs
    np.testing.assert_array_equal(bsk.load_model(imported.tag).predict(x), pipe.predict(x))


def test_skops_editing_model_yaml_drops_trust_instead_of_adding_it(iris_data):
    from sklearn.tree import DecisionTreeClassifier

    x, y = iris_data
    model = bsk.save_model("tree", DecisionTreeClassifier().fit(x, y), serialization="skops")
    manifest = model.path / "model.yaml"
    manifest.write_text(manifest.read_text().replace("options:\n", "options:\n  trusted_types: [sklearn.tree._tree.Tree]\n"))
    assert "trusted_types" in bentotui.models.get(model.tag).info.options
    with pytest.raises(UntrustedModel, match=r"not trusted: sklearn\.tree\._tree\.Tree; .*no record of where"):
        bsk.load_model(model.tag)


def test_save_errors(iris_lr):
    with pytest.raises(InvalidArgument, match="saves scikit-learn estimators, got dict"):
        bsk.save_model("bad", {"not": "a model"})
    with pytest.raises(InvalidArgument, match="unknown serialization 'pickle5'"):
        bsk.save_model("bad", iris_lr, serialization="pickle5")
    with pytest.raises(InvalidArgument, match="has no method 'transform'"):
        bsk.save_model("bad", iris_lr, signatures={"transform": {"batchable": True}})
    assert bentotui.models.list() == []


def test_runnable_batches_rows_of_any_container(iris_model, iris_lr, iris_data):
    x, _ = iris_data
    runnable_class = bsk.get_runnable(iris_model)
    assert set(runnable_class.runnable_methods()) == {"predict", "predict_proba"}
    assert runnable_class.runnable_methods()["predict"].batchable
    runnable = runnable_class(model_tag=str(iris_model.tag))
    expected = iris_lr.predict(x[:3])
    for batch in (x[:3], x[:3].tolist(), pd.DataFrame(x[:3])):
        out = runnable.predict(batch)
        assert len(out) == 3
        np.testing.assert_array_equal(out, expected)
    assert runnable.predict_proba(x[:3]).shape == (3, 3)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([[5.1, 3.5], [4.9, 3.0], [6.2, 3.4]], "expected 4 features, got 2"),
        ([5.1, 3.5, 1.4, 0.2], r"expected a 2-D batch of rows of 4 features, got shape \[4\]"),
        (5.1, "expected a batch \\(a list or array of samples\\), got a single float64 value"),
        ([[5.1, 3.5, 1.4, 0.2], [4.9, 3.0]], "rows of the batch have different lengths"),
        ([["a", "b", "c", "d"]], r"predict: .*(string|numeric)"),
        ([[np.nan, 1.0, 1.0, 1.0]], "predict: Input X contains NaN"),
    ],
)
def test_runnable_rejects_bad_batches_as_bad_input(iris_model, batch, message):
    runnable = bsk.get_runnable(iris_model)(model_tag=str(iris_model.tag))
    with pytest.raises(BadInput, match=message):
        runnable.predict(batch)


def test_runnable_rejects_a_dataframe_of_the_wrong_width(iris_model):
    runnable = bsk.get_runnable(iris_model)(model_tag=str(iris_model.tag))
    with pytest.raises(BadInput, match="expected 4 features, got 2"):
        runnable.predict(pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_custom_signatures_are_recorded_and_served(iris_lr, iris_data):
    x, _ = iris_data
    model = bsk.save_model("iris", iris_lr, signatures={"decision_function": {"batchable": False}})
    assert model.info.signatures == {"decision_function": {"batchable": False, "batch_dim": 0}}
    runnable_class = bsk.get_runnable(model)
    assert not runnable_class.runnable_methods()["decision_function"].batchable
    out = runnable_class(model_tag=str(model.tag)).decision_function(x[:2])
    np.testing.assert_allclose(out, iris_lr.decision_function(x[:2]))


def test_runner_from_the_model_runs_in_process(iris_model, iris_lr, iris_data):
    x, _ = iris_data
    runner = iris_model.to_runner()
    runner.init_local()
    np.testing.assert_array_equal(runner.predict.run(x[:3]), iris_lr.predict(x[:3]))


def test_worker_rebuilds_the_runnable_from_the_model_tag(iris_model, iris_lr, iris_data):
    from bentotui.runner.spec import WorkerSpec

    x, _ = iris_data
    spec = WorkerSpec.for_runner(iris_model.to_runner())
    assert spec == WorkerSpec("model", str(iris_model.tag), {})
    np.testing.assert_array_equal(spec.build().predict(x[:5]), iris_lr.predict(x[:5]))


def _text_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["the striker scored", "a late goal", "rates were raised", "shares fell"]
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, [0, 0, 1, 1])


def test_text_pipeline_takes_1d_batches_of_any_container():
    """BentoML batches along dimension 0 whatever the container: texts are a 1-D batch."""
    pipe = _text_pipeline()
    model = bsk.save_model("news", pipe)
    runner = model.to_runner()
    runner.init_local()
    expected = pipe.predict(["a goal", "rates fell"]).tolist()
    for batch in (["a goal", "rates fell"], np.array(["a goal", "rates fell"]), pd.Series(["a goal", "rates fell"])):
        assert runner.predict.run(batch).tolist() == expected
    assert runner.predict.run(["hello"]).shape == (1,)
    with pytest.raises(BadInput, match="expected a batch"):
        runner.predict.run("hello")


def test_external_modules_travel_with_the_estimator(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from tests.frameworks.user_modules import run_elsewhere, user_module

    x, y = np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]
    with user_module(tmp_path, "my_features", "def square(x):\n    return x ** 2\n") as features:
        pipe = make_pipeline(FunctionTransformer(features.square), LogisticRegression()).fit(x, y)
        with_code = bsk.save_model("shipped", pipe, external_modules=[features])
        by_name = bsk.save_model("by-name", pipe)
        with pytest.raises(InvalidArgument, match="external_modules needs serialization='joblib'"):
            bsk.save_model("skops", pipe, serialization="skops", external_modules=[features])
    assert with_code.info.options["pickler"] == "cloudpickle"
    code = """
        import numpy as np, bentotui
        print(bentotui.sklearn.load_model("{tag}").predict(np.array([[0.0, 1.0], [6.0, 7.0]])).tolist())
    """
    shipped = run_elsewhere(code.format(tag=with_code.tag), tmp_path)
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout.strip() == str(pipe.predict(np.array([[0.0, 1.0], [6.0, 7.0]])).tolist())
    missing = run_elsewhere(code.format(tag=by_name.tag), tmp_path)
    assert missing.returncode != 0 and "No module named 'my_features'" in missing.stderr
