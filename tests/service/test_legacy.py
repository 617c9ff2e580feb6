"""0.x front-end: decorators, artifacts, adapters and save() error paths, in-process."""

from __future__ import annotations

import sys
import textwrap

import pytest

import bentotui
from bentotui.adapters import DataframeInput, JsonInput, StringInput
from bentotui.exceptions import BadInput, BuildError, InvalidArgument, NotFound
from bentotui.io import HTTPRequest
from bentotui.service.artifacts import PickleArtifact, PytorchModelArtifact, SklearnModelArtifact
from bentotui.service.decorators import api_methods
from bentotui.service.source import definitions_only, infer_pip_packages, merge_packages


def _iris_service():
    @bentotui.artifacts([SklearnModelArtifact("model")])
    @bentotui.env(infer_pip_packages=True)
    class IrisClassifier(bentotui.BentoService):
        @bentotui.api(input=DataframeInput(), batch=True)
        def predict(self, df):
            return self.artifacts.model.predict(df)

    return IrisClassifier


def test_pack_and_artifacts_access(iris_lr):
    svc = _iris_service()()
    assert svc.pack("model", iris_lr) is svc
    assert svc.artifacts.model is iris_lr
    assert svc.name == "irisclassifier"


def test_pack_unknown_artifact_names_the_declared_ones(iris_lr):
    svc = _iris_service()()
    with pytest.raises(InvalidArgument, match="no artifact 'modle'; declared: model"):
        svc.pack("modle", iris_lr)


def test_pack_wrong_object_is_refused():
    svc = _iris_service()()
    with pytest.raises(InvalidArgument, match="scikit-learn estimator"):
        svc.pack("model", object())


def test_unpacked_artifact_access_says_pack_first():
    svc = _iris_service()()
    with pytest.raises(NotFound, match=r"not packed; call pack\('model', obj\)"):
        _ = svc.artifacts.model


def test_save_with_missing_artifact_stores_nothing(bentotui_home):
    svc = _iris_service()()
    with pytest.raises(BuildError, match="artifact\\(s\\) model not packed"):
        svc.save()
    assert not any((bentotui_home / "models").glob("*/*")) if (bentotui_home / "models").exists() else True


def test_api_on_a_plain_function_is_refused():
    with pytest.raises(BuildError, match="decorates methods"):

        @bentotui.api(input=JsonInput())
        def predict(df):
            return df


def test_api_on_a_non_function_is_refused():
    with pytest.raises(BuildError, match="decorates methods, not int"):
        bentotui.api(input=JsonInput())(42)


def test_api_on_a_staticmethod_is_refused():
    with pytest.raises(BuildError, match="staticmethod"):
        bentotui.api(input=JsonInput())(staticmethod(lambda x: x))


def test_api_mixing_styles_is_refused():
    with pytest.raises(BuildError, match="mixes 0.x arguments \\(batch\\) with 1.2 arguments \\(batchable\\)"):
        bentotui.api(batch=True, batchable=True)


def test_api_legacy_needs_input():
    with pytest.raises(BuildError, match="needs input="):
        bentotui.api(batch=True)


def test_api_unknown_argument():
    with pytest.raises(BuildError, match="unknown argument\\(s\\) inptu"):
        bentotui.api(inptu=JsonInput())


def test_class_style_api_on_a_bentoservice_is_reported():
    class Wrong(bentotui.BentoService):
        @bentotui.api(batchable=True)
        def predict(self, x):
            return x

    with pytest.raises(BuildError, match="Wrong.predict: @bentotui.api here takes input="):
        api_methods(Wrong, "legacy")


def test_artifacts_and_env_need_a_bentoservice():
    with pytest.raises(BuildError, match="BentoService subclass"):
        bentotui.artifacts([SklearnModelArtifact("model")])(object)
    with pytest.raises(BuildError, match="BentoService subclass"):
        bentotui.env(pip_packages=["x"])(dict)


