"""``bentotui.transformers``: transformers pipelines in the model store.

A ``Pipeline`` is saved with ``save_pretrained`` (model weights as safetensors, config, tokenizer
or processor files) and its task is recorded in the options; :func:`load_model` rebuilds the same
kind of pipeline with ``pipeline(task, model=folder, tokenizer=folder)`` from local files only and
with ``trust_remote_code=False``, so an imported model can neither download nor run code.

Default runner signature: ``__call__``, not batchable (as BentoML).  Saved with
``signatures={"__call__": {"batchable": True}}``, the runner merges concurrent calls: the method
then receives a list of inputs, runs it as one pipeline call and returns one entry per input,
each exactly what the pipeline returns for that input alone (``[{"label": ..., "score": ...}]``
for one text), so callers see local pipeline semantics whether batched or not.  Keyword
arguments (``max_length=512``, ``truncation=True``, ``top_k``) pass through to the pipeline.

``transformers`` costs seconds to import: it is imported only inside the functions, and its
progress bars are switched off (they would draw over the TUI and fill server logs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import InvalidArgument, StoreCorrupted
from bentotui.frameworks import _common

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.store.models import Model
    from bentotui.store.tags import Tag

MODULE_NAME = "bentotui.transformers"
LIBRARY = "transformers"


def _import_quietly() -> Any:
    """``transformers`` with its (and huggingface_hub's) progress bars disabled."""
    import huggingface_hub.utils
    import transformers

    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
    return transformers


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
    """Save a ``transformers.Pipeline`` (model, tokenizer/processor, task) as a new version of ``name``.

    ``external_modules`` applies to ``custom_objects`` (pickled with cloudpickle); the pipeline
    itself is written by ``save_pretrained`` as files, not pickled.
    """
    transformers = _import_quietly()
    if not isinstance(obj, transformers.Pipeline):
        raise InvalidArgument(f"bentotui.transformers saves transformers pipelines, got {type(obj).__name__}")

    def write(folder: Path) -> None:
        obj.save_pretrained(folder)

    return _common.save(
        name,
        obj,
        module=MODULE_NAME,
        framework_version=transformers.__version__,
        default_signatures={"__call__": {"batchable": False, "batch_dim": 0}},
        signatures=signatures,
        labels=labels,
        metadata=metadata,
        custom_objects=custom_objects,
        options={"task": obj.task, "tokenizer": obj.tokenizer is not None},
        write=write,
        external_modules=external_modules,
    )


def get(tag: Model | Tag | str) -> Model:
    """The stored model ``tag``; refused if it was not saved with ``bentotui.transformers``."""
    return _common.resolve(tag, MODULE_NAME)


def load_model(tag_or_model: Model | Tag | str, **pipeline_kwargs: Any) -> Any:
    """The pipeline, rebuilt from the model folder (CPU unless ``device=`` says otherwise)."""
    transformers = _import_quietly()
    model = get(tag_or_model)
    _common.check_framework_version(model, LIBRARY, transformers.__version__)
    options = model.info.options
    if not isinstance(options.get("task"), str):
        raise StoreCorrupted(f"model {model.tag}: model.yaml has no pipeline task in its options")
    folder = str(model.path)
    kwargs: dict[str, Any] = {"device": "cpu", "trust_remote_code": False, **pipeline_kwargs}
    kwargs["local_files_only"] = True
    if options.get("tokenizer", True):
        kwargs.setdefault("tokenizer", folder)
    return transformers.pipeline(options["task"], model=folder, **kwargs)


def get_runnable(model: Model) -> type[Runnable]:
    """The runnable class for ``model``: per-call pipeline semantics, batched or not."""
    return _common.build_runnable(
        model,
        class_name="TransformersRunnable",
        load=load_model,
        method_impl=_method,
        multi_threading=True,
        resources=("cpu", "nvidia.com/gpu"),
    )


def _method(method: str, signature: Mapping[str, Any]) -> _common.MethodImpl:
    batchable = bool(signature.get("batchable", False))

    def run(self: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        call = getattr(self.model, method)
        if batchable and isinstance(inputs, list):
            return [as_single_output(out) for out in call(inputs, *args, **kwargs)]
        return call(inputs, *args, **kwargs)

    return run


def as_single_output(output: Any) -> Any:
    """One input's share of a batched pipeline output, shaped as for a call with that input alone.

    Pipelines return a list of dicts for one input, but for a list of inputs a list holding one
    dict per input when each has a single result (text classification with the default
    ``top_k``) and one list per input otherwise; a lone dict is wrapped back into its list.
    """
    return [output] if isinstance(output, dict) else output


__getattr__ = _common.artifact_alias(__name__, "TransformersModelArtifact")
