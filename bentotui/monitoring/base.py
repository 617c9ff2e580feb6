"""``MonitorBase``: collect the columns one request logs, then hand them to an exporter.

A record is open from ``start_record()`` to ``stop_record()`` (what ``with bentoml.monitor(name)``
does).  It lives in a context variable of the monitor, so concurrent requests (async tasks,
threads of sync APIs) each fill their own record through the one cached monitor object.
Subclasses implement BentoML's two hooks, ``export_schema(columns_schema)`` and
``export_data(datas)``, with the same arguments as BentoML's, so a BentoML custom monitor ports.
"""

from __future__ import annotations

import collections
import logging
from contextvars import ContextVar, Token
from typing import Any

log = logging.getLogger("bentotui.monitoring")

#: the roles and data types BentoML documents; others are logged anyway, with a warning
ROLES = frozenset({"feature", "prediction", "target"})
DATA_TYPES = frozenset({"numerical", "categorical", "numerical_sequence"})

ColumnsSchema = dict[str, dict[str, str]]
Datas = dict[str, collections.deque[Any]]


class _Record:
    __slots__ = ("columns", "datas", "token")

    def __init__(self) -> None:
        self.columns: ColumnsSchema = {}
        self.datas: Datas = collections.defaultdict(collections.deque)
        self.token: Token[_Record | None] | None = None


class MonitorBase:
    """A named monitor; ``log``/``log_batch`` add columns to the current request's record."""

    #: column names the exporter writes itself; a user column of that name gets a ``_`` suffix
    PRESERVED_COLUMNS: tuple[str, ...] = ()

    def __init__(self, name: str, **_: Any) -> None:
        self.name = name
        self.columns_schema: ColumnsSchema | None = None  # the last schema exported
        self._record: ContextVar[_Record | None] = ContextVar(f"bentotui_monitor_{name}", default=None)

    # -- the record's lifetime -----------------------------------------------------------------
    def start_record(self) -> None:
        """Open this request's record (nested ``with`` blocks each get their own)."""
        record = _Record()
        record.token = self._record.set(record)

    def stop_record(self) -> None:
        """Close the record and export it: the schema first when its columns changed, then the rows."""
        record = self._close()
        if not record.datas:
            log.warning("monitor %r: nothing was logged in this record; nothing written", self.name)
            return
        lengths = {name: len(values) for name, values in record.datas.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f"monitor {self.name!r}: every column needs the same number of values, got "
                + ", ".join(f"{name}={n}" for name, n in lengths.items())
            )
        if record.columns != self.columns_schema:
            self.export_schema(record.columns)
            self.columns_schema = record.columns
        self.export_data(record.datas)

    def discard_record(self) -> None:
        """Close the record without exporting it (the request failed half-way)."""
        self._close()

    def _close(self) -> _Record:
        record = self._current("stop_record()")
        assert record.token is not None  # set by start_record
        self._record.reset(record.token)
        return record

    def _current(self, what: str) -> _Record:
        record = self._record.get()
        if record is None:
            raise RuntimeError(f"monitor {self.name!r}: {what} outside `with bentoml.monitor({self.name!r})`")
        return record

    # -- logging columns -----------------------------------------------------------------------
    def log(self, data: Any, name: str, role: str, data_type: str) -> None:
        """Add one value of column ``name`` (``role`` e.g. feature/prediction, ``data_type`` e.g.
        numerical/categorical) to the current record."""
        record = self._current("log()")
        name = self._column(record, name, role, data_type)
        record.datas[name].append(data)

    def log_batch(self, data_batch: Any, name: str, role: str, data_type: str) -> None:
        """Add a column's values for every row of a batch (one output row per value)."""
        record = self._current("log_batch()")
        try:
            values = list(data_batch)
        except TypeError:
            raise TypeError(
                f"monitor {self.name!r}: log_batch() needs an iterable for column {name!r}, "
                f"got {type(data_batch).__name__}; use log() for a single value"
            ) from None
        name = self._column(record, name, role, data_type)
        record.datas[name].extend(values)

    def _column(self, record: _Record, name: str, role: str, data_type: str) -> str:
        if name in self.PRESERVED_COLUMNS:
            log.warning("monitor %r: column name %r is reserved; logged as %r", self.name, name, name + "_")
            name += "_"
        known = record.columns.get(name)
        if known is None:
            if role not in ROLES:
                log.warning("monitor %r: role %r is not one of %s; logged anyway", self.name, role, sorted(ROLES))
            if data_type not in DATA_TYPES:
                log.warning(
                    "monitor %r: data type %r is not one of %s; logged anyway", self.name, data_type, sorted(DATA_TYPES)
                )
            record.columns[name] = {"name": name, "role": role, "type": data_type}
        elif (known["role"], known["type"]) != (role, data_type):
            log.warning(
                "monitor %r: column %r was logged as %s/%s, keeping that over %s/%s",
                self.name, name, known["role"], known["type"], role, data_type,
            )
        return name

    # -- the exporter's hooks ------------------------------------------------------------------
    def export_schema(self, columns_schema: ColumnsSchema) -> None:
        """Write the columns' schema ({name: {"name", "role", "type"}}, in logging order)."""
        raise NotImplementedError

    def export_data(self, datas: Datas) -> None:
        """Write the record: one row per index across the equally long column deques."""
        raise NotImplementedError
