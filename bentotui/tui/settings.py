"""The TUI's settings from ``config.yaml``: key remaps (``keymap: {binding-id: keys}``) and theme."""

from __future__ import annotations

from dataclasses import dataclass, field

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
