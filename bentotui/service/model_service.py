"""The automatic service of ``bentotui serve --model TAG``: one API per model signature.

``__call__`` is published as ``/predict`` (what a user of such a model would call it), and each
API carries a valid example (the framework registry's text example, or a row of zeros as wide as
the model's input) so the TUI's pre-filled request works as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bentotui.frameworks.registry import framework
from bentotui.io.base import IODescriptor
from bentotui.service.service import Service

if TYPE_CHECKING:
    from bentotui.runner.runner import RunnerMethod
    from bentotui.store.models import Model


def model_service(tag: str) -> Service:
    """A service for one stored model: ``POST /<method>`` per signature, JSON out."""
    from bentotui import io, models

    model = models.get(tag)
    runner = model.to_runner()
    service = Service(name=model.tag.name, runners=[runner])
    service.metrics_style = "1.2"  # ours, so BentoML 1.4's current metric names
    signatures = model.info.signatures
    for method in signatures:
        handler = _forward(getattr(runner, method))
        name = method
        if method == "__call__":
            name = "call" if "predict" in signatures else "predict"
        handler.__name__ = name
        handler.__doc__ = f"{method} of model {model.tag}"
        service.api(input=_model_input(model), output=io.JSON(), name=name)(handler)
    return service


def _forward(bound: RunnerMethod) -> Callable[[Any], Awaitable[Any]]:
    async def handler(value: Any) -> Any:
        return await bound.async_run(value)

    return handler


def _model_input(model: Model) -> IODescriptor:
    """The request descriptor of an automatic API, with an example that the model accepts."""
    from bentotui import io

    text = framework(model.info.module).text_example
    if text is not None:
        return io.JSON(example=text)
    width = model.info.options.get("n_features_in")
    if isinstance(width, int):
        return io.NumpyNdarray(example=[[0.0] * width])
    return io.NumpyNdarray()
