"""``WorkerSpec``: how a worker process rebuilds a runner's runnable, as a line of JSON.

A worker cannot receive the runnable object itself (it may hold a loaded model, and a class built
at run time by a framework's ``get_runnable`` has no importable name), so it gets a recipe:

- ``class``: ``ref`` is ``"module:qualname"`` of a runnable class, built as ``cls(**kwargs)``;
- ``model``: ``ref`` is a model tag: ``bentotui.models.get(tag)`` -> the framework module's
  ``get_runnable(model)`` -> ``cls(model_tag=tag, **kwargs)``;
- ``factory``: ``ref`` is ``"module:qualname"`` of a callable returning a ready ``Runnable``
  instance from ``**kwargs`` (what the 0.x / 1.2 service front-ends use to wrap a user's class).

The recipe is JSON, not pickle, so that it can be read in ``ps`` output and written by hand into a
manifest for a runner that lives on another host.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bentotui.exceptions import BuildError

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.runner.runner import Runner

Kind = Literal["class", "model", "factory"]

#: set in the environment of a runner worker whose server process cannot import torch (the slim
#: bundle serving torch models with ``runner.python``): its results must be numpy arrays, which that
#: process can read; elsewhere a PyTorch runner returns tensors, as BentoML's does
TORCH_RESULTS_AS_NUMPY_ENV = "BENTOTUI_TORCH_RESULTS_AS_NUMPY"


def import_ref(ref: str) -> Any:
    """Resolve ``"package.module:Outer.Inner"`` to the object it names."""
    module_name, _, qualname = ref.partition(":")
    if not module_name or not qualname:
        raise BuildError(f"bad reference {ref!r}: expected 'module:qualname'")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise BuildError(f"cannot import {ref!r}: {exc}") from exc
    return obj


def ref_of(obj: Any) -> str | None:
    """``"module:qualname"`` when importing that name gives back ``obj`` itself, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", "")
    if not module or module == "__main__" or "<locals>" in qualname:
        return None
    ref = f"{module}:{qualname}"
    try:
        return ref if import_ref(ref) is obj else None
    except BuildError:
        return None


@dataclass(frozen=True)
class WorkerSpec:
    """A recipe for one runnable instance (see the module docstring for the three kinds)."""

    kind: Kind
    ref: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        try:
            return json.dumps(asdict(self), separators=(",", ":"))
        except TypeError as exc:
            raise BuildError(
                f"runnable parameters for {self.ref!r} must be JSON values to reach a worker: {exc}"
            ) from exc

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        if data.get("kind") not in ("class", "model", "factory"):
            raise BuildError(f"unknown worker spec kind {data.get('kind')!r}")
        return cls(kind=data["kind"], ref=data["ref"], kwargs=dict(data.get("kwargs") or {}))

    @classmethod
    def for_runner(cls, runner: Runner) -> WorkerSpec:
        """The recipe for ``runner``: its explicit spec, its class by name, or its model."""
        if runner.worker_spec is not None:
            return runner.worker_spec
        params = dict(runner.runnable_init_params)
        ref = ref_of(runner.runnable_class)
        if ref is not None:
            return cls("class", ref, params)
        if "model_tag" in params:
            return cls("model", str(params.pop("model_tag")), params)
        raise BuildError(
            f"runner {runner.name!r}: runnable {runner.runnable_class.__qualname__} cannot be rebuilt "
            "in a worker process; define it at module level in an importable module"
        )

    def build(self) -> Runnable:
        """Make the runnable instance (in a worker, or in-process for ``init_local``)."""
        from bentotui.runner.runnable import Runnable

        if self.kind in ("class", "factory"):  # a class is its own factory
            instance = import_ref(self.ref)(**self.kwargs)
        else:
            from bentotui import models
            from bentotui.frameworks.registry import framework_module

            model = models.get(self.ref)
            runnable_class = framework_module(model.info.module).get_runnable(model)
            instance = runnable_class(model_tag=str(model.tag), **self.kwargs)
        if not isinstance(instance, Runnable):
            raise BuildError(f"{self.ref!r} did not build a Runnable (got {type(instance).__name__})")
        return instance
