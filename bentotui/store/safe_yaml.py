"""Manifest YAML (``model.yaml`` / ``bento.yaml``) read within bounds and written without aliases.

A manifest is untrusted input: it arrives in archives, and anything may edit the store.  YAML lets
a small text cost a lot later: an alias bomb (``&a [*b, *b, ...]``, 10 kB) is a graph of a few
hundred nodes that expands to 10^9 once anything walks it as a tree (``json.dumps`` of the listing
cache, ``dataclasses.asdict``), and deep nesting overflows the recursion of every later reader
(``yaml.dump``, ``json.dumps``).  So a manifest is refused when it is over
:data:`MAX_MANIFEST_BYTES`, nests deeper than :data:`MAX_DEPTH` or uses an alias (an anchor
used once is inert, and the C composer does not report it).  None of this costs a real manifest
anything: the store writes a few kB, a handful of levels deep, and :func:`dump` never writes an
anchor (PyYAML would for an object that appears twice).

The check walks the composed node graph before anything is constructed from it: an alias is a
node reached twice, so the graph is proven a tree, no deeper than the bound, while it is still as
small as the text.  libyaml (PyYAML's C loader, used when present) stops nesting past 1,000 levels
itself; the pure-Python composer recurses, so there a RecursionError means "too deep" too.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

#: a manifest larger than this is refused unread (real ones are a few kB)
MAX_MANIFEST_BYTES = 1 << 20
#: nesting levels a manifest may have, counting the top-level mapping and its leaves as levels
MAX_DEPTH = 32


class ManifestRefused(ValueError):
    """A manifest outside the bounds; the message completes "<file> ..." (the caller names it)."""


def _check_tree(root: Node) -> None:
    """ManifestRefused unless ``root`` is a tree (no node reached twice) within :data:`MAX_DEPTH`."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise ManifestRefused("uses YAML aliases (*name); a manifest may not")
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise ManifestRefused(f"is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            stack.extend((part, depth + 1) for pair in node.value for part in pair)


def _bounded_loader(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """``base`` (a safe loader) that checks the composed document with :func:`_check_tree`."""

    class BoundedLoader(base):  # type: ignore[valid-type,misc]
        def get_single_node(self) -> Node | None:
            node: Node | None = super().get_single_node()
            if node is not None:
                _check_tree(node)
            return node

    return BoundedLoader


_Loader = _bounded_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load(text: bytes) -> Any:
    """The YAML document in ``text``; ManifestRefused outside the bounds, yaml.YAMLError if invalid."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestRefused(f"is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        return yaml.load(text, Loader=_Loader)
    except RecursionError:  # the pure-Python composer, long past MAX_DEPTH
        raise ManifestRefused(f"is nested deeper than {MAX_DEPTH} levels") from None


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The safe dumper with anchors off: an object that appears twice is written out twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """YAML as the store writes it: block style, keys in insertion order, never an anchor."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text