def test_artifacts_rejects_duplicates_and_non_artifacts():
    with pytest.raises(BuildError, match="declares model more than once"):
        bentotui.artifacts([SklearnModelArtifact("model"), PickleArtifact("model")])
    with pytest.raises(BuildError, match="expects artifact objects"):
        bentotui.artifacts(["model"])


def test_artifact_names_must_be_identifiers():
    with pytest.raises(InvalidArgument, match="Python identifier"):
        SklearnModelArtifact("my model")


def test_pytorch_artifact_checks_the_object_type():
    with pytest.raises(InvalidArgument, match="torch.nn.Module"):
        PytorchModelArtifact("net").check(object())


def test_definitions_only_drops_training_and_save():
    script = textwrap.dedent(
        '''
        import bentotui as bentoml
        from sklearn.linear_model import LogisticRegression
        THRESHOLD = 0.5
        clf = LogisticRegression().fit([[0], [1]], [0, 1])

        # comment between decorators is kept
        @bentoml.artifacts([bentoml.frameworks.sklearn.SklearnModelArtifact("model")])
        class Svc(bentoml.BentoService):
            @bentoml.api(input=None)
            def predict(self, df):
                return df

        svc = Svc()
        svc.pack("model", clf)
        svc.save()
        '''
    )
    out = definitions_only(script, "train.py")
    assert "class Svc" in out and "@bentoml.artifacts" in out and "THRESHOLD = 0.5" in out
    assert "fit(" not in out and "save()" not in out and "pack(" not in out
    compile(out, "extracted.py", "exec")


def test_definitions_only_syntax_error_is_a_build_error():
    with pytest.raises(BuildError, match="cannot read broken.py"):
        definitions_only("def (:\n", "broken.py")


def test_infer_pip_packages_pins_installed_versions():
    from importlib.metadata import version

    pins = infer_pip_packages({"svc.py": "import os\nimport sklearn\nimport yaml\nimport bentotui\nimport svc\n"})
    assert pins == [f"PyYAML=={version('PyYAML')}", f"scikit-learn=={version('scikit-learn')}"]
    assert merge_packages(["scikit_learn>=1"], pins) == ["scikit_learn>=1", f"PyYAML=={version('PyYAML')}"]


async def test_dataframe_input_accepts_0x_layouts():
    frame = DataframeInput().descriptor
    rows = await frame.from_http(HTTPRequest(b"[[5.1, 3.5, 1.4, 0.2], [6.0, 2.2, 5.0, 1.5]]", "application/json"))
    assert rows.shape == (2, 4)
    records = await frame.from_http(HTTPRequest(b'[{"a": 1, "b": 2}]', "application/json"))
    assert list(records.columns) == ["a", "b"]
    columns = await frame.from_http(HTTPRequest(b'{"a": {"0": 1, "1": 2}}', "application/json"))
    assert columns["a"].tolist() == [1, 2]
    csv = await frame.from_http(HTTPRequest(b"a,b\n1,2\n", "text/csv"))
    assert csv.shape == (1, 2)
    with pytest.raises(BadInput, match="expected a table"):
        await frame.from_http(HTTPRequest(b"42", "application/json"))
    with pytest.raises(BadInput, match="not valid JSON"):
        await frame.from_http(HTTPRequest(b"[1,", "application/json"))


async def test_file_and_image_inputs():
    import io

    from PIL import Image

    from bentotui.adapters import FileInput, ImageInput

    png = io.BytesIO()
    Image.new("L", (3, 2)).save(png, format="PNG")
    image = await ImageInput(pilmode="RGB").descriptor.from_http(HTTPRequest(png.getvalue(), "image/png"))
    assert image.size == (3, 2) and image.mode == "RGB"
    with pytest.raises(BadInput, match="not an image"):
        await ImageInput().descriptor.from_http(HTTPRequest(b"nope", "image/png"))
    upload = await FileInput().descriptor.from_http(HTTPRequest(b"abc", "text/plain"))
    assert upload.read() == b"abc"


