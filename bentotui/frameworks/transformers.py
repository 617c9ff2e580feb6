"""``bentotui.transformers``: transformers pipelines in the model store.

A ``Pipeline`` is saved with ``save_pretrained`` (model weights as safetensors, config, tokenizer
or processor files) and its task is recorded in the options; :func:`load_model` rebuilds the same
kind of pipeline with ``pipeline(task, model=folder, tokenizer=folder)`` from local files only and
with ``trust_remote_code=False``, so an imported model can neither download nor run code.

Default runner signature: ``__call__``, not batchable (as BentoML).  Saved with
``signatures={"__call__": {"batchable": True}}``, the runner merges concurrent calls: the method
then receives a list of inputs, runs it as one pipeline call and returns one entry per input,
each exactly what the pipeline returns for that input alone (``[{"label": ..., "score": ...}]``
for one text, up to float rounding of the padded batch), so callers see local pipeline semantics
whether batched or not.  The batch runs as padded forward passes of the whole batch
(``batch_size`` set to its length unless the caller passes one), not one pass per input.  Keyword
arguments (``max_length=512``, ``truncation=True``, ``top_k``) pass through to the pipeline.

A pipeline whose task generates text (``text-generation``, ``text2text-generation``,
``summarization``, ``translation``) also gets a ``stream`` method, which yields the generated
text piece by piece as ``generate`` produces it (``TextIteratorStreamer``), so a streaming API
reads tokens as they come: ``async for piece in runner.stream.async_stream(prompt,
max_new_tokens=64)``.  Generation runs in a thread of the runner worker; when the stream is
closed early (the HTTP client went away), a stopping criterion ends ``generate`` at its next
token, so an abandoned request does not keep the worker busy.

``transformers`` costs seconds to import: it is imported only inside the functions, and its
progress bars are switched off (they would draw over the TUI and fill server logs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
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
#: pipeline tasks that run ``generate``: their pipelines also get the ``stream`` runner method
GENERATION_TASKS = frozenset({"text-generation", "text2text-generation", "summarization", "translation"})
STREAM_METHOD = "stream"
#: how long closing a stream waits for ``generate`` to notice it was stopped (one token's time)
_STOP_WAIT_S = 30.0


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

    defaults: dict[str, Mapping[str, Any]] = {"__call__": {"batchable": False, "batch_dim": 0}}
    generates = obj.task in GENERATION_TASKS
    if generates:
        defaults[STREAM_METHOD] = {"batchable": False}
    if signatures is not None and STREAM_METHOD in signatures:
        if not generates:
            raise InvalidArgument(f"signature {STREAM_METHOD!r}: a {obj.task!r} pipeline does not generate text")
        if signatures[STREAM_METHOD].get("batchable"):
            raise InvalidArgument(f"signature {STREAM_METHOD!r} cannot be batchable: each stream is its own call")

    return _common.save(
        name,
        obj,
        module=MODULE_NAME,
        framework_version=transformers.__version__,
        default_signatures=defaults,
        provided_methods=(STREAM_METHOD,) if generates else (),
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
    """The pipeline, rebuilt from the model folder: on the CPU unless ``device=`` says otherwise
    or this is a runner worker the server gave GPUs."""
    transformers = _import_quietly()
    model = get(tag_or_model)
    _common.check_framework_version(model, LIBRARY, transformers.__version__)
    options = model.info.options
    if not isinstance(options.get("task"), str):
        raise StoreCorrupted(f"model {model.tag}: model.yaml has no pipeline task in its options")
    folder = str(model.path)
    from bentotui.runner.gpus import torch_device

    # cuda only in a runner worker the server gave GPUs
    kwargs: dict[str, Any] = {"device": torch_device(), "trust_remote_code": False, **pipeline_kwargs}
    kwargs["local_files_only"] = True
    if options.get("tokenizer", True):
        kwargs.setdefault("tokenizer", folder)
    pipe = transformers.pipeline(options["task"], model=folder, **kwargs)
    # pipeline() reads local_files_only for its own loading but also leaves it among the call
    # parameters, where a generating pipeline passes it to generate(), which refuses it
    for params in (getattr(pipe, "_preprocess_params", None), getattr(pipe, "_forward_params", None)):
        if isinstance(params, dict) and "local_files_only" not in pipeline_kwargs:
            params.pop("local_files_only", None)
    return pipe


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
    if method == STREAM_METHOD:
        return _stream
    batchable = bool(signature.get("batchable", False))

    def run(self: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        call = getattr(self.model, method)
        if batchable and isinstance(inputs, list):
            if inputs and can_pad(self.model):
                kwargs.setdefault("batch_size", len(inputs))
            return [as_single_output(out) for out in call(inputs, *args, **kwargs)]
        return call(inputs, *args, **kwargs)

    return run


def _stream(self: Any, inputs: Any, *args: Any, **kwargs: Any) -> Iterator[str]:
    """Yield the text ``self.model`` (a generating pipeline) produces for ``inputs``, as it comes.

    ``generate`` runs in a thread and hands decoded pieces to a ``TextIteratorStreamer`` (the
    prompt and special tokens left out); this generator yields them.  Closing it early sets an
    event a stopping criterion checks after every token; an error in the thread ends the stream
    and is raised here, after the pieces that came before it.
    """
    transformers = _import_quietly()
    pipe = self.model
    stop = threading.Event()

    class _Stopped(transformers.StoppingCriteria):  # type: ignore[misc,name-defined]
        def __call__(self, input_ids: Any, scores: Any, **_: Any) -> bool:
            return stop.is_set()

    streamer = transformers.TextIteratorStreamer(pipe.tokenizer, skip_prompt=True, skip_special_tokens=True)
    criteria = transformers.StoppingCriteriaList([*kwargs.pop("stopping_criteria", ()), _Stopped()])
    failure: list[BaseException] = []

    def generate() -> None:
        try:
            pipe(inputs, *args, streamer=streamer, stopping_criteria=criteria, **kwargs)
        except BaseException as exc:  # handed to the reader: a thread's error has nowhere else to go
            failure.append(exc)
            streamer.end()

    thread = threading.Thread(target=generate, name="bentotui-generate", daemon=True)
    thread.start()
    try:
        yield from (piece for piece in streamer if piece)  # a skipped special token decodes to ""
    finally:
        stop.set()
        thread.join(_STOP_WAIT_S)
    if failure:
        raise failure[0]


def can_pad(pipe: Any) -> bool:
    """Whether ``pipe`` can run a list of inputs as padded batches.

    A pipeline given a list runs its inputs one forward pass at a time unless ``batch_size`` is
    set (on the demo's tiny BERT, 32 texts one by one take about six times as long as one batch
    of 32: docs/benchmarks.md), so a batched runner call sets it to the whole batch.  Only a
    tokenizer with a pad token can pad texts of different lengths (GPT-2's has none and the
    pipeline would refuse); a pipeline without a tokenizer pads with its processor.
    """
    tokenizer = getattr(pipe, "tokenizer", None)
    return tokenizer is None or getattr(tokenizer, "pad_token_id", None) is not None


def as_single_output(output: Any) -> Any:
    """One input's share of a batched pipeline output, shaped as for a call with that input alone.

    Pipelines return a list of dicts for one input, but for a list of inputs a list holding one
    dict per input when each has a single result (text classification with the default
    ``top_k``) and one list per input otherwise; a lone dict is wrapped back into its list.
    """
    return [output] if isinstance(output, dict) else output


__getattr__ = _common.artifact_alias(__name__, "TransformersModelArtifact")
