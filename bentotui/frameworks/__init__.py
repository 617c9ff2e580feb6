"""One module per ML framework: how a model is saved to the store, loaded, and called by a runner.

Each module (one per row of :mod:`bentotui.frameworks.registry`) exposes ``MODULE_NAME``,
``save_model``, ``load_model``, ``get`` and ``get_runnable``; the registry maps the ``module``
recorded in ``model.yaml`` back to it.  This package imports no framework: the modules
are resolved on first attribute access (``bentotui.frameworks.sklearn``), and each imports its
library only inside its functions.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from bentotui.frameworks.registry import FRAMEWORKS

__all__ = sorted(info.public_name for info in FRAMEWORKS)


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
