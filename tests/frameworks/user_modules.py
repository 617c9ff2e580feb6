"""Helpers for ``external_modules`` tests: a user module that exists only while a model is saved,
and a fresh interpreter (where that module cannot be imported) to load the model in."""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType


@contextlib.contextmanager
def user_module(folder: Path, name: str, source: str) -> Iterator[ModuleType]:
    """``folder/name.py`` imported for the block; afterwards neither importable nor imported."""
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(name, None)
        (folder / f"{name}.py").unlink()


def run_elsewhere(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter in ``cwd`` with this test's store (``BENTOTUI_HOME``)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
