"""Errors a user is meant to read.

Every failure that is the user's to fix (a bad tag, a missing model, a hostile archive, bad
request input) is a :class:`BentotuiError`.  The CLI prints its message as one red line and exits
with code 2; the server maps it to an HTTP status.  Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class BentotuiError(Exception):
    """Base class: ``message`` is one line for the user, ``detail`` optional context."""

    http_status = 500

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidArgument(BentotuiError):
    """A malformed argument: a bad tag, an unknown option value."""

    http_status = 400


class NotFound(BentotuiError):
    """A model, bento, run or API that does not exist."""

    http_status = 404


class Conflict(BentotuiError):
    """Something already exists (use --force to replace it)."""

    http_status = 409


class StoreCorrupted(BentotuiError):
    """A store entry whose manifest or files cannot be trusted."""


class ImportRejected(BentotuiError):
    """An archive that is corrupt, hostile (path traversal, links) or not ours."""


class BuildError(BentotuiError):
    """A bentofile or service that cannot be built."""


class BadInput(BentotuiError):
    """Request input the API cannot accept (HTTP 400)."""

    http_status = 400


class PayloadTooLarge(BentotuiError):
    """A request body over the server's limit (HTTP 413)."""

    http_status = 413


class ServiceUnavailable(BentotuiError):
    """Overload, no live worker, or a latency target that cannot be met (HTTP 503)."""

    http_status = 503


class RequestTimeout(BentotuiError):
    """A request that ran past the server's --timeout (HTTP 504)."""

    http_status = 504
