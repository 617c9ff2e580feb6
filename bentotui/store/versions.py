"""Generated versions that are unique across processes and sort by creation time.

A version is the creation time in microseconds since the epoch, written as 11 base-32 digits
(enough until the year 3084), followed by 5 random base-32 digits.  The alphabet is ``0-9a-v`` in
ASCII order, so comparing versions as strings compares their creation times; the random suffix
keeps two processes that save in the same microsecond apart (and the store retries on the rare
collision anyway).  Within one process versions are strictly increasing even if the clock is not.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

ALPHABET = "0123456789abcdefghijklmnopqrstuv"
TIME_DIGITS = 11
RANDOM_DIGITS = 5
LENGTH = TIME_DIGITS + RANDOM_DIGITS

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_lock = threading.Lock()
_last_us = 0


def _encode(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, rem = divmod(value, 32)
        digits.append(ALPHABET[rem])
    return "".join(reversed(digits))


def _now_us() -> int:
    """Microseconds since the epoch, never repeating or going back within this process."""
    global _last_us
    with _lock:
        now = time.time_ns() // 1000
        _last_us = max(now, _last_us + 1)
        return _last_us


def new_version() -> str:
    """A fresh version string (16 lower-case characters)."""
    return _encode(_now_us(), TIME_DIGITS) + _encode(secrets.randbits(5 * RANDOM_DIGITS), RANDOM_DIGITS)


def version_time(version: str) -> datetime | None:
    """The creation time encoded in a generated version, or None for a version made elsewhere."""
    if len(version) != LENGTH or any(c not in ALPHABET for c in version):
        return None
    return _EPOCH + timedelta(microseconds=int(version[:TIME_DIGITS], 32))
