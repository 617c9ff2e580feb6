"""``bentoml.metrics``: user-defined Prometheus metrics, shown on the server's ``/metrics``.

Define them at module level in the service file and update them in API functions or service
methods, exactly as with ``prometheus_client`` (this module hands out its classes)::

    inferences = bentoml.metrics.Counter("inference_total", "Predictions made", ["model"])

    @bentoml.api
    def predict(self, x):
        inferences.labels(model="iris").inc()

``bentotui serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the service is imported, so a metric
updated in a runner worker (a 1.2 ``@service`` method, a ``Runnable``) or in the API server (a
1.x API function) is summed over all of those processes on ``/metrics``.  The import of
``prometheus_client`` waits for the first attribute used here: it picks its multiprocess value
store when imported, and ``import bentotui`` must stay light.

``Info`` and ``Enum`` are refused: prometheus_client cannot aggregate them across processes.
"""

from __future__ import annotations

from typing import Any

from bentotui.exceptions import BuildError

_NOT_MULTIPROCESS = frozenset({"Info", "Enum"})


def __getattr__(name: str) -> Any:
    if name in _NOT_MULTIPROCESS:
        raise BuildError(
            f"bentotui.metrics.{name} is not supported: a served service runs in several processes and "
            f"prometheus_client cannot combine {name} metrics across them; use a Gauge or a Counter with labels"
        )
    if name.startswith("_"):
        raise AttributeError(name)
    import prometheus_client

    try:
        value = getattr(prometheus_client, name)
    except AttributeError:
        raise AttributeError(f"module 'bentotui.metrics' has no attribute {name!r} (prometheus_client has none)") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    import prometheus_client

    return sorted(set(prometheus_client.__all__) - _NOT_MULTIPROCESS)
