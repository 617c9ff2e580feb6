"""``bentotui.picklable_model``: any picklable Python object (a function, a callable object).

Saved with cloudpickle, which stores functions and classes defined in the user's script
(``__main__``) or in a notebook by value, so a runner worker can load them (a cloudpickle file is
read back with plain ``pickle``).  Loading unpickles, which runs code chosen by whoever wrote the
file: a model imported from an archive loads only once the user trusts it
(``bentotui models trust TAG``).

Default runner signature: ``__call__``, not batchable (nothing is known about the object's
inputs); pass ``signatures=`` to expose other methods or to batch.  A batchable method receives
the inputs of concurrent calls joined along its ``batch_dim`` (lists, numpy arrays, pandas
Series and DataFrames, as BentoML batches them) and returns one output row per input row.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import _common

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.store.models import Model
    from bentotui.store.tags import Tag

MODULE_NAME = "bentotui.picklable_model"
FILE = "model.pkl"


def _pickler() -> tuple[Any, str, str]:
    """(module with ``dumps``, its name, the version recorded as the framework version)."""
    import cloudpickle

    return cloudpickle, "cloudpickle", cloudpickle.__version__


def save_model(
    name: str,
    obj: Any,
    *,
    signatures: Mapping[str, Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    external_modules: Sequence[ModuleType] | None = None,
) -> Model:
    """Pickle ``obj`` as a new version of ``name``.

    ``external_modules``: modules of the user's whose code is pickled by value with ``obj``, so
    it loads where they are not importable (as in BentoML).
    """
    pickler, pickler_name, version = _pickler()

    def write(folder: Path) -> None:  # inside models.create, where external modules pickle by value
        try:
            data = pickler.dumps(obj)
        except Exception as exc:  # pickling raises PicklingError, TypeError, AttributeError, ...
            raise InvalidArgument(f"cannot pickle {type(obj).__name__}: {exc}") from None
        (folder / FILE).write_bytes(data)

    return _common.save(
        name,
        obj,
        module=MODULE_NAME,
        framework_version=version,
        default_signatures={"__call__": {"batchable": False, "batch_dim": 0}},
        signatures=signatures,
        labels=labels,
        metadata=metadata,
        custom_objects=custom_objects,
        options={"pickler": pickler_name},
        write=write,
        external_modules=external_modules,
    )


def get(tag: Model | Tag | str) -> Model:
    """The stored model ``tag``; refused if it was not saved with ``bentotui.picklable_model``."""
    return _common.resolve(tag, MODULE_NAME)


def load_model(tag_or_model: Model | Tag | str) -> Any:
    """The unpickled object (:class:`~bentotui.store.models.UntrustedModel` if not trusted)."""
    model = get(tag_or_model)
    model.require_trust(FILE)
    _, pickler_name, version = _pickler()
    if model.info.options.get("pickler") == pickler_name:
        _common.check_framework_version(model, pickler_name, version)
    with open(model.path_of(FILE), "rb") as fh:
        return pickle.load(fh)


def get_runnable(model: Model) -> type[Runnable]:
    """The runnable class for ``model``: each signature calls the object's method.

    An untrusted model is refused here, before a server starts its workers.
    """
    model.require_trust(FILE)
    return _common.build_runnable(
        model, class_name="PicklableRunnable", load=load_model, method_impl=_method, multi_threading=False
    )


def _method(method: str, signature: Mapping[str, Any]) -> _common.MethodImpl:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.model, method)(*args, **kwargs)

    return run


__getattr__ = _common.artifact_alias(__name__, "PickleArtifact")
