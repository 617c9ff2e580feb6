"""``bentotui.pytorch``: ``torch.nn.Module`` models in the model store.

The whole module is saved with ``torch.save`` using cloudpickle as the pickler.
A ``state_dict`` alone would need the class *and* its constructor arguments at load time, which
the store cannot know; a plain pickle of the module stores the class by reference, which fails in
a runner worker when the class was defined in the user's script (``__main__``).  cloudpickle
stores such classes by value, so a model defined in a notebook or script loads in any worker.
Loading unpickles (``torch.load(weights_only=False)``), which runs code chosen by whoever wrote
the file: a model imported from an archive loads only once the user trusts it
(``bentotui models trust TAG``).

Default runner signature: ``__call__`` batchable on dim 0.  The runnable runs under
``torch.inference_mode()`` on the CPU; numpy inputs become tensors and outputs stay tensors, as
BentoML's (``runner.run(arr).argmax(dim=1)``, ``res.numpy()``), except in a worker of a server
that cannot import torch, which gets numpy arrays back.  torch is imported inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import _common
from bentotui.runner.spec import TORCH_RESULTS_AS_NUMPY_ENV

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.store.models import Model
    from bentotui.store.tags import Tag

MODULE_NAME = "bentotui.pytorch"
LIBRARY = "torch"
FILE = "model.pt"


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
    """Save an ``nn.Module`` (weights and class) as a new version of ``name``.

    ``external_modules``: modules of the user's (layers, helpers) whose code is pickled by value
    with the model, so it loads where they are not importable (as in BentoML).
    """
    import torch

    if not isinstance(obj, torch.nn.Module):
        raise InvalidArgument(f"bentotui.pytorch saves torch.nn.Module objects, got {type(obj).__name__}")
    import cloudpickle as pickler  # a module class defined in the user's script still loads elsewhere

    def write(folder: Path) -> None:
        torch.save(obj, folder / FILE, pickle_module=pickler)

    return _common.save(
        name,
        obj,
        module=MODULE_NAME,
        framework_version=torch.__version__,
        default_signatures={"__call__": {"batchable": True, "batch_dim": 0}},
        signatures=signatures,
        labels=labels,
        metadata=metadata,
        custom_objects=custom_objects,
        options={"pickler": pickler.__name__},
        write=write,
        external_modules=external_modules,
    )


def get(tag: Model | Tag | str) -> Model:
    """The stored model ``tag``; refused if it was not saved with ``bentotui.pytorch``."""
    return _common.resolve(tag, MODULE_NAME)


def load_model(tag_or_model: Model | Tag | str, *, device: str = "cpu") -> Any:
    """The module on ``device``, in eval mode (:class:`~bentotui.store.models.UntrustedModel` if not trusted)."""
    import torch

    model = get(tag_or_model)
    model.require_trust(FILE)
    _common.check_framework_version(model, LIBRARY, torch.__version__)
    module = torch.load(model.path_of(FILE), map_location=device, weights_only=False)
    return module.eval()


def get_runnable(model: Model) -> type[Runnable]:
    """The runnable class for ``model``: one inference-mode method per signature.

    As BentoML's: numpy inputs become tensors of the module's float dtype, results stay tensors,
    and ``self.device_id`` names where the module runs: ``cuda`` in a worker the server gave GPUs
    (:func:`bentotui.runner.gpus.torch_device`; inputs are moved there, results come back on the
    CPU, since the API process may have no GPU), else ``cpu``.  In a worker whose server cannot
    import torch (:data:`TORCH_RESULTS_AS_NUMPY_ENV`), results of numpy inputs come back as numpy
    arrays.  An untrusted model is refused here, before a server starts its workers.
    """
    model.require_trust(FILE)
    return _common.build_runnable(
        model, class_name="PytorchRunnable", load=_load_on_worker_device, method_impl=_method,
        multi_threading=True, resources=("cpu", "nvidia.com/gpu"),
        attributes={"device_id": property(lambda self: str(_device_of(self.model)))},
    )


def _load_on_worker_device(tag: str) -> Any:
    from bentotui.runner.gpus import torch_device

    return load_model(tag, device=torch_device())


def _device_of(module: Any) -> Any:
    """The device of the module's first parameter (the CPU for parameterless ones)."""
    import torch

    parameters = module.parameters() if isinstance(module, torch.nn.Module) else ()
    return next((p.device for p in parameters), torch.device("cpu"))


def _method(method: str, signature: Mapping[str, Any]) -> _common.MethodImpl:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        import numpy as np
        import torch

        numpy_in = any(isinstance(a, np.ndarray) for a in (*args, *kwargs.values()))
        # as BentoML's torch.Tensor(array): numeric arrays (JSON numbers, image bytes) become float
        # tensors, here of the module's own float dtype; DataFrames through their values
        floats = _float_dtype(self.model)
        device = _device_of(self.model)

        def tensor(value: Any) -> Any:
            if hasattr(value, "to_numpy") and not isinstance(value, torch.Tensor):  # pandas
                value = value.to_numpy()
            if isinstance(value, np.ndarray):
                value = torch.as_tensor(value, dtype=floats if value.dtype.kind in "biuf" else None)
            return value.to(device) if isinstance(value, torch.Tensor) and value.device != device else value

        with torch.inference_mode():
            result = getattr(self.model, method)(
                *(tensor(a) for a in args), **{k: tensor(v) for k, v in kwargs.items()}
            )
        if device.type != "cpu":
            result = _to_cpu(result)
        return _to_numpy(result) if numpy_in and os.environ.get(TORCH_RESULTS_AS_NUMPY_ENV) else result

    return run


def _float_dtype(module: Any) -> Any:
    """The dtype of the module's first floating parameter (torch's default for parameterless ones)."""
    import torch

    parameters = module.parameters() if isinstance(module, torch.nn.Module) else ()
    return next((p.dtype for p in parameters if p.is_floating_point()), torch.get_default_dtype())


def _to_cpu(value: Any) -> Any:
    """Tensors (also inside tuples and lists) moved to the CPU, to cross to the API process."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, (tuple, list)):
        return type(value)(_to_cpu(v) for v in value)
    return value


def _to_numpy(value: Any) -> Any:
    """Tensors (also inside tuples and lists) as numpy arrays; anything else unchanged."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.cpu().numpy()
    if isinstance(value, (tuple, list)):
        return type(value)(_to_numpy(v) for v in value)
    return value


__getattr__ = _common.artifact_alias(__name__, "PytorchModelArtifact")
