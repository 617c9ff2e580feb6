"""Errors a user is meant to read.

Every failure that is the user's to fix (a bad tag, a missing model, a hostile archive, bad
request input) is a :class:`BentotuiError`.  The CLI prints its message as one red line and exits
with code 2; the server maps it to an HTTP status.  Anything else is a bug and keeps its traceback.

BentoML's names (``BentoMLException``, ``InvalidArgument``, ``BadInput``, ``NotFound``,
``InternalServerError``, ``UnprocessableEntity``, ``ServiceUnavailable``,
``MissingDependencyException``, ...) are here too, so service code that raises
``bentoml.exceptions.NotFound("no such user")`` in an API answers 404 as it did under BentoML, and
``BentoMLException("...", error_code=HTTPStatus.CONFLICT)`` picks its own status.
"""

from __future__ import annotations

from http import HTTPStatus


class BentotuiError(Exception):
    """Base class: ``message`` is one line for the user, ``detail`` optional context.

    ``error_code`` (BentoML's keyword) overrides the class's HTTP status for this one error.
    """

    http_status = 500

    def __init__(self, message: str, detail: object = None, *, error_code: HTTPStatus | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        if error_code is not None:
            self.http_status = int(error_code)

    @property
    def error_code(self) -> HTTPStatus:
        """BentoML's name for the status an error answers with."""
        return HTTPStatus(self.http_status)

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


class BadInput(InvalidArgument):
    """Request input the API cannot accept (HTTP 400)."""


class PayloadTooLarge(BentotuiError):
    """A request body over the server's limit (HTTP 413)."""

    http_status = 413


class ServiceUnavailable(BentotuiError):
    """Overload, no live worker, or a latency target that cannot be met (HTTP 503)."""

    http_status = 503


class RequestTimeout(BentotuiError):
    """A request that ran past the server's --timeout (HTTP 504)."""

    http_status = 504


class UnprocessableEntity(BentotuiError):
    """Input that is well-formed but cannot be processed (HTTP 422), as BentoML's."""

    http_status = 422


class InternalServerError(BentotuiError):
    """A failure on the server's side that the service reports itself (HTTP 500)."""


class MissingDependencyException(BentotuiError):
    """An optional package a feature needs is not installed."""


class BentoMLConfigException(BentotuiError):
    """A configuration value that cannot be used."""


# BentoML's base class name: ``except bentoml.exceptions.BentoMLException`` catches ours
BentoMLException = BentotuiError
