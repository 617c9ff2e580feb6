"""``bentoml.bentos.build`` / ``build_bentofile``: the Python build API takes a bentofile's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from bentotui import bentos
from bentotui.exceptions import BuildError
from tests.bento.conftest import write_project


def test_build_from_arguments_ignores_the_bentofile(tmp_path: Path, iris_model) -> None:
    project = write_project(tmp_path / "project")
    bento = bentos.build(
        "service.py:svc", name="iris-api", labels={"team": "ml"}, include=["service.py"],
        version="v1", build_ctx=project,
    )
    assert str(bento.tag) == "iris-api:v1"
    assert bento.info.labels == {"team": "ml"}  # not the bentofile's owner: tests
    assert sorted(p.name for p in (bento.path / "src").iterdir()) == ["service.py"]
    assert bentos.get("iris-api:latest").tag == bento.tag


def test_build_bentofile_reads_it_relative_to_the_build_context(tmp_path: Path, iris_model) -> None:
    project = write_project(tmp_path / "project")
    bento = bentos.build_bentofile(build_ctx=project, version="v2")
    assert str(bento.tag) == "iris_classifier:v2" and bento.info.labels == {"owner": "tests"}


def test_build_refuses_an_unknown_option_naming_it(tmp_path: Path) -> None:
    write_project(tmp_path)
    with pytest.raises(BuildError, match="colour"):
        bentos.build("service.py:svc", docker={"colour": "blue"}, build_ctx=tmp_path)
