"""The framework registry is the one table of framework facts; its rows match the modules."""

from __future__ import annotations

import importlib

import pytest

import bentotui
from bentotui.exceptions import NotFound
from bentotui.frameworks import registry


@pytest.mark.parametrize("info", registry.FRAMEWORKS, ids=lambda info: info.module)
def test_each_row_names_its_module_and_public_name(info: registry.FrameworkInfo) -> None:
    impl = importlib.import_module(info.impl)
    assert impl.MODULE_NAME == info.module
    for name in ("save_model", "load_model", "get", "get_runnable"):
        assert callable(getattr(impl, name)), f"{info.impl} lacks {name}"
    assert getattr(bentotui, info.public_name) is impl
    assert info.public_name in bentotui.frameworks.__all__
    assert registry.framework_module(info.module) is impl


def test_unknown_module_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match=r"no framework module for 'someone\.elses'; known: bentotui\.sklearn"):
        registry.framework("someone.elses")


def test_rows_feed_requirements_and_runner_checks() -> None:
    from bentotui.bento.requirements import model_extras

    assert model_extras("bentotui.transformers", {}) == ("hf", "torch")
    assert model_extras("bentotui.sklearn", {"serialization": "skops"}) == ("safe",)
    assert registry.framework("bentotui.transformers").import_packages == ("torch", "transformers")
