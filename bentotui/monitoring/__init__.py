"""``bentoml.monitoring`` / ``bentoml.monitor``: prediction monitoring data, one record per request.

In an API function (or a 1.2 ``@service`` method)::

    with bentoml.monitor("iris_classifier") as mon:
        mon.log_batch(df["sepal_len"], name="sepal_len", role="feature", data_type="numerical")
        mon.log_batch(predictions, name="pred", role="prediction", data_type="categorical")

Files (the default monitor), under ``$BENTOTUI_HOME/monitoring/<name>/``:

- ``schema.json``: ``{"name": <monitor>, "columns": [{"name", "role", "type"}, ...]}``; the first
  two columns are always ``timestamp`` (role ``time``, type ``datetime``) and ``request_id``
  (role ``request_id``, type ``string``), then the logged columns in the order first logged.
  Written when a process first exports a record, and again if the columns change.
- ``data/data.<pid>.jsonl``: one JSON object per line and per row of a record: ``timestamp``
  (ISO 8601, UTC, when the record was written), ``request_id`` (the id the server returned in
  ``x-request-id``; null where unknown, e.g. in a runner worker), then one key per logged column.
  ``log`` adds one value to a column; ``log_batch`` adds several, giving as many rows, which share
  the request id.  Every column of a record must end with the same number of values.  A file
  per process keeps concurrent writers apart; each is rotated at ``max_bytes`` (64 MiB) keeping
  ``backup_count`` (5) old files, ``data.<pid>.jsonl.1`` being the newest of those.

A column named ``timestamp`` or ``request_id`` is written as ``timestamp_`` / ``request_id_``;
roles other than feature/prediction/target and types other than numerical/categorical/
numerical_sequence are written with a warning, as in BentoML.
"""

from __future__ import annotations

from bentotui.monitoring.api import monitor
from bentotui.monitoring.base import MonitorBase
from bentotui.monitoring.default import DefaultMonitor

__all__ = ["DefaultMonitor", "MonitorBase", "monitor"]
