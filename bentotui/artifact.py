"""BentoML 0.x's older artifact path (``from bentoml.artifact import SklearnModelArtifact``).

Releases before 0.10 kept every artifact class in ``bentoml.artifact``; later ones moved them to
``bentoml.frameworks.<name>`` and ``bentoml.service.artifacts.common``.  The names resolve lazily,
so importing this module does not import the framework modules.
"""

from __future__ import annotations

import importlib
from typing import Any

# artifact class -> the module that defines it (the framework modules define theirs lazily too)
_HOMES = {
    "SklearnModelArtifact": "bentotui.frameworks.sklearn",
    "PytorchModelArtifact": "bentotui.frameworks.pytorch",
    "TransformersModelArtifact": "bentotui.frameworks.transformers",
    "PickleArtifact": "bentotui.service.artifacts.common",
    "JSONArtifact": "bentotui.service.artifacts.common",
    "TextFileArtifact": "bentotui.service.artifacts.common",
    "BentoServiceArtifact": "bentotui.service.artifacts",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'bentotui.artifact' has no attribute {name!r}") from None
    return getattr(importlib.import_module(home), name)
