"""``bentotui.models``: the public model-store API (``bentoml.models`` after BentoML).

Each call works on the store under the current ``$BENTOTUI_HOME``, read at call time.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

from bentotui.store.item_store import Progress
from bentotui.store.models import Model, ModelContext, ModelDraft, ModelInfo, ModelStore
from bentotui.store.tags import Tag

__all__ = [
    "Model",
    "ModelContext",
    "ModelDraft",
    "ModelInfo",
    "Tag",
    "create",
    "delete",
    "export_model",
    "get",
    "import_model",
    "list",
]


def get(tag: str | Tag) -> Model:
    """The model ``tag`` names; ``"name"`` or ``"name:latest"`` is the newest version."""
    return ModelStore().get(tag)


def list(name: str | None = None, labels: Mapping[str, str] | None = None) -> builtins.list[Model]:  # noqa: A001
    """Models, newest first, optionally of one name (or ``name:version``) and with all ``labels``."""
    return ModelStore().list(name, labels)


def delete(tag: str | Tag) -> Tag:
    """Remove one version; returns the tag that was removed."""
    return ModelStore().delete(tag)


def export_model(
    tag: str | Tag, path: str | Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Write ``tag`` to a ``.bentomodel`` archive (``path`` may be a folder); returns the file."""
    return ModelStore().export(tag, path, force=force, progress=progress)


def import_model(
    path: str | Path, *, force: bool = False, progress: Progress | None = None, trust: bool = False
) -> Model:
    """Add the model in a ``.bentomodel`` archive; refuses hostile or corrupt archives.  A pickle
    model stays untrusted (refused when loaded) unless ``trust`` or a later ``ModelStore().trust``."""
    return ModelStore().import_(path, force=force, progress=progress, trust=trust)


def create(
    name: str | Tag,
    *,
    module: str = "",
    api_version: str = "v1",
    signatures: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    external_modules: Sequence[ModuleType] | None = None,
    metadata: Mapping[str, Any] | None = None,
    context: ModelContext | None = None,
    framework_version: str = "",
) -> AbstractContextManager[ModelDraft]:
    """Save a new version of ``name``: write files under the yielded model's ``path`` in the block.

    BentoML's signature and defaults; nothing is stored unless the block completes.  A model
    saved without ``module`` is read by the user's own code (``model.path`` in a custom
    Runnable); the framework modules pass theirs.  See :meth:`ModelStore.create`.
    """
    return ModelStore().create(
        name,
        module=module,
        framework_version=framework_version,
        api_version=api_version,
        signatures=signatures,
        labels=labels,
        metadata=metadata,
        options=options,
        custom_objects=custom_objects,
        external_modules=external_modules,
        context=context,
    )
