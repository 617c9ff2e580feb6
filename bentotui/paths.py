"""Where bentotui keeps its state.

Everything lives under one home folder (``$BENTOTUI_HOME``, default ``~/bentotui``) so that the
CLI, the TUI and every server agree on the store, the runs registry and the logs.  The functions
read the environment on every call because tests (and users) point it elsewhere at run time.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The bentotui home folder, created on first use."""
    raw = os.environ.get("BENTOTUI_HOME")
    path = Path(raw).expanduser() if raw else Path.home() / "bentotui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Root of the model store: ``models/<name>/<version>/``."""
    return _sub("models")


def bentos_dir() -> Path:
    """Root of the bento store: ``bentos/<name>/<version>/``."""
    return _sub("bentos")


def runs_dir() -> Path:
    """One JSON file per running server (the registry the TUI and ``runs`` read)."""
    return _sub("runs")


def logs_dir() -> Path:
    """Server logs, one file per run."""
    return _sub("logs")


def tui_dir() -> Path:
    """The TUI's own state: request history per service, the last copied curl command."""
    return _sub("tui")


def config_file() -> Path:
    """The user's settings (key bindings, runner python, theme)."""
    return home() / "config.yaml"
