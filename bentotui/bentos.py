"""``bentotui.bentos``: get / list / delete / export / import over the bento store.

This is only the generic part, on :class:`~bentotui.store.ItemStore` with ``bento.yaml``
manifests; building a bento (``bentofile.yaml``) lives in ``bentotui.bento``.
"""

from __future__ import annotations

import builtins
from pathlib import Path

from bentotui import paths
from bentotui.store.item_store import Item, ItemStore, Progress
from bentotui.store.tags import Tag

MANIFEST = "bento.yaml"
ARCHIVE_SUFFIX = ".bento"

__all__ = ["Item", "bento_store", "delete", "export_bento", "get", "import_bento", "list"]


def bento_store() -> ItemStore:
    """The bento store under the current ``$BENTOTUI_HOME``."""
    return ItemStore(paths.bentos_dir(), MANIFEST, kind="bento", archive_suffix=ARCHIVE_SUFFIX)


def get(tag: str | Tag) -> Item:
    """The bento ``tag`` names (newest for ``name`` / ``name:latest``)."""
    return bento_store().get(tag)


def list(name: str | None = None) -> builtins.list[Item]:  # noqa: A001
    """Bentos, newest first; unreadable entries are skipped."""
    return bento_store().scan(name)[0]


def delete(tag: str | Tag) -> Tag:
    """Remove one bento version; returns the tag that was removed."""
    return bento_store().delete(tag)


def export_bento(
    tag: str | Tag, path: str | Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Write ``tag`` to a ``.bento`` archive; returns the file."""
    return bento_store().export(tag, Path(path), force=force, progress=progress)


def import_bento(path: str | Path, *, force: bool = False, progress: Progress | None = None) -> Item:
    """Add the bento in a ``.bento`` archive; refuses hostile or corrupt archives."""
    return bento_store().import_(Path(path), force=force, progress=progress)