async def test_string_and_json_inputs():
    from bentotui.adapters import DataframeOutput, JsonOutput

    assert DataframeOutput().descriptor.to_http({"a": [1, 2]}).body == b'[{"a":1},{"a":2}]'
    assert JsonOutput().descriptor.to_http({"a": 1}).body == b'{"a":1}'
    assert await StringInput().descriptor.from_http(HTTPRequest(b"hi", "text/plain")) == "hi"
    assert await JsonInput().descriptor.from_http(HTTPRequest(b'{"x": 1}', "application/json")) == {"x": 1}


def test_save_from_a_repl_module_is_refused(iris_lr, monkeypatch):
    cls = _iris_service()
    monkeypatch.setattr(cls, "__module__", "not_a_real_module_xyz")
    monkeypatch.setitem(sys.modules, "not_a_real_module_xyz", type(sys)("not_a_real_module_xyz"))
    with pytest.raises(BuildError, match="no source file"):
        cls().pack("model", iris_lr).save()


class Echo(bentotui.BentoService):
    """A service without artifacts, importable by reference, for the compiled-service tests."""

    @bentotui.api(input=JsonInput(), batch=True)
    def shout(self, items):
        return [str(item).upper() for item in items]

    @bentotui.api(input=DataframeInput(), batch=False, route="rows/count")
    def count(self, df):
        return {"rows": len(df)}


async def test_saved_service_compiles_onto_a_1x_service():
    from bentotui.service.legacy import load_saved

    svc = load_saved("tests.service.test_legacy:Echo", {})
    assert svc.name == "echo" and svc.default_port == 5000
    assert {api.route for api in svc.apis.values()} == {"/shout", "/rows/count"}
    (runner,) = svc.runners
    assert runner.methods["shout"].config.batchable and not runner.methods["count"].config.batchable
    shout = svc.apis["shout"]
    value = await shout.input.from_http(HTTPRequest(b'["a", "b"]', "application/json"))
    assert await shout.call(value) == "['A', 'B']"  # one request is one item, even a JSON list
    count = svc.apis["count"]
    frame = await count.input.from_http(HTTPRequest(b"[[1, 2], [3, 4], [5, 6]]", "application/json"))
    assert await count.call(frame) == {"rows": 3}


ARTIFACT_SERVICE = '''
import bentotui
from bentotui.adapters import JsonInput
from bentotui.service.artifacts import PickleArtifact, PytorchModelArtifact


class Table(dict):
    """A lookup table that is also callable (the picklable framework stores callables)."""

    def __call__(self, key):
        return self[key]


@bentotui.artifacts([PickleArtifact("table"), PytorchModelArtifact("net")])
@bentotui.env(pip_packages=["torch"])
class Mixed(bentotui.BentoService):
    @bentotui.api(input=JsonInput())
    def lookup(self, key):
        return self.artifacts.table[key]

    @bentotui.api(input=JsonInput())
    def double(self, values):
        import torch

        return self.artifacts.net(torch.tensor(values, dtype=torch.float32)).tolist()
'''


def test_save_stores_each_artifact_as_a_model_and_a_bento(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")  # not installable on every Python the suite runs on

    import bentotui.bentos
    import bentotui.models
    from bentotui.service.legacy import load_instance

    (tmp_path / "mixed_service.py").write_text(ARTIFACT_SERVICE)
    monkeypatch.syspath_prepend(str(tmp_path))
    from mixed_service import Mixed, Table  # type: ignore[import-not-found]

    net = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2) * 2)
    path = Mixed().pack("table", Table(a=1)).pack("net", net).save()

    bento = bentotui.bentos.get("mixed:latest")
    assert str(bento.path) == path
    assert (bento.path / "src" / "mixed_service.py").read_text() == ARTIFACT_SERVICE
    assert bento.info.python.packages == ["torch"]
    stored = {m.tag.name: m.info.module for m in bentotui.models.list()}
    assert stored == {"mixed_table": "bentotui.picklable_model", "mixed_net": "bentotui.pytorch"}
    tags = {m.tag.name.removeprefix("mixed_"): str(m.tag) for m in bento.info.models}
    instance = load_instance("mixed_service:Mixed", tags)
    assert instance.lookup("a") == 1
    assert instance.double([1.0, 3.0]) == [2.0, 6.0]
    monkeypatch.delitem(sys.modules, "mixed_service")


