"""0.x artifacts: named model slots of a ``BentoService``, each stored as a model in the store.

BentoML 0.x pickled artifacts into the bundle; here ``svc.save()`` hands each packed object to the
framework module's ``save_model`` so it becomes an ordinary, versioned store model (listed,
exported and served like any other), and the runner worker loads it back with
``Model.load_model()``.  An artifact class only knows which framework module saves it and how to
check an object before it is packed, so a wrong object fails at ``pack`` rather than at serve time.
0.x's import paths are kept: ``bentoml.service.artifacts.BentoServiceArtifact`` (the base class),
``bentoml.service.artifacts.common`` and ``.pickle`` (``PickleArtifact`` and its text/JSON kin).
"""

from __future__ import annotations

import importlib
from typing import Any

from bentotui.exceptions import InvalidArgument
from bentotui.store.tags import validate_part


class BaseArtifact:
    """One named slot; subclasses set ``framework`` (a module under ``bentotui.frameworks``)."""

    framework = "picklable_model"

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArgument(
                f"artifact name {name!r} must be a Python identifier (used as svc.artifacts.<name>)"
            )
        validate_part(name.lower(), "artifact name")
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def check(self, obj: Any) -> None:
        """Raise :class:`InvalidArgument` when ``obj`` cannot be this artifact (default: anything goes)."""

    def framework_module(self) -> Any:
        return importlib.import_module(f"bentotui.frameworks.{self.framework}")

    def save(self, model_name: str, obj: Any, *, labels: dict[str, str], metadata: dict[str, Any]) -> Any:
        """Store ``obj`` as the model ``model_name`` and return the :class:`~bentotui.store.models.Model`."""
        return self.framework_module().save_model(model_name, obj, labels=labels, metadata=metadata)

    @staticmethod
    def load(model: Any) -> Any:
        """The object the service's methods see as ``self.artifacts.<name>``."""
        return model.load_model()


#: 0.x's name of the base class (``from bentoml.service.artifacts import BentoServiceArtifact``)
BentoServiceArtifact = BaseArtifact


class SklearnModelArtifact(BaseArtifact):
    """A scikit-learn estimator (anything with ``predict``)."""

    framework = "sklearn"

    def check(self, obj: Any) -> None:
        if not callable(getattr(obj, "predict", None)):
            raise InvalidArgument(
                f"artifact {self.name!r} expects a scikit-learn estimator with predict(), got {type(obj).__name__}"
            )


class PytorchModelArtifact(BaseArtifact):
    """A ``torch.nn.Module`` (checked without importing torch: a module instance means torch is loaded)."""

    framework = "pytorch"

    def check(self, obj: Any) -> None:
        if not any(
            f"{c.__module__}.{c.__qualname__}" == "torch.nn.modules.module.Module" for c in type(obj).__mro__
        ):
            raise InvalidArgument(
                f"artifact {self.name!r} expects a torch.nn.Module, got {type(obj).__name__}"
            )


class TransformersModelArtifact(BaseArtifact):
    """A transformers ``Pipeline`` (the framework module stores model, tokenizer and task together)."""

    framework = "transformers"

    def check(self, obj: Any) -> None:
        if not any(c.__module__.startswith("transformers.pipelines") for c in type(obj).__mro__):
            raise InvalidArgument(
                f"artifact {self.name!r} expects a transformers pipeline (pipeline(task, model=..., "
                f"tokenizer=...)), got {type(obj).__name__}"
            )


class PickleArtifact(BaseArtifact):
    """Any picklable Python object (a vocabulary, a lookup table, a function)."""

    framework = "picklable_model"

    def save(self, model_name: str, obj: Any, *, labels: dict[str, str], metadata: dict[str, Any]) -> Any:
        # the service's own methods use the object, so it need not be callable: then it is stored
        # without runner methods (``signatures={}``)
        return self.framework_module().save_model(
            model_name, obj, labels=labels, metadata=metadata, signatures=None if callable(obj) else {}
        )
