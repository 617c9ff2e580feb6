"""0.x's other spellings: ``bentoml.artifact`` / ``bentoml.handlers`` paths and ``@env``'s arguments."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from bentotui import artifact, handlers
from bentotui.adapters import DataframeInput
from bentotui.exceptions import BuildError
from tests.service.test_bundle import _import_service


@pytest.mark.parametrize("name", artifact.__all__)
def test_every_old_artifact_name_resolves_to_an_artifact_class(name):
    from bentotui.service.artifacts import BaseArtifact

    assert issubclass(getattr(artifact, name), BaseArtifact)


def test_old_names_are_the_adapters_and_unknown_ones_say_so():
    assert handlers.DataframeHandler is DataframeInput
    with pytest.raises(AttributeError, match="has no attribute 'KerasModelArtifact'"):
        artifact.KerasModelArtifact  # noqa: B018


SERVICE = textwrap.dedent("""
    import bentotui as bentoml
    from bentotui.adapters import JsonInput
    from bentotui.artifact import PickleArtifact

    @bentoml.env(
        requirements_txt_file="requirements.txt",
        conda_channels=["conda-forge"],
        conda_dependencies=["lightgbm"],
        docker_base_image="python:3.11-bookworm",
    )
    @bentoml.artifacts([PickleArtifact("table")])
    class Lookup(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def get(self, body):
            return self.artifacts.table.get(body["key"])
""")


def test_env_reads_a_requirements_file_and_names_what_it_does_not_install(tmp_path, monkeypatch, caplog):
    (tmp_path / "requirements.txt").write_text("# pinned\ntabulate>=0.9\n\n-i https://example.invalid\n")
    with caplog.at_level(logging.WARNING, logger="bentotui.service"):
        module = _import_service(tmp_path, monkeypatch, SERVICE, "env_lookup")
    assert "not installed: conda_channels ['conda-forge']; conda_dependencies ['lightgbm']" in caplog.text
    saved = Path(module.Lookup().pack("table", {"a": 1}).save())
    assert "tabulate>=0.9" in (saved / "env" / "python" / "requirements.txt").read_text()
    assert "FROM python:3.11-bookworm" in (saved / "env" / "docker" / "Dockerfile").read_text()


def test_env_with_a_missing_requirements_file_is_a_build_error(tmp_path, monkeypatch):
    with pytest.raises(BuildError, match=r"requirements_txt_file='requirements.txt'\): No such file"):
        _import_service(tmp_path, monkeypatch, SERVICE, "env_missing")
