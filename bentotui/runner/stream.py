"""Streams: a runner method (or an API) that yields items, carried to the HTTP response as they come.

Three pieces, one per place a stream passes through:

- :func:`aiterate`: any generator as an async iterator.  A sync generator's steps run in a thread
  each (a step may block on a model), and an ``aclose()`` that arrives while a step runs waits
  for it, then closes the generator, so its ``finally:`` always runs.  The API process uses it for
  a 1.x API's generator and for a runner called in-process; the worker for a runner method's.
- :class:`Producer`: the worker's end of one stream.  It sends each item as an ``ITEM`` frame,
  then ``END`` (or ``FAIL`` with the error), never more items ahead of the reader than the
  *credit* it holds: the ``STREAM`` frame opens with :data:`WINDOW` items of credit and each
  ``CREDIT`` frame adds what the reader has consumed since.  A ``CANCEL`` frame (the HTTP client
  went away) or a lost connection cancels it, which closes the generator.
- :class:`Receiver`: the API process's end, an async iterator over the items.  It holds at most
  :data:`WINDOW` items (the worker cannot send more), grants credit back as they are consumed,
  and sends ``CANCEL`` when closed before the end.

So a slow HTTP reader stalls the generator in the worker, by way of the HTTP send blocking, the
receiver not being read and the credit not coming back; nothing buffers without bound.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from bentotui.runner import codec
from bentotui.runner.errors import RunnerError

if TYPE_CHECKING:
    from bentotui.runner.transport import FrameProtocol

log = logging.getLogger("bentotui.worker")

#: items a worker may send ahead of the reader; credit goes back once half of them are read
WINDOW = 32
CREDIT_FORMAT = struct.Struct("<I")
_DONE = object()  # next()'s default: a StopIteration cannot cross a thread's future


class ItemStream(Protocol):
    """What a stream is to its reader: async iteration, and ``aclose()`` to stop it early."""

    def __aiter__(self) -> AsyncIterator[Any]: ...

    async def __anext__(self) -> Any: ...

    async def aclose(self) -> None: ...


def item_stream(obj: Any) -> ItemStream:
    """``obj`` as an :class:`ItemStream`: an async generator as it is, anything else through
    :func:`aiterate`."""
    if inspect.isasyncgen(obj):
        return obj
    return aiterate(obj)


def aiterate(obj: Any) -> AsyncGenerator[Any, None]:
    """The items of a generator, async generator or other iterable, as an async generator whose
    ``aclose()`` closes the source (see the module docstring); TypeError for anything else."""
    if hasattr(obj, "__anext__") or hasattr(obj, "__aiter__"):
        return _async_items(obj if hasattr(obj, "__anext__") else obj.__aiter__())
    if isinstance(obj, (str, bytes, bytearray, memoryview, dict)) or not hasattr(obj, "__iter__"):
        raise TypeError(f"a streaming API must return a generator or an iterable, not {type(obj).__name__}")
    return _sync_items(iter(obj))


async def _async_items(source: Any) -> AsyncGenerator[Any, None]:
    try:
        while True:
            try:
                item = await source.__anext__()
            except StopAsyncIteration:
                return
            yield item
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()


async def _sync_items(iterator: Iterator[Any]) -> AsyncGenerator[Any, None]:
    """Each step in a thread; closed (in a thread too) only once no step runs."""
    loop = asyncio.get_running_loop()
    step: asyncio.Future[Any] | None = None
    try:
        while True:
            step = loop.run_in_executor(None, next, iterator, _DONE)
            item = await asyncio.shield(step)  # a cancel must not lose track of the running step
            step = None
            if item is _DONE:
                return
            yield item
    finally:
        if step is not None:  # cancelled mid-step: the thread finishes the step before the close
            await asyncio.wait({step})
        close = getattr(iterator, "close", None)
        if close is not None:
            await loop.run_in_executor(None, close)


# --- the worker's end ----------------------------------------------------------------------------


class Producer:
    """Runs one stream in the worker: items out as credit allows, then ``END`` or ``FAIL``."""

    def __init__(
        self,
        protocol: FrameProtocol,
        msg_id: int,
        credit: int,
        kinds: tuple[int, int, int],
        on_done: Callable[[Producer], None],
    ) -> None:
        self.protocol = protocol
        self.msg_id = msg_id
        self.credit = credit
        self._item_kind, self._end_kind, self._fail_kind = kinds
        self._on_done = on_done
        self._more = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self, result: Any) -> None:
        """Stream ``result`` (what the runnable method returned)."""
        self.task = asyncio.ensure_future(self._run(result))

    def grant(self, items: int) -> None:
        self.credit += items
        self._more.set()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _run(self, result: Any) -> None:
        items: AsyncGenerator[Any, None] | None = None
        try:
            # an ``async def`` method may return its generator (``return runner.x.async_stream()``)
            items = aiterate(await result if inspect.isawaitable(result) else result)
            while True:
                while self.credit <= 0:
                    self._more.clear()
                    await self._more.wait()
                try:
                    item = await items.__anext__()
                except StopAsyncIteration:
                    self._send(self._end_kind, [b""])
                    return
                self.credit -= 1
                try:
                    parts = codec.encode(item)
                except Exception as exc:
                    raise RunnerError(f"cannot send a stream item: {codec.short_message(exc)}") from exc
                if not self._send(self._item_kind, parts):
                    return  # the reader's connection is gone
        except asyncio.CancelledError:
            pass  # the reader cancelled; the generator is closed below, its finally runs
        except Exception as exc:
            if not codec.is_callers_error(exc):
                log.error("stream failed", exc_info=exc)
            self._send(self._fail_kind, codec.encode_error(exc))
        finally:
            try:
                if items is not None:
                    await items.aclose()
            except Exception as exc:  # the generator's own finally failed: nothing left to tell
                log.error("closing a stream failed", exc_info=exc)
            self._on_done(self)

    def _send(self, kind: int, parts: codec.Parts) -> bool:
        try:
            self.protocol.send(self.msg_id, kind, parts)
        except ConnectionError:
            return False
        return True


# --- the API process's end -----------------------------------------------------------------------


class Receiver(ItemStream):
    """The items of one stream as they arrive from a worker (see the module docstring).

    ``send_credit(msg_id, items)`` and ``send_cancel(msg_id)`` are the connection's; the
    connection feeds :meth:`item`, :meth:`end` and :meth:`fail` from its frames.
    """

    def __init__(
        self,
        msg_id: int,
        send_credit: Callable[[int, int], None],
        send_cancel: Callable[[int], None],
        window: int = WINDOW,
    ) -> None:
        self.msg_id = msg_id
        self._send_credit = send_credit
        self._send_cancel = send_cancel
        self._threshold = max(1, window // 2)
        self._items: collections.deque[Any] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._consumed = 0
        self._error: BaseException | None = None
        self.finished = False  # END or FAIL arrived, or the reader closed it

    # -- frames ------------------------------------------------------------------------------
    def item(self, value: Any) -> None:
        self._items.append(value)
        self._wake()

    def end(self) -> None:
        self.finished = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        self.finished = True
        self._error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the reader --------------------------------------------------------------------------
    def __aiter__(self) -> Receiver:
        return self

    async def __anext__(self) -> Any:
        while not self._items:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self.finished:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._consumed += 1
        if self._consumed >= self._threshold and not self.finished:
            with contextlib.suppress(ConnectionError):
                self._send_credit(self.msg_id, self._consumed)
            self._consumed = 0
        return self._items.popleft()

    async def aclose(self) -> None:
        """Stop the stream: the worker closes the generator (its ``finally:`` runs)."""
        self._items.clear()
        if not self.finished:
            self.finished = True
            with contextlib.suppress(ConnectionError):
                self._send_cancel(self.msg_id)


def is_stream_function(func: Any) -> bool:
    """BentoML's rule for a streaming method: a generator or async generator function."""
    return inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
