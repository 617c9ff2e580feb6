"""Every fact about a supported framework, in one table: adding a framework is one row + one module.

The table is plain data and imports no framework, so the store (which maps the ``module`` recorded
in ``model.yaml`` back to its implementation), the server (which checks that a runner's libraries
are importable here), the bento builder (which pins the extras a model needs) and the automatic
``--model`` service (which picks a request example) all read it without paying for torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from bentotui.exceptions import NotFound


@dataclass(frozen=True)
class FrameworkInfo:
    """One supported framework.

    ``module`` is what ``model.yaml`` records (``bentotui.sklearn``, after BentoML's
    ``bentoml.sklearn``); ``impl`` the module that saves, loads and serves such models (it exposes
    ``save_model``, ``load_model``, ``get`` and ``get_runnable``); ``import_packages`` what its
    runner imports (missing ones send the runner to ``runner.python``); ``pip_extras`` the bentotui
    extras a bento carrying such a model must install; ``text_example`` a request body for the
    automatic ``--model`` API when the model takes text (None: an array of the model's width);
    ``preload`` what a fork server imports before forking such a runner's workers
    (:mod:`bentotui.runner.forkserver`): the library's heavy, side-effect-free modules.
    """

    module: str
    impl: str
    import_packages: tuple[str, ...] = ()
    pip_extras: tuple[str, ...] = ()
    text_example: str | None = None
    preload: tuple[str, ...] = ()

    @property
    def public_name(self) -> str:
        """The attribute on the ``bentotui`` package (``bentotui.sklearn``)."""
        return self.module.rpartition(".")[2]


FRAMEWORKS: tuple[FrameworkInfo, ...] = (
    FrameworkInfo(
        "bentotui.sklearn", "bentotui.frameworks.sklearn", ("sklearn",),
        # the estimator families most models are; another one imports the rest in its worker
        preload=("bentotui.frameworks.sklearn", "sklearn.base", "sklearn.linear_model", "sklearn.ensemble",
                 "sklearn.pipeline", "sklearn.preprocessing"),
    ),
    FrameworkInfo(
        "bentotui.pytorch", "bentotui.frameworks.pytorch", ("torch",), ("torch",),
        preload=("bentotui.frameworks.pytorch", "torch"),
    ),
    FrameworkInfo(
        "bentotui.transformers", "bentotui.frameworks.transformers", ("torch", "transformers"), ("hf", "torch"),
        text_example="The striker scored twice as the home side won the cup final",
        preload=("bentotui.frameworks.transformers", "torch", "transformers.pipelines"),
    ),
    FrameworkInfo(
        "bentotui.picklable_model", "bentotui.frameworks.picklable_model",
        preload=("bentotui.frameworks.picklable_model",),
    ),
)

_BY_MODULE = {info.module: info for info in FRAMEWORKS}


def framework(module: str) -> FrameworkInfo:
    """The row for a ``model.yaml`` module; NotFound naming the known ones."""
    try:
        return _BY_MODULE[module]
    except KeyError:
        known = ", ".join(_BY_MODULE)
        raise NotFound(f"no framework module for {module!r}; known: {known}") from None


def framework_module(module: str) -> ModuleType:
    """Import the implementation that handles models saved by ``module`` (its library stays lazy)."""
    return importlib.import_module(framework(module).impl)
