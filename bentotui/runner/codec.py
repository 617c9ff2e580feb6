"""Payload codec: pickle protocol 5 with out-of-band buffers, and errors that survive the trip.

``encode(obj)`` returns the frame *parts*: the pickle stream first, then every large contiguous
buffer (numpy arrays, torch CPU tensors, bytes-like ``PickleBuffer``) as its own part, so array
data is never copied into the pickle stream; ``decode(parts)`` rebuilds the object on top of the
received buffers (writable: the transport reads each frame into its own ``bytearray``).

Errors: a :class:`~bentotui.exceptions.BentotuiError` keeps its class, message and detail (a
``BadInput`` raised in a worker is still a ``BadInput``, an HTTP 400, upstream); anything else
becomes a :class:`~bentotui.runner.errors.RunnerError` with a one-line message.  Those messages
are for the server's log and for Python callers: the HTTP server answers any ``RunnerError``, and
any 5xx error that :func:`raised_in_worker`, with a generic body (the worker's message can name
its files).
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any

from bentotui._compat import add_note
from bentotui.exceptions import BentotuiError
from bentotui.runner.errors import RunnerError

Parts = list[Any]  # bytes-like objects
_MAX_MESSAGE = 500
#: the note :func:`decode_error` adds to an error rebuilt from a worker's reply (also in the log)
WORKER_NOTE = "raised in a runner worker"


def _rebuild_tensor(array: Any) -> Any:
    import torch

    return torch.from_numpy(array)


def _reduce_tensor(tensor: Any) -> tuple[Any, ...]:
    # torch pickles storages in-band; going through numpy puts the data out of band
    if tensor.device.type != "cpu" or tensor.requires_grad or tensor.is_sparse:
        reduced: tuple[Any, ...] = tensor.__reduce_ex__(5)  # a Tensor reduces to a tuple, never a str
        return reduced
    return _rebuild_tensor, (tensor.contiguous().numpy(),)


def encode(obj: Any) -> Parts:
    """Pickle ``obj``; returns ``[stream, *out_of_band_buffers]``."""
    buffers: list[pickle.PickleBuffer] = []
    torch = sys.modules.get("torch")
    if torch is None:
        stream = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    else:
        out = io.BytesIO()
        pickler = pickle.Pickler(out, protocol=5, buffer_callback=buffers.append)
        pickler.dispatch_table = {torch.Tensor: _reduce_tensor}
        pickler.dump(obj)
        stream = out.getvalue()
    return [stream, *(buffer.raw() for buffer in buffers)]


def decode(parts: Parts) -> Any:
    """Inverse of :func:`encode`."""
    return pickle.loads(parts[0], buffers=parts[1:])


def short_message(exc: BaseException) -> str:
    """``Type: message`` on one line, bounded: what a client may see of a worker failure."""
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def encode_error(exc: BaseException) -> Parts:
    """The parts of an error reply for ``exc``."""
    if isinstance(exc, BentotuiError):
        for detail in (exc.detail, None if exc.detail is None else repr(exc.detail)):
            try:
                return [pickle.dumps((type(exc), exc.message, detail, exc.http_status), protocol=5)]
            except Exception:  # an unpicklable class or detail: degrade, do not fail the reply
                continue
    return [pickle.dumps((RunnerError, short_message(exc), None, RunnerError.http_status), protocol=5)]


def decode_error(parts: Parts) -> BentotuiError:
    """The exception an error reply stands for, ready to raise."""
    cls: type[BentotuiError]
    message: str
    detail: object
    status: int
    try:
        cls, message, detail, status = pickle.loads(parts[0])  # what encode_error wrote
    except Exception as exc:  # e.g. a user error class that this process cannot import
        return RunnerError(f"runner failed and its error could not be decoded: {short_message(exc)}")
    error = cls.__new__(cls)
    # the status travels too: ``BentoMLException(..., error_code=...)`` sets it per error
    BentotuiError.__init__(error, message, detail, error_code=status)
    add_note(error, WORKER_NOTE)
    return error


def is_callers_error(exc: BaseException) -> bool:
    """A 4xx :class:`BentotuiError`: the caller's to fix, so a worker does not log its traceback."""
    return isinstance(exc, BentotuiError) and exc.http_status < 500


def raised_in_worker(exc: BaseException) -> bool:
    """Whether ``exc`` came back from a worker (its class alone cannot say: errors keep theirs)."""
    return WORKER_NOTE in getattr(exc, "__notes__", ())
