"""``bentotui.bentos``: the public bento-store API (``bentoml.bentos`` after BentoML).

Each call works on the store under the current ``$BENTOTUI_HOME``, read at call time.  Building a
bento (``bentofile.yaml``) lives in ``bentotui.bento``.
"""

from __future__ import annotations

import builtins
from pathlib import Path

from bentotui.store.bentos import MANIFEST, Bento, BentoInfo, BentoStore
from bentotui.store.item_store import Progress
from bentotui.store.tags import Tag

__all__ = [
    "MANIFEST",
    "Bento",
    "BentoInfo",
    "Tag",
    "delete",
    "export_bento",
    "get",
    "import_bento",
    "list",
]


def get(tag: str | Tag) -> Bento:
    """The bento ``tag`` names; ``"name"`` or ``"name:latest"`` is the newest version."""
    return BentoStore().get(tag)


def list(name: str | None = None) -> builtins.list[Bento]:  # noqa: A001
    """Bentos, newest first, optionally of one name; unreadable entries are logged and skipped."""
    return BentoStore().list(name)


def delete(tag: str | Tag) -> Tag:
    """Remove one bento version; returns the tag that was removed."""
    return BentoStore().delete(tag)


def export_bento(
    tag: str | Tag, path: str | Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Write ``tag`` to a ``.bento`` archive (``path`` may be a folder); returns the file."""
    return BentoStore().export(tag, path, force=force, progress=progress)


def import_bento(path: str | Path, *, force: bool = False, progress: Progress | None = None) -> Bento:
    """Add the bento in a ``.bento`` archive; refuses hostile or corrupt archives."""
    return BentoStore().import_(path, force=force, progress=progress)
