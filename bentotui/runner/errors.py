"""The runner's own error type.

A worker that fails with an exception that is not a :class:`~bentotui.exceptions.BentotuiError`
(a bug in a model or in user code) reaches the API process as a :class:`RunnerError` carrying only
the worker's one-line message: the traceback stays in the worker's log, never in a response body.
"""

from __future__ import annotations

from bentotui.exceptions import BentotuiError


class RunnerError(BentotuiError):
    """A runnable failed in its worker (HTTP 500; the traceback is in the server log)."""

    http_status = 500
