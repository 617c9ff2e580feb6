"""Tags: ``name:version`` addresses of models and bentos.

Names and versions are what end up as folder names and in URLs, so they are held to a small,
portable alphabet (lower-case letters, digits, ``.``, ``_``, ``-``; at most 63 characters; starting
with a letter or digit).  A tag without a version, or with the version ``latest``, means "the
newest version of that name" and is resolved by the store, never stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bentotui.exceptions import InvalidArgument

LATEST = "latest"
MAX_LENGTH = 63
_PART = re.compile(r"[a-z0-9][a-z0-9._-]*")


def validate_part(value: str, what: str) -> str:
    """Check one tag part (``what`` is "name" or "version") and return it unchanged."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"invalid {what} {value!r}: must not be empty")
    if len(value) > MAX_LENGTH:
        raise InvalidArgument(f"invalid {what} {value!r}: longer than {MAX_LENGTH} characters")
    if not _PART.fullmatch(value):
        hint = " (use lower case)" if _PART.fullmatch(value.lower()) else ""
        raise InvalidArgument(
            f"invalid {what} {value!r}: use lower-case letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit{hint}"
        )
    return value


@dataclass(frozen=True, order=True)
class Tag:
    """A validated ``name[:version]``; ``version`` is None for "the newest"."""

    name: str
    version: str | None = None

    def __post_init__(self) -> None:
        validate_part(self.name, "name")
        if self.version is not None:
            if self.version == LATEST:
                object.__setattr__(self, "version", None)
            else:
                validate_part(self.version, "version")

    @classmethod
    def parse(cls, value: str | Tag) -> Tag:
        """``"iris"``, ``"iris:latest"`` or ``"iris:<version>"`` (a Tag passes through)."""
        if isinstance(value, Tag):
            return value
        if not isinstance(value, str):
            raise InvalidArgument(f"invalid tag {value!r}: expected a string like 'name:version'")
        name, sep, version = value.strip().partition(":")
        if sep and not version:
            raise InvalidArgument(f"invalid tag {value!r}: empty version after ':'")
        if ":" in version:
            raise InvalidArgument(f"invalid tag {value!r}: more than one ':'")
        return cls(name, version or None)

    @property
    def is_latest(self) -> bool:
        """True when the tag names no version and the store must pick the newest."""
        return self.version is None

    def with_version(self, version: str) -> Tag:
        return Tag(self.name, version)

    def path_in(self, root: Path) -> Path:
        """``root/<name>/<version>``, where a store keeps this exact version (not for ``latest``)."""
        if self.version is None:
            raise InvalidArgument(f"{self.name}:latest names no stored folder; resolve it to a version first")
        return root / self.name / self.version

    def __str__(self) -> str:
        return f"{self.name}:{self.version or LATEST}"
