"""Shared fixtures: every test gets its own BENTOTUI_HOME; real models are trained in the test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def bentotui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the store, runs registry and logs at a fresh folder for each test."""
    home = tmp_path / "bentotui-home"
    home.mkdir()
    monkeypatch.setenv("BENTOTUI_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return home


@pytest.fixture(scope="session")
def iris_data():
    """The iris data set that ships with scikit-learn (no download)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    return iris.data, iris.target


@pytest.fixture(scope="session")
def iris_lr(iris_data):
    """A trained iris LogisticRegression."""
    from sklearn.linear_model import LogisticRegression

    x, y = iris_data
    return LogisticRegression(max_iter=1000).fit(x, y)


@pytest.fixture
def iris_model(iris_lr):
    """The iris classifier saved in this test's store as ``iris:<version>``."""
    import bentotui

    return bentotui.sklearn.save_model("iris", iris_lr, labels={"stage": "test"})