def test_pickle_artifact_holds_non_callable_objects():
    artifact = PickleArtifact("vocab")
    model = artifact.save("svc_vocab", {"a": 1}, labels={}, metadata={})
    assert artifact.load(model) == {"a": 1}


def test_transformers_artifact_wants_a_pipeline():
    from bentotui.service.artifacts import TransformersModelArtifact

    with pytest.raises(InvalidArgument, match="expects a transformers pipeline"):
        TransformersModelArtifact("clf").check({"model": object()})


def test_service_sources_copies_the_whole_package(tmp_path, monkeypatch):
    from bentotui.service.source import service_sources

    pkg = tmp_path / "irispkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("SCALE = 2\n")
    (pkg / "sub" / "svc.py").write_text("import bentotui\n\n\nclass Svc(bentotui.BentoService):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from irispkg.sub.svc import Svc  # type: ignore[import-not-found]

    module, files = service_sources(Svc)
    assert module == "irispkg.sub.svc"
    assert set(files) == {"irispkg/__init__.py", "irispkg/helpers.py", "irispkg/sub/__init__.py", "irispkg/sub/svc.py"}
    for name in ("irispkg", "irispkg.sub", "irispkg.sub.svc"):
        monkeypatch.delitem(sys.modules, name)


async def test_dataframe_input_reads_an_array_of_plain_values_as_one_column():
    frame = DataframeInput().descriptor
    texts = await frame.from_http(HTTPRequest(b'["the acting was a bit lacking.", "great"]', "application/json"))
    assert texts.shape == (2, 1) and texts.iloc[:, 0].tolist() == ["the acting was a bit lacking.", "great"]
    numbers = await DataframeInput(columns=["x"]).descriptor.from_http(HTTPRequest(b"[1, 2, 3]", "application/json"))
    assert numbers["x"].tolist() == [1, 2, 3]
    with pytest.raises(BadInput, match="orient 'records' expects a JSON array of rows"):
        await frame.from_http(HTTPRequest(b'[{"a": 1}, "loose"]', "application/json"))


def test_env_takes_the_older_0x_spellings():
    @bentotui.env(auto_pip_dependencies=True, pip_dependencies=["tabulate"])
    class Old(bentotui.BentoService):
        pass

    assert Old._env.infer_pip_packages and Old._env.pip_packages == ["tabulate"]


def test_0x_artifact_import_paths_and_checks():
    from bentotui.service.artifacts import BentoServiceArtifact
    from bentotui.service.artifacts.common import JSONArtifact, TextFileArtifact
    from bentotui.service.artifacts.common import PickleArtifact as FromCommon
    from bentotui.service.artifacts.pickle import PickleArtifact as FromPickle

    assert FromCommon is FromPickle is PickleArtifact and issubclass(JSONArtifact, BentoServiceArtifact)
    JSONArtifact("labels").check({"0": "setosa"})
    with pytest.raises(InvalidArgument, match="'labels' expects a JSON-serializable value"):
        JSONArtifact("labels").check({"x": object()})
    TextFileArtifact("vocab").check("a b c")
    with pytest.raises(InvalidArgument, match="'vocab' expects a str, got bytes"):
        TextFileArtifact("vocab").check(b"a b c")


def test_web_static_content_needs_a_bentoservice():
    from bentotui.service.legacy import web_static_content

    with pytest.raises(BuildError, match="@bentotui.web_static_content decorates a bentotui.BentoService"):
        web_static_content("./static")(dict)
