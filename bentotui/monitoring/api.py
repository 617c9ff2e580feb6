"""``bentoml.monitor(name)``: the context manager a service's API code logs through."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from bentotui.exceptions import BuildError
from bentotui.monitoring.base import MonitorBase
from bentotui.monitoring.default import DefaultMonitor

#: one monitor per (name, class, options) and process: its file handler stays open across requests
_MONITORS: dict[tuple[str, type[MonitorBase], str], MonitorBase] = {}


@contextlib.contextmanager
def monitor(
    name: str,
    monitor_class: type[MonitorBase] | str | None = None,
    monitor_options: dict[str, Any] | None = None,
) -> Iterator[MonitorBase]:
    """Collect what the block logs into one record of monitor ``name`` and write it on exit::

        with bentoml.monitor("iris_classifier") as mon:
            mon.log(features["sepal_len"], name="sepal_len", role="feature", data_type="numerical")
            mon.log(label, name="pred", role="prediction", data_type="categorical")

    ``monitor_class`` is ``None``/``"default"`` (:class:`DefaultMonitor`, JSON lines) or a
    :class:`MonitorBase` subclass; ``monitor_options`` are its keyword arguments (for the default:
    ``log_path``, ``max_bytes``, ``backup_count``).  A block that raises writes nothing.
    """
    mon = _get(name, monitor_class, monitor_options or {})
    mon.start_record()
    try:
        yield mon
    except BaseException:
        mon.discard_record()
        raise
    mon.stop_record()


def _get(name: str, monitor_class: type[MonitorBase] | str | None, options: dict[str, Any]) -> MonitorBase:
    klass = _monitor_class(monitor_class)
    key = (name, klass, repr(sorted(options.items())))
    mon = _MONITORS.get(key)
    if mon is None:
        try:
            mon = klass(name, **options)
        except TypeError as exc:  # an option the class does not take
            raise BuildError(f"monitor {name!r}: bad monitor_options for {klass.__name__}: {exc}") from None
        _MONITORS[key] = mon
    return mon


def _monitor_class(monitor_class: type[MonitorBase] | str | None) -> type[MonitorBase]:
    if monitor_class is None or monitor_class == "default":
        return DefaultMonitor
    if isinstance(monitor_class, type) and issubclass(monitor_class, MonitorBase):
        return monitor_class
    raise BuildError(
        f"monitor_class {monitor_class!r} is not supported: use 'default' (JSON lines under "
        "$BENTOTUI_HOME/monitoring) or a bentotui.monitoring.MonitorBase subclass"
    )
