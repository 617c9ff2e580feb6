"""User settings in ``$BENTOTUI_HOME/config.yaml``.

A small, flat-dotted key space (``runner.python``, ``tui.theme``, ``keymap.<binding-id>``) kept
in one YAML file so the CLI, the TUI and the server read the same values.  Unknown keys are
refused so that a typo does not silently do nothing.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from bentotui import paths
from bentotui.exceptions import InvalidArgument

# key -> one-line help; ``keymap.*`` keys are binding ids of the TUI and take key lists.
KNOWN_KEYS: dict[str, str] = {
    "runner.python": "Python interpreter for runner workers of frameworks the bundle does not carry (torch, transformers).",
    "tui.theme": "Textual theme name for the TUI (e.g. textual-dark, textual-light).",
}
KEYMAP_PREFIX = "keymap."


def load() -> dict[str, Any]:
    """The whole settings file as a nested dict (empty when there is none)."""
    import yaml

    path = paths.config_file()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{path} must hold a mapping of settings")
    return data


def _check_key(key: str) -> list[str]:
    if key not in KNOWN_KEYS and not (key.startswith(KEYMAP_PREFIX) and len(key) > len(KEYMAP_PREFIX)):
        known = ", ".join([*KNOWN_KEYS, "keymap.<binding-id>"])
        raise InvalidArgument(f"unknown setting {key!r} (known: {known})")
    return key.split(".", 1)


def get(key: str, default: Any = None) -> Any:
    """One setting by dotted key, e.g. ``get("runner.python")``; env ``BENTOTUI_RUNNER_PYTHON`` wins."""
    env = os.environ.get("BENTOTUI_" + key.upper().replace(".", "_"))
    if env:
        return env
    section, name = _check_key(key)
    value = load().get(section, {})
    return value.get(name, default) if isinstance(value, dict) else default


def set_value(key: str, value: Any) -> None:
    """Write one setting atomically (``None`` removes it)."""
    import yaml

    section, name = _check_key(key)
    data = load()
    bucket = data.setdefault(section, {})
    if value is None:
        bucket.pop(name, None)
    else:
        bucket[name] = value
    if not bucket:
        data.pop(section)
    path = paths.config_file()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=True)
    os.replace(tmp, path)
