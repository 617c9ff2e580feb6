"""``bentotui serve TAG`` and ``bentotui serve PATH/TO/BENTO``: real server processes over HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

import bentotui.models
from bentotui.bento.serving import ensure_models, find_bento, load_bento_service
from bentotui.exceptions import NotFound
from tests.bento.conftest import IRIS_ROWS
from tests.helpers.server import serve


def classify(url: str) -> list[int]:
    response = httpx.post(url + "/classify", json=IRIS_ROWS, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_serve_by_tag(tmp_path: Path, iris_bento, iris_model) -> None:
    """Served from the bento's src/ (not the cwd) with the bento's model, even once the store lost it."""
    bentotui.models.delete(iris_model.tag)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with serve(str(iris_bento.tag), cwd=elsewhere) as server:
        assert classify(server.url) == [0, 2]
        assert server.run.port != 0
    assert bentotui.models.get(iris_model.tag).tag == iris_model.tag


def test_serve_by_path(tmp_path: Path, iris_bento) -> None:
    copy = tmp_path / "copied-bento"
    shutil.copytree(iris_bento.path, copy)
    with serve(str(copy), cwd=tmp_path) as server:
        assert classify(server.url) == [0, 2]


def test_load_bento_service(iris_bento) -> None:
    loaded = load_bento_service(f"{iris_bento.tag.name}:latest")
    assert loaded.working_dir == iris_bento.path / "src"
    assert loaded.default_port == 3000
    assert list(loaded.service.apis) == ["classify"]


def test_class_name_spelling_finds_the_bento(iris_bento) -> None:
    """0.x users type ``IrisClassifier:latest`` for the bento ``irisclassifier``."""
    assert find_bento("Iris_Classifier:latest").tag == iris_bento.tag


def test_not_a_bento() -> None:
    assert find_bento("service:svc") is None
    assert find_bento("Not A Tag!") is None
    with pytest.raises(NotFound, match="no bento 'nosuch:latest'"):
        load_bento_service("nosuch:latest")


def test_missing_model_in_bento(tmp_path: Path, iris_bento, iris_model) -> None:
    bentotui.models.delete(iris_model.tag)
    copy = tmp_path / "broken"
    shutil.copytree(iris_bento.path, copy)
    shutil.rmtree(copy / "models")
    with pytest.raises(NotFound, match="does not carry it"):
        ensure_models(find_bento(str(copy)))


def test_bentofile_service_as_a_file_path(iris_project: Path) -> None:
    """``service: "service.py:svc"`` (BentoML 1.2's bentofile form) builds and serves like ``service:svc``."""
    from bentotui.bento.build import build_from_bentofile

    bentofile = iris_project / "bentofile.yaml"
    bentofile.write_text(bentofile.read_text().replace('service: "service:svc"', 'service: "service.py:svc"'))
    bento = build_from_bentofile(bentofile)
    assert bento.info.service == "service.py:svc"
    loaded = load_bento_service(f"{bento.tag}")
    assert loaded.working_dir == bento.path / "src" and list(loaded.service.apis) == ["classify"]


def test_bentofile_service_path_may_not_leave_the_bento(iris_project: Path) -> None:
    from bentotui.bento.build import build_from_bentofile
    from bentotui.exceptions import BuildError

    bentofile = iris_project / "bentofile.yaml"
    bentofile.write_text(bentofile.read_text().replace('service: "service:svc"', 'service: "../service.py:svc"'))
    with pytest.raises(BuildError, match="outside the working folder"):
        build_from_bentofile(bentofile)


@pytest.mark.slow
def test_serve_with_no_target_uses_the_bentofile(iris_project: Path) -> None:
    """``bentotui serve`` with no TARGET (BentoML's ``.``) serves what the folder's bentofile names."""
    bentofile = iris_project / "bentofile.yaml"
    bentofile.write_text(bentofile.read_text().replace('service: "service:svc"', 'service: "service.py:svc"'))
    with serve(None, cwd=iris_project) as server:
        assert classify(server.url) == [0, 2]


def test_no_target_and_no_bentofile_says_what_to_give(tmp_path: Path) -> None:
    from bentotui.bento.serving import resolve_bentofile

    assert resolve_bentofile(".", tmp_path) is None


def test_a_folder_without_bentofile_serves_its_service_py(iris_project: Path) -> None:
    """As BentoML: ``serve .`` in a folder with only ``service.py`` imports that file."""
    from bentotui.bento.serving import resolve_bentofile

    (iris_project / "bentofile.yaml").unlink()
    target = resolve_bentofile(".", iris_project)
    assert target is not None and list(target.service.apis) == ["classify"]
    assert target.working_dir == iris_project.resolve()


ENV_SERVICE = '''
import os

import bentotui as bentoml

svc = bentoml.Service(name="env_echo")
TOKEN_AT_IMPORT = os.environ.get("HF_TOKEN")


@svc.api(input=bentoml.io.JSON(), output=bentoml.io.JSON())
def env(_):
    return {"at_import": TOKEN_AT_IMPORT, "region": os.environ.get("REGION")}
'''

ENV_BENTOFILE = """
service: "service.py:svc"
envs:
- name: HF_TOKEN
  value: from-bentofile
- name: REGION
  value: eu
- name: API_KEY
"""


def test_bentofile_envs_are_set_before_import_unless_already_set(tmp_path: Path) -> None:
    """BentoML's ``envs:``: set when the project or its bento serves; the environment wins; a
    valueless one is only named in a warning."""
    (tmp_path / "service.py").write_text(ENV_SERVICE)
    (tmp_path / "bentofile.yaml").write_text(ENV_BENTOFILE)
    with serve(".", cwd=tmp_path, env={"REGION": "us"}) as server:
        answer = httpx.post(server.url + "/env", json={}).json()
        assert answer == {"at_import": "from-bentofile", "region": "us"}
        assert "expects the environment variable API_KEY" in server.log_text()
    bento = bentotui.bentos.build_bentofile(build_ctx=tmp_path)
    assert [(e.name, e.value) for e in bento.info.envs] == [("HF_TOKEN", "from-bentofile"), ("REGION", "eu"), ("API_KEY", None)]
    assert "ENV" in (bento.path / "env" / "docker" / "Dockerfile").read_text()
    with serve(str(bento.tag), cwd=tmp_path) as server:
        assert httpx.post(server.url + "/env", json={}).json() == {"at_import": "from-bentofile", "region": "eu"}
