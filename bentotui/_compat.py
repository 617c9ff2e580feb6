"""What Python 3.11 added that bentotui uses, for the 3.10 floor (Ubuntu 22.04's Python).

One place, so that moving the floor to 3.11 is deleting this module and its imports.  On 3.10,
``asyncio.TimeoutError`` is not the builtin ``TimeoutError``: catch ``asyncio.TimeoutError``
around ``asyncio.wait_for`` and :func:`timeout_at` (ruff's UP041 turns it back once the floor moves).
"""

from __future__ import annotations

import hashlib
import sys
from typing import IO, Any

if sys.version_info >= (3, 11):
    from asyncio import timeout_at
    from importlib.metadata import packages_distributions

    def add_note(error: BaseException, note: str) -> None:
        error.add_note(note)

    def file_digest(fh: IO[bytes], algorithm: str) -> Any:
        return hashlib.file_digest(fh, algorithm)

else:
    import async_timeout
    from importlib_metadata import packages_distributions  # 3.10's reads only top_level.txt

    class _Timeout:
        """``asyncio.Timeout``'s interface (``reschedule``, ``expired()``) over async-timeout's."""

        def __init__(self, when: float | None) -> None:
            self._timeout = async_timeout.timeout_at(when)

        async def __aenter__(self) -> _Timeout:
            await self._timeout.__aenter__()
            return self

        async def __aexit__(self, *exc_info: Any) -> bool | None:
            await self._timeout.__aexit__(*exc_info)
            return None  # async-timeout turns its own cancellation into TimeoutError, never suppresses

        def reschedule(self, when: float | None) -> None:
            if when is None:
                self._timeout.reject()
            else:
                self._timeout.update(when)

        def expired(self) -> bool:
            return bool(self._timeout.expired)

    def timeout_at(when: float | None) -> _Timeout:
        return _Timeout(when)

    def add_note(error: BaseException, note: str) -> None:
        """PEP 678's notes by hand: 3.10's traceback does not print them, but they are kept."""
        error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]

    def file_digest(fh: IO[bytes], algorithm: str) -> Any:
        digest = hashlib.new(algorithm)
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
        return digest


__all__ = ["add_note", "file_digest", "packages_distributions", "timeout_at"]
