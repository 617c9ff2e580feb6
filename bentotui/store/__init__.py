"""Versioned local stores for models and bentos (no ML imports; see docs/architecture.md)."""

from __future__ import annotations

from bentotui.store.item_store import Draft, Item, ItemStore
from bentotui.store.tags import Tag

__all__ = ["Draft", "Item", "ItemStore", "Tag"]
