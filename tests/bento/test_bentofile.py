"""Every way a bentofile can be wrong gets one BuildError line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bentotui.bento.bentofile import BentoBuildConfig, load_bentofile
from bentotui.bento.build import build_from_bentofile
from bentotui.exceptions import BuildError
from tests.bento.conftest import IRIS_SERVICE


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "service.py").write_text(IRIS_SERVICE)
    path = tmp_path / "bentofile.yaml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    config = BentoBuildConfig(service="service:svc")
    assert config.include == ["**/*.py"]
    assert config.docker.image.startswith("python:3.") and config.docker.image.endswith("-slim")
    assert config.python.lock_packages is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service: [unclosed", "is not valid YAML (line 1)"),
        ("- just\n- a list\n", "expected a mapping of options"),
        ("service: service:svc\nincldue: ['*.py']\n", "unknown field 'incldue'"),
        ("name: iris\n", "missing required field 'service'"),
        ("service: service:svc\ninclude: '*.py'\n", "field 'include': Input should be a valid list"),
        ("service: service:svc\ninclude: [1]\n", "field 'include.0': Input should be a valid string"),
        ("service: 'not a ref'\n", "field 'service'"),
        ("service: service:svc\nname: Bad Name\n", "field 'name': invalid name 'Bad Name'"),
        ("service: service:svc\ndocker: {expose_port: 70000}\n", "field 'docker.expose_port'"),
        ("service: service:svc\ndocker: {distro: alpine}\n", "field 'docker.distro'"),
        ("service: service:svc\nmodels: ['iris::1']\n", "field 'models'"),
    ],
)
def test_bad_bentofile(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BuildError) as err:
        load_bentofile(write(tmp_path, text))
    assert message in err.value.message
    assert "\n" not in err.value.message


def test_missing_bentofile(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="bentofile .* not found"):
        load_bentofile(tmp_path / "bentofile.yaml")


def test_unknown_model_tag(tmp_path: Path, iris_model) -> None:
    path = write(tmp_path, "service: service:svc\nmodels: ['nosuchmodel:latest']\n")
    with pytest.raises(BuildError, match="models: model 'nosuchmodel:latest' is not in the store"):
        build_from_bentofile(path)


def test_missing_service_module(tmp_path: Path) -> None:
    path = write(tmp_path, "service: nosuchmodule:svc\n")
    with pytest.raises(BuildError, match="cannot load service 'nosuchmodule:svc'"):
        build_from_bentofile(path)


def test_missing_service_attribute(tmp_path: Path, iris_model) -> None:
    path = write(tmp_path, "service: service:nosuchattr\n")
    with pytest.raises(BuildError, match="has no attribute 'nosuchattr'"):
        build_from_bentofile(path)


def test_missing_requirements_txt(tmp_path: Path, iris_model) -> None:
    path = write(tmp_path, "service: service:svc\npython: {requirements_txt: nope.txt}\n")
    with pytest.raises(BuildError, match="python.requirements_txt: .*nope.txt not found"):
        build_from_bentofile(path)


def test_pattern_outside_build_folder(tmp_path: Path, iris_model) -> None:
    path = write(tmp_path, "service: service:svc\ninclude: ['../*.py']\n")
    with pytest.raises(BuildError, match="must be relative to the build folder"):
        build_from_bentofile(path)


def test_failed_build_stores_nothing(tmp_path: Path, iris_model) -> None:
    import bentotui.bentos

    with pytest.raises(BuildError):
        build_from_bentofile(write(tmp_path, "service: service:svc\nmodels: ['absent:1']\n"))
    assert bentotui.bentos.list() == []
