"""TARGET resolution (``service/loader.py``): each form one resolver, a typed ServeTarget back."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound
from bentotui.service.loader import DEFAULT_PORT, ServeTarget, load_target, resolve_file, resolve_module
from tests.helpers.server import serve

ECHO = textwrap.dedent(
    """
    import bentotui
    from bentotui.io import JSON

    svc = bentotui.Service(name="echo_{tag}")


    @svc.api(input=JSON(), output=JSON())
    def echo(value):
        return {{"echo": value, "from": "{tag}"}}
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A working folder with ``service.py`` and ``src/app/service.py``; imported modules are
    forgotten afterwards so that each test imports its own copies."""
    (tmp_path / "service.py").write_text(ECHO.format(tag="top"))
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "service.py").write_text(ECHO.format(tag="nested"))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("service", "src"):
            del sys.modules[name]


def test_file_target_imports_the_file(project: Path) -> None:
    target = load_target("service.py:svc", project)
    assert isinstance(target, ServeTarget)
    assert (target.service.name, target.working_dir, target.default_port) == ("echo_top", project, DEFAULT_PORT)


def test_file_in_a_subfolder_is_the_module_its_path_names(project: Path) -> None:
    target = load_target("src/app/service.py:svc", project)
    assert target.service.name == "echo_nested" and target.working_dir == project
    assert sys.modules["src.app.service"].svc is target.service  # workers import it by that name


def test_module_form_still_resolves(project: Path) -> None:
    assert load_target("service:svc", project).service.name == "echo_top"


def test_file_outside_the_working_folder_is_refused(project: Path) -> None:
    (project.parent / "elsewhere.py").write_text(ECHO.format(tag="out"))
    with pytest.raises(InvalidArgument, match="outside the working folder"):
        resolve_file("../elsewhere.py:svc", project)


def test_missing_file_and_missing_attribute_say_which(project: Path) -> None:
    with pytest.raises(NotFound, match="no file nope.py"):
        load_target("nope.py:svc", project)
    with pytest.raises(NotFound, match="has no attribute 'nosuch'"):
        load_target("service.py:nosuch", project)


def test_each_resolver_declines_other_forms(project: Path) -> None:
    assert resolve_file("service:svc", project) is None
    assert resolve_module("iris-classifier:latest", project) is None  # a bento tag, for a later resolver
    with pytest.raises(NotFound, match="cannot find 'nosuch:svc'"):
        load_target("nosuch:svc", project)


def test_a_broken_file_is_one_error(project: Path) -> None:
    (project / "broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(BentotuiError, match="cannot import 'broken': RuntimeError: boom"):
        load_target("broken.py:svc", project)


@pytest.mark.slow
def test_serve_a_file_target(project: Path) -> None:
    """``bentotui serve src/app/service.py:svc``, the form of BentoML's READMEs, over HTTP."""
    with serve("src/app/service.py:svc", cwd=project) as server:
        reply = httpx.post(server.url + "/echo", json={"a": 1})
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"echo": {"a": 1}, "from": "nested"}


GRAPH = textwrap.dedent(
    """
    import bentotui as bentoml


    @bentoml.service
    class Preprocess:
        @bentoml.api
        def clean(self, text: str) -> str:
            return text.strip().lower()


    @bentoml.service
    class Classify:
        pre = bentoml.depends(Preprocess)

        @bentoml.api
        def label(self, text: str) -> str:
            return "greeting" if self.pre.clean(text) == "hello" else "other"


    legacy = bentoml.Service(name="legacy")
    """
)


def test_a_bare_module_means_its_root_1_2_service_before_a_1_x_one(tmp_path: Path) -> None:
    (tmp_path / "graph_svc.py").write_text(GRAPH)
    try:
        assert load_target("graph_svc", tmp_path).service.name == "classify"
    finally:
        sys.modules.pop("graph_svc", None)


def test_a_bare_module_with_two_candidates_names_them(tmp_path: Path) -> None:
    (tmp_path / "two_svc.py").write_text(ECHO.format(tag="a") + "\nother = bentotui.Service(name='b')\n")
    try:
        with pytest.raises(InvalidArgument, match=r"2 services \(other, svc\); name one as two_svc:ATTR"):
            load_target("two_svc", tmp_path)
    finally:
        sys.modules.pop("two_svc", None)
