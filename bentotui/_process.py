"""How to start another copy of this program.

Worker processes and servers started by the TUI re-invoke the running program rather than a
``python`` found on PATH, so the PyInstaller bundle (where ``sys.executable`` is the bundle
itself) behaves exactly like a virtual environment.
"""

from __future__ import annotations

import sys


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def self_command() -> list[str]:
    """The argv prefix that runs ``bentotui`` again (append a subcommand and its options)."""
    if is_frozen():
        return [sys.executable]
    return [sys.executable, "-m", "bentotui"]
