"""``DefaultMonitor``: records as JSON lines under ``$BENTOTUI_HOME/monitoring/<name>/``.

See :mod:`bentotui.monitoring` for the file layout and the record schema.  Each process appends
to a file of its own (``data/data.<pid>.jsonl``), so the API server and every runner worker write
without a lock between them; the stdlib ``RotatingFileHandler`` rotates it by size and serializes
the threads of one process.  The schema file is replaced atomically, so a reader never sees half.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from bentotui import paths
from bentotui.exceptions import BuildError
from bentotui.monitoring import context
from bentotui.monitoring.base import ColumnsSchema, Datas, MonitorBase

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_BACKUP_COUNT = 5
#: the columns every row starts with, as they appear in the schema file
PRESERVED_SCHEMA = (
    {"name": "timestamp", "role": "time", "type": "datetime"},
    {"name": "request_id", "role": "request_id", "type": "string"},
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_name(name: object) -> str:
    """A monitor name is a folder name: letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BuildError(
            f"monitor name {name!r} is not valid: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class DefaultMonitor(MonitorBase):
    """JSON-lines data files, rotated by size, and one ``schema.json`` per monitor."""

    PRESERVED_COLUMNS = tuple(column["name"] for column in PRESERVED_SCHEMA)

    def __init__(
        self,
        name: str,
        log_path: str | os.PathLike[str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backup_count: int = DEFAULT_BACKUP_COUNT,
    ) -> None:
        super().__init__(check_name(name))
        if not isinstance(max_bytes, int) or max_bytes < 1 or not isinstance(backup_count, int) or backup_count < 0:
            raise BuildError(
                f"monitor {name!r}: max_bytes must be a positive integer and backup_count a non-negative one, "
                f"got {max_bytes!r} and {backup_count!r}"
            )
        root = Path(log_path) if log_path is not None else paths.home() / "monitoring"
        self.folder = root / name
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self._handler: RotatingFileHandler | None = None

    @property
    def schema_path(self) -> Path:
        return self.folder / "schema.json"

    def data_path(self) -> Path:
        """This process's data file (the one being appended to; rotated ones end in ``.1``, ``.2``...)."""
        return self.folder / "data" / f"data.{os.getpid()}.jsonl"

    def export_schema(self, columns_schema: ColumnsSchema) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        schema = {"name": self.name, "columns": [*PRESERVED_SCHEMA, *columns_schema.values()]}
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".schema-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(schema, out, indent=2)
                out.write("\n")
            os.replace(tmp, self.schema_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def export_data(self, datas: Datas) -> None:
        handler = self._handler or self._open()
        preserved = {"timestamp": datetime.now(timezone.utc).isoformat(), "request_id": context.request_id.get()}
        columns = list(datas.items())
        rows = len(columns[0][1])
        for i in range(rows):
            row = dict(preserved)
            row.update((name, values[i]) for name, values in columns)
            line = json.dumps(row, default=_jsonable, ensure_ascii=False)
            handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))

    def _open(self) -> RotatingFileHandler:
        path = self.data_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = RotatingFileHandler(
            path, maxBytes=self.max_bytes, backupCount=self.backup_count, encoding="utf-8"
        )
        return self._handler


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists, datetimes as ISO 8601, else ``str``."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)
