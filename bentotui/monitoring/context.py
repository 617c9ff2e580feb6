"""The request a piece of service code is running for, as a context variable.

The API server sets :data:`request_id` around each API call (the id it also returns in the
``x-request-id`` header and writes in the access log); :mod:`bentotui.monitoring` stamps it on
every record so monitoring data can be joined with logs.  Threads started with
``asyncio.to_thread`` (sync API functions) inherit it; code running in a runner worker process
does not see it (the value is None there).
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("bentotui_request_id", default=None)
