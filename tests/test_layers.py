"""The layering rules, checked in fresh interpreters through ``sys.modules``.

The store, runner and server packages must work without Textual (``bentotui serve`` and runner
workers never pay for it), and the TUI must never load the server stack or an ML library (it
starts fast and stays a client of the core).  Every module of a package is imported, so a heavy
import slipped into any file is caught.
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import subprocess
import sys

import pytest

import bentotui

CORE_PACKAGES = ("bentotui.store", "bentotui.runner", "bentotui.server")
CORE_MODULES = ("bentotui.models", "bentotui.runs", "bentotui.client", "bentotui.logs", "bentotui.cli")
TUI_FORBIDDEN = ("quart", "hypercorn", "torch", "transformers", "sklearn")


def modules_of(package: str) -> list[str]:
    """The package and every module below it; a package that is missing fails the test (after a
    rename these guards must not pass while checking nothing)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} does not exist: update the layering tests"
    names = [package]
    if spec.submodule_search_locations:
        names += [
            m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, prefix=package + ".")
        ]
    return names


def loaded_after_import(modules: list[str], watch: tuple[str, ...]) -> list[str]:
    """Import ``modules`` in a fresh interpreter; which of ``watch`` ended up in sys.modules."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(watch)!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_core_packages_do_not_load_textual(package: str) -> None:
    modules = modules_of(package)
    assert len(modules) > 1  # the package and its modules, all imported below
    assert loaded_after_import(modules, ("textual",)) == []


def test_core_modules_and_cli_do_not_load_textual() -> None:
    missing = [m for m in CORE_MODULES if importlib.util.find_spec(m) is None]
    assert missing == [], f"renamed or removed: {missing}; update CORE_MODULES"
    assert loaded_after_import(list(CORE_MODULES), ("textual",)) == []


def test_tui_does_not_load_server_stack_or_ml_libraries() -> None:
    modules = modules_of("bentotui.tui")
    assert "bentotui.tui.app" in modules
    assert loaded_after_import(modules, TUI_FORBIDDEN) == []


def test_tui_package_import_is_free_of_textual() -> None:
    """The CLI root imports ``bentotui.tui`` lazily; the package itself must not pull Textual in."""
    assert loaded_after_import(["bentotui.tui"], ("textual",)) == []


def test_public_api_module_is_lazy() -> None:
    assert loaded_after_import(["bentotui"], ("textual", *TUI_FORBIDDEN)) == []
    assert bentotui.__name__ == "bentotui"


def test_cli_does_not_load_the_runner_stack() -> None:
    """Every command pays for what ``bentotui.cli`` imports: the runner stack (asyncio, the codec,
    numpy) and the server stay behind the commands that run them."""
    watch = ("bentotui.runner", "asyncio", "numpy", "quart", "hypercorn")
    assert loaded_after_import(["bentotui.cli"], watch) == []
