"""What every framework module shares: saving into the store, resolving and checking a model,
the framework-version warning, and building the per-model ``Runnable`` class.

A framework module only says what is specific to its library (how to write and read the file,
its default signatures, how one runner method calls the loaded object); the rest lives here so
the four modules behave alike: the same errors for a wrong object, an unknown method or a model
saved by another framework, and the same warning for a major-version change.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import InvalidArgument

if TYPE_CHECKING:
    from bentotui.models import BentoModel
    from bentotui.runner.runnable import Runnable
    from bentotui.store.models import Model
    from bentotui.store.tags import Tag

#: ``(self, *args, **kwargs) -> result``: one runner method, ``self.model`` is the loaded object
MethodImpl = Callable[..., Any]


class FrameworkVersionWarning(UserWarning):
    """A model is loaded under another major version of the library that saved it."""


def save(
    name: str,
    obj: Any,
    *,
    module: str,
    framework_version: str,
    default_signatures: Mapping[str, Mapping[str, Any]],
    signatures: Mapping[str, Mapping[str, Any]] | None,
    labels: Mapping[str, str] | None,
    metadata: Mapping[str, Any] | None,
    custom_objects: Mapping[str, Any] | None,
    options: Mapping[str, Any] | None,
    write: Callable[[Path], None],
    external_modules: Sequence[ModuleType] | None = None,
    trusted_types: Sequence[str] = (),
    provided_methods: Collection[str] = (),
) -> Model:
    """Save ``obj`` as a new version of ``name``; ``write(folder)`` writes the framework's files.

    The store writes into a temporary folder and renames it only once ``write`` returned, so an
    object that fails to serialize leaves nothing behind.  ``write`` runs while
    ``external_modules`` are registered with cloudpickle, so a framework that writes with
    cloudpickle stores their code by value.  ``trusted_types`` (skops: the types its file needs
    beyond the safe defaults) go to the store's provenance record, not to ``model.yaml``: an
    exported copy must not carry its own allow-list.  ``provided_methods`` are signatures the
    framework's runnable implements itself rather than ``obj`` (transformers' ``stream``).
    """
    from bentotui import models

    chosen = dict(default_signatures if signatures is None else signatures)
    if signatures is None and not chosen:
        raise InvalidArgument(
            f"{type(obj).__name__} has none of the default methods; pass signatures={{'method': {{...}}}}"
        )
    for method in chosen:
        if method not in provided_methods and not callable(getattr(obj, method, None)):
            raise InvalidArgument(f"signature {method!r}: {type(obj).__name__} has no method {method!r}")
    with models.create(
        name,
        module=module,
        framework_version=framework_version,
        signatures=chosen,
        labels=labels,
        metadata=metadata,
        options=options,
        custom_objects=custom_objects,
        external_modules=external_modules,
    ) as draft:
        write(draft.path)
        draft.trusted_types = list(trusted_types)
    assert draft.model is not None
    return draft.model


def resolve(tag_or_model: Model | BentoModel | Tag | str, module: str) -> Model:
    """The stored model, refused if another framework module saved it."""
    from bentotui import models
    from bentotui.store.models import Model

    if isinstance(tag_or_model, models.BentoModel):  # a 1.2 class's reference, read on the class
        tag_or_model = tag_or_model.resolve()
    model = tag_or_model if isinstance(tag_or_model, Model) else models.get(tag_or_model)
    if model.info.module != module:
        raise InvalidArgument(
            f"model {model.tag} was saved with {model.info.module}, not {module}; "
            f"load it with {model.info.module} (or Model.load_model())"
        )
    return model


def check_framework_version(model: Model, library: str, installed: str) -> None:
    """Warn when ``installed`` has another major version than the one that saved ``model``.

    Pickled objects often load across a major version and then misbehave quietly, so this warns
    rather than refuses: the user decides, but not without being told.
    """
    saved = model.info.framework_version
    if _major(saved) != _major(installed):
        warnings.warn(
            f"model {model.tag} was saved with {library} {saved}; loading it with {library} {installed} "
            "(another major version) may fail or give different results",
            FrameworkVersionWarning,
            stacklevel=3,
        )


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def build_runnable(
    model: Model,
    *,
    class_name: str,
    load: Callable[[str], Any],
    method_impl: Callable[[str, Mapping[str, Any]], MethodImpl],
    multi_threading: bool,
    resources: tuple[str, ...] = ("cpu",),
    attributes: Mapping[str, Any] | None = None,
) -> type[Runnable]:
    """A ``Runnable`` subclass for ``model``: one runner method per signature in its ``model.yaml``.

    Built per model because the methods and their batching come from the saved signatures.  The
    class has no importable name: a worker rebuilds it from the model tag (``WorkerSpec`` "model").
    ``__init__(model_tag)`` loads the object into ``self.model`` with the framework's ``load``;
    ``model_tag`` defaults to ``model``'s, so ``Runner(model.to_runnable())`` works as in BentoML.
    """
    from bentotui.runner.runnable import Runnable

    def __init__(self: Any, model_tag: str = str(model.tag)) -> None:
        self.model_tag = model_tag
        self.model = load(model_tag)

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__doc__": f"Runs model {model.tag} ({model.info.module}).",
        "bentotui_model_tag": str(model.tag),
        "SUPPORTED_RESOURCES": resources,
        "SUPPORTS_CPU_MULTI_THREADING": multi_threading,
        **(attributes or {}),  # a framework's own, e.g. pytorch's device_id
    }
    for method, signature in model.info.signatures.items():
        impl = method_impl(method, signature)
        impl.__name__ = method
        impl.__qualname__ = f"{class_name}.{method}"
        dim = signature.get("batch_dim", 0)
        namespace[method] = Runnable.method(
            impl,
            batchable=bool(signature.get("batchable", False)),
            batch_dim=tuple(dim) if isinstance(dim, list) else dim,
        )
    return type(class_name, (Runnable,), namespace)


def artifact_alias(module: str, name: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that resolves the 0.x artifact class ``name`` on first use.

    BentoML 0.x scripts import ``SklearnModelArtifact`` from ``bentoml.frameworks.sklearn``; the
    class lives with the 0.x front-end (``bentotui.service.artifacts``), which is imported only
    when such a script asks for it, so the framework layer does not depend on the service layer.
    """

    def __getattr__(attr: str) -> Any:
        if attr == name:
            from bentotui.service import artifacts

            return getattr(artifacts, name)
        raise AttributeError(f"module {module!r} has no attribute {attr!r}")

    return __getattr__
