"""0.x's saved-bundle uses: ``bentoml.load(path)``, ``bentotui run TAG API``, ``@web_static_content``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bentotui.exceptions import BuildError, NotFound
from bentotui.service.bundle import load
from tests.helpers.server import serve

_SCRIPT = Path(sys.executable).with_name("bentotui")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bentotui"]

SERVICE = '''
import bentotui as bentoml
from bentotui.adapters import DataframeInput
from bentotui.frameworks.sklearn import SklearnModelArtifact


@bentoml.artifacts([SklearnModelArtifact("model")])
@bentoml.env(auto_pip_dependencies=True)
class BundleIris(bentoml.BentoService):
    @bentoml.api(input=DataframeInput(), batch=True)
    def predict(self, df):
        return self.artifacts.model.predict(df)

    @bentoml.api(input=DataframeInput(), batch=True)
    def lengths(self, df):
        return df.iloc[:, 0].str.len().tolist()
'''


def _import_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, module: str) -> object:
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    imported = __import__(module)
    monkeypatch.setitem(sys.modules, module, imported)  # forgotten at teardown: each test imports its own
    return imported


@pytest.fixture
def saved_path(tmp_path, monkeypatch, iris_lr) -> str:
    module = _import_service(tmp_path, monkeypatch, SERVICE, "bundle_iris")
    return module.BundleIris().pack("model", iris_lr).save()


def bentotui_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, env=env)


def assert_user_error(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_load_by_path_and_by_tag_calls_the_apis_in_process(saved_path, iris_data, iris_lr):
    x, _ = iris_data
    expected = iris_lr.predict(x[:3]).tolist()
    by_path = load(saved_path)
    assert by_path.predict(x[:3]).tolist() == expected  # 0.x: the method itself, artifacts loaded
    assert load("BundleIris:latest").artifacts.model.predict(x[:3]).tolist() == expected


def test_load_of_a_1x_bento_is_its_service(tmp_path, iris_model, monkeypatch):
    from bentotui.bento.build import build_from_bentofile
    from tests.bento.conftest import IRIS_ROWS, write_project

    bento = build_from_bentofile(write_project(tmp_path / "project") / "bentofile.yaml")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "service", raising=False)
    service = load(str(bento.tag))  # 1.x's bentoml.load: the Service, runners local on first call
    assert service.name == "iris_classifier" and list(service.apis) == ["classify"]
    (runner,) = service.runners
    assert runner.predict.run(IRIS_ROWS).tolist() == [0, 2]
    monkeypatch.delitem(sys.modules, "service")


def test_load_of_nothing_names_it():
    with pytest.raises(NotFound, match="no saved bundle 'missing:latest'"):
        load("missing:latest")


def test_run_prints_the_output_as_the_server_sends_it(saved_path, tmp_path, iris_data, iris_lr):
    x, _ = iris_data
    done = bentotui_cli("run", "BundleIris:latest", "predict", "--input", str(x[:2].tolist()))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(iris_lr.predict(x[:2]).tolist()).replace(" ", "")

    csv = tmp_path / "rows.csv"
    csv.write_text("a,b,c,d\n" + "\n".join(",".join(map(str, row)) for row in x[100:103]) + "\n")
    done = bentotui_cli("run", saved_path, "predict", "--input-file", str(csv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(iris_lr.predict(x[100:103]).tolist()).replace(" ", "")

    # 0.x read a JSON array of strings into one column
    done = bentotui_cli("run", "BundleIris:latest", "lengths", "--input", '["the acting", "was lacking"]')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[10,11]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "--input", "[[1, 2]]"], "expecting 4 features"),
        (["predict", "--input", "[[1,"], "not valid JSON"),
        (["predicts", "--input", "[]"], "no API 'predicts'; its APIs: "),
        (["predict"], "exactly one of --input TEXT or --input-file PATH"),
        (["predict", "--input", "[]", "--input-file", "x.csv"], "exactly one of"),
        (["predict", "--input-file", "no-such.csv"], "no-such.csv: no such file"),
    ],
)
def test_run_refuses_bad_input_in_one_red_line(saved_path, args, message):
    assert_user_error(bentotui_cli("run", "BundleIris:latest", *args), message)


def test_run_of_an_unknown_bento_is_one_red_line():
    assert_user_error(bentotui_cli("run", "nothing:latest", "predict", "--input", "[]"), "no saved bundle 'nothing:latest'")


STATIC_SERVICE = '''
import bentotui as bentoml
from bentotui.adapters import JsonInput
from bentotui.service.legacy import web_static_content


@web_static_content("./ui")
class WithUI(bentoml.BentoService):
    @bentoml.api(input=JsonInput())
    def echo(self, value):
        return value
'''


def test_web_static_content_is_carried_and_served(tmp_path, monkeypatch):
    ui = tmp_path / "ui"
    (ui / "css").mkdir(parents=True)
    (ui / "help").mkdir()
    (ui / "index.html").write_text("<h1>iris ui</h1>")
    (ui / "help" / "index.html").write_text("<p>help</p>")
    (ui / "css" / "site.css").write_text("h1 { color: red }")
    module = _import_service(tmp_path, monkeypatch, STATIC_SERVICE, "with_ui")
    saved = Path(module.WithUI().save())
    assert (saved / "src" / "web_static_content" / "css" / "site.css").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with serve("WithUI:latest", cwd=elsewhere) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        page = client.get("/index.html")
        assert page.status_code == 200 and page.text == "<h1>iris ui</h1>"
        assert client.get("/").text == "<h1>iris ui</h1>"  # the web UI is the front page, as in 0.x
        assert "swagger" in client.get("/docs").text.lower()  # Swagger UI moved to /docs
        assert page.headers["content-type"].startswith("text/html")
        assert client.get("/css/site.css").headers["content-type"].startswith("text/css")
        assert client.get("/help/").text == "<p>help</p>"
        assert client.get("/nothing.js").status_code == 404
        assert client.get("/%2e%2e/%2e%2e/etc/passwd").status_code == 404
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}  # the APIs are untouched
        assert client.get("/docs.json").status_code == 200


def test_web_static_content_without_index_is_refused_before_saving(tmp_path, monkeypatch, bentotui_home):
    (tmp_path / "ui").mkdir()
    module = _import_service(tmp_path, monkeypatch, STATIC_SERVICE, "with_ui")
    with pytest.raises(BuildError, match=r"@web_static_content\('./ui'\) of WithUI: no index.html"):
        module.WithUI().save()
    assert not (bentotui_home / "bentos").exists() or not any((bentotui_home / "bentos").iterdir())
