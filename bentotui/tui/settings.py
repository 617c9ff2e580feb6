"""The TUI's settings from ``config.yaml``: key remaps (``keymap: {binding-id: keys}``) and theme,
and the check that tells a person when a keymap does not do what it says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from bentotui.exceptions import BentotuiError

DEFAULT_THEME = "textual-dark"
LIGHT_THEME = "textual-light"


@dataclass
class TuiSettings:
    keymap: dict[str, str] = field(default_factory=dict)
    theme: str = DEFAULT_THEME
    #: a problem with the file, shown once as a notification (the TUI still starts)
    error: str | None = None


def load_settings() -> TuiSettings:
    """Read the config file; a broken file gives defaults plus an error to show, never a crash."""
    from bentotui import config

    try:
        data = config.load()
    except BentotuiError as exc:
        return TuiSettings(error=exc.message)
    keymap = data.get("keymap") or {}
    tui = data.get("tui") or {}
    if not isinstance(keymap, dict) or not isinstance(tui, dict):
        return TuiSettings(error="config.yaml: 'keymap' and 'tui' must be mappings")
    keys = {str(k): ",".join(v) if isinstance(v, list) else str(v) for k, v in keymap.items()}
    return TuiSettings(keymap=keys, theme=str(tui.get("theme") or DEFAULT_THEME))


def keymap_warnings(keymap: Mapping[str, str], app: type[DOMNode]) -> list[str]:
    """What is wrong with a keymap, one line per problem, for a notification.

    Textual applies a keymap silently: an id that names no binding does nothing, and a key
    given to a second binding of the same scope takes it from the first (``app.servers: "1"``
    leaves Models without a key).  Scopes are what is active at one time: the app's bindings
    plus one screen's.  Only clashes that involve a remapped binding are reported, so the
    defaults (which shadow some of the app's keys on purpose) give no warning.
    """
    known = {binding.id for node in _subclasses(DOMNode) for binding in _bindings(node) if binding.id}
    warnings = [
        f"keymap: unknown binding id {binding_id!r} (docs/tui.md lists them)"
        for binding_id in keymap
        if binding_id not in known
    ]
    normalized = {binding_id: _keys(keys) for binding_id, keys in keymap.items()}
    clashes: dict[tuple[str, ...], str] = {}
    for screen in _our_screens():
        for key, names in _clashes([*_bindings(app), *_bindings(screen)], normalized):
            clashes.setdefault(names, key)
    for names, key in clashes.items():
        warnings.append(f"keymap: {key} is bound to both {' and '.join(names)}; only one of them works")
    return warnings


def _clashes(
    bindings: Iterable[Binding], keymap: Mapping[str, list[str]]
) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(key, the bindings on it) for each key of one scope held by two bindings, one remapped."""
    on_key: dict[str, dict[str, bool]] = {}
    for binding in bindings:
        remapped = binding.id in keymap
        keys = keymap[binding.id] if binding.id and remapped else [binding.key]
        for key in keys:
            on_key.setdefault(key, {})[binding.id or binding.action] = remapped
    for key, names in on_key.items():
        if len(names) > 1 and any(names.values()):
            yield key, tuple(sorted(names))


def _keys(keys: str) -> list[str]:
    """A keymap value in Textual's long form (``?`` -> ``question_mark``), split at commas."""
    return [binding.key for binding in Binding.make_bindings([Binding(keys, "")])]


def _bindings(node: type[DOMNode]) -> list[Binding]:
    """A class's bindings, inherited ones included, one per key."""
    found: list[Binding] = []
    for base in reversed(node.__mro__):
        found += Binding.make_bindings(base.__dict__.get("BINDINGS", []))
    return found


def _subclasses(cls: type[DOMNode]) -> list[type[DOMNode]]:
    """Every loaded subclass of ``cls``: the screens and widgets whose binding ids a keymap may name."""
    found: list[type[DOMNode]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _our_screens() -> list[type[DOMNode]]:
    """bentotui's screens and dialogs (each one is a scope of its own), found rather than listed
    so that a new screen is checked too."""
    return [s for s in _subclasses(Screen) if s.__module__.startswith("bentotui.")]
