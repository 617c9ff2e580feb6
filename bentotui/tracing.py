"""Whether this process traces, and its one :class:`~bentotui._otel.Tracing` when it does.

Tracing is off unless asked for, and then costs nothing: this module reads environment
variables only, and ``opentelemetry`` is imported by :func:`start` (in :mod:`bentotui._otel`)
once tracing is on, so ``bentotui --help``, a server without tracing and its workers never load
it.  What is traced reads :func:`active` once, when it is built (the server's app, a runner's
dispatchers, a worker's executor), and keeps ``None`` when off: no span, no context lookup per
request.

It is on with ``bentotui serve --otel-endpoint URL`` or the standard OpenTelemetry variables,
which the SDK itself reads (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``,
``OTEL_TRACES_EXPORTER``, ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER``/``_ARG``, ``OTEL_PROPAGATORS``, ``OTEL_BSP_*``, ``OTEL_EXPORTER_OTLP_HEADERS``
...); ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turn it off.  Runner workers
inherit the server's environment, so they trace with the same settings and exporter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bentotui.exceptions import InvalidArgument

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from bentotui._otel import Tracing

log = logging.getLogger("bentotui.tracing")

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"
DISABLED_ENV = "OTEL_SDK_DISABLED"
#: what ``pip install 'bentotui[otel]'`` brings; named in the error when it is missing
EXTRA_HINT = "pip install 'bentotui[otel]'"

_active: Tracing | None = None


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``environ`` asks for traces: an OTLP endpoint or a trace exporter is named (OTLP is
    the SDK's default exporter, but an unconfigured default would only retry ``localhost:4318``)."""
    if environ.get(DISABLED_ENV, "").strip().lower() == "true":
        return False
    exporters = environ.get(EXPORTER_ENV, "").strip().lower()
    if exporters == "none":
        return False
    return bool(exporters or environ.get(ENDPOINT_ENV) or environ.get(TRACES_ENDPOINT_ENV))


def check_endpoint(url: str) -> str:
    """An ``--otel-endpoint`` value, checked: an ``http(s)://`` URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes."""
    url = url.strip()
    if not url.startswith(("http://", "https://")) or not url.partition("://")[2]:
        raise InvalidArgument(
            f"--otel-endpoint takes the OTLP/HTTP collector's URL (http://localhost:4318), not {url!r}"
        )
    return url


def use_endpoint(url: str) -> None:
    """Export to ``url`` (``--otel-endpoint``), in this process and the workers it starts.

    It becomes ``OTEL_EXPORTER_OTLP_ENDPOINT``, the collector's base URL the SDK appends
    ``/v1/traces`` to; a flag wins over the environment, so a traces-only endpoint set there
    (which the SDK would prefer) is dropped.
    """
    os.environ[ENDPOINT_ENV] = url
    os.environ.pop(TRACES_ENDPOINT_ENV, None)
    if os.environ.get(EXPORTER_ENV, "").strip().lower() == "none":
        os.environ.pop(EXPORTER_ENV)


def active() -> Tracing | None:
    """This process's tracing, or None when it is off."""
    return _active


def start(
    service_name: str, attributes: Mapping[str, str | int], exporter: SpanExporter | None = None
) -> Tracing | None:
    """Turn tracing on if the environment asks for it (or ``exporter`` is given: tests), else None.

    ``service_name`` is the default of ``OTEL_SERVICE_NAME``; ``attributes`` are added to the
    resource (the process's role).  Exporters, sampler and batching come from the environment.
    """
    global _active
    if _active is not None:
        return _active
    if exporter is None and not wanted():
        return None
    try:
        from bentotui import _otel
    except ImportError as exc:
        raise InvalidArgument(f"tracing is on (OTEL_* or --otel-endpoint) but {exc.name} is missing: {EXTRA_HINT}") from None
    _active = _otel.Tracing.create(service_name, attributes, exporter)
    return _active


def shutdown() -> None:
    """Export what is buffered and turn tracing off (at exit; a no-op when off)."""
    global _active
    tracing, _active = _active, None
    if tracing is not None:
        try:
            tracing.shutdown()
        except Exception:  # an unreachable collector must not fail the shutdown
            log.exception("flushing traces failed")
