"""``bentotui.models``: the public model-store API (``bentoml.models`` after BentoML).

Each call works on the store under the current ``$BENTOTUI_HOME``, read at call time.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import Any, overload

from bentotui.store.item_store import Progress
from bentotui.store.models import Model, ModelContext, ModelDraft, ModelInfo, ModelStore
from bentotui.store.tags import Tag

__all__ = [
    "BentoModel",
    "HuggingFaceModel",
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


class BentoModel:
    """A model of the store declared at class scope of a 1.2 ``@service`` (BentoML 1.2+'s).

    ``model_ref = bentoml.models.BentoModel("iris:latest")`` on the class; on an instance,
    ``self.model_ref`` is the stored :class:`Model` (``.path``, ``.path_of()``, or passed to a
    framework's ``load_model``), looked up once, when first read (in the runner worker that
    hosts the instance, not when the module is imported).  The service records the model, so
    ``bentotui build`` packs it without a ``models:`` entry in ``bentofile.yaml``.  Read on the
    class it is the reference itself.
    """

    __slots__ = ("_resolved", "tag")

    def __init__(self, tag: str | Tag) -> None:
        self.tag = tag if isinstance(tag, Tag) else Tag.parse(tag)
        self._resolved: Model | None = None

    def resolve(self) -> Model:
        """The stored model (``NotFound`` naming the tag if the store has no such model)."""
        if self._resolved is None:
            self._resolved = get(self.tag)
        return self._resolved

    @overload
    def __get__(self, instance: None, owner: type) -> BentoModel: ...

    @overload
    def __get__(self, instance: object, owner: type) -> Model: ...

    def __get__(self, instance: object | None, owner: type) -> BentoModel | Model:
        return self if instance is None else self.resolve()

    def __str__(self) -> str:
        return str(self.tag)

    def __repr__(self) -> str:
        return f"BentoModel({str(self.tag)!r})"


def HuggingFaceModel(model_id: str, *args: Any, **kwargs: Any) -> BentoModel:  # noqa: N802 (BentoML's class name)
    """BentoML's Hugging Face Hub reference downloads the model when the service starts; a
    bentotui server never downloads, so it is refused with what to do instead."""
    from bentotui.exceptions import InvalidArgument

    raise InvalidArgument(
        f"HuggingFaceModel({model_id!r}) would download from the Hugging Face Hub, which bentotui never does; "
        "save the pipeline once with bentotui.transformers.save_model(name, pipeline) and declare "
        "bentotui.models.BentoModel(\"name:latest\") instead"
    )
