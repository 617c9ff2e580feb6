"""The source files a saved service needs, and the pip packages they import.

``svc.save()`` must put the module that defines the service class into the bento so that
``bentotui serve NAME:latest`` can import it.  The normal case for BentoML 0.x users is a script
run as ``python train.py`` that trains, packs and saves in one go: its class lives in
``__main__``.  Copying that script verbatim would make every server start (and every runner
worker) re-run the training and call ``save()`` again, so for ``__main__`` we keep only the
script's *definitions* -- imports, functions, classes and constant assignments -- and drop every
other statement (training, ``pack``, ``save``, prints).  The result is written under the script's
own name, which becomes the module name recorded in the bento.  A class defined in an importable
module is copied as is (the whole top-level package when it is one), and one typed into a notebook
cell is rebuilt from the cells it needs (:mod:`bentotui.service.notebook`).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bentotui._compat import packages_distributions
from bentotui.exceptions import BuildError
from bentotui.service.notebook import global_name, notebook_sources

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_constant_assignment(node: ast.stmt) -> bool:
    value = getattr(node, "value", None)
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or value is None:
        return False
    try:
        ast.literal_eval(value)
    except ValueError:
        return False
    return True


def definitions_only(source: str, filename: str) -> str:
    """The script's definitions, each with its decorators and in its original text and order."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise BuildError(f"cannot read {filename}: {exc.msg} (line {exc.lineno})") from None
    lines = source.splitlines()
    kept = [f'"""Definitions extracted by bentotui from {Path(filename).name} (training code left out)."""']
    for node in tree.body:
        if isinstance(node, _KEEP) or _is_constant_assignment(node):
            decorators = getattr(node, "decorator_list", [])
            start = min([node.lineno] + [d.lineno for d in decorators])
            kept.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(kept) + "\n"


def module_name_for_script(path: Path) -> str:
    """``iris-classifier.py`` -> ``iris_classifier``: the import name the bento records."""
    name = re.sub(r"\W", "_", path.stem)
    return f"m_{name}" if not name or name[0].isdigit() else name


def service_sources(cls: type) -> tuple[str, dict[str, str]]:
    """``(module name, {relative path: source text})`` to import ``cls`` from a bento's ``src/``."""
    module_name = cls.__module__
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file and module_name == "__main__":
        return notebook_sources(global_name(cls))
    if not file:
        raise BuildError(
            f"{cls.__name__} is defined in {module_name!r}, which has no source file; "
            "put the class in a .py file and import it from there"
        )
    path = Path(file)
    if module_name == "__main__":
        name = module_name_for_script(path)
        return name, {f"{name}.py": definitions_only(path.read_text(encoding="utf-8"), str(path))}
    top = module_name.split(".")[0]
    package_dirs = getattr(sys.modules[top], "__path__", None)
    if not package_dirs:
        return module_name, {path.name: path.read_text(encoding="utf-8")}
    root = Path(next(iter(package_dirs)))
    files = {
        str(f.relative_to(root.parent)): f.read_text(encoding="utf-8")
        for f in sorted(root.rglob("*.py"))
        if "__pycache__" not in f.parts
    }
    return module_name, files


def write_sources(root: Path, sources: dict[str, str]) -> None:
    """Write ``{relative path: text}`` under ``root`` (a build folder a bento's ``src/`` is copied from)."""
    for rel, text in sources.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def is_notebook_service(service: Any) -> bool:
    """True for what :func:`notebook_build_folder` builds: a service object (not a ``file:attr``
    string) or ``"__main__:attr"``, in a session whose ``__main__`` has no source file."""
    main_has_file = bool(getattr(sys.modules.get("__main__"), "__file__", None))
    named_main = isinstance(service, str) and service.startswith("__main__:")
    return not main_has_file and (named_main or not isinstance(service, str))


@contextlib.contextmanager
def notebook_build_folder(service: Any) -> Iterator[tuple[str, Path]]:
    """``(service reference, build folder)`` for a 1.x ``Service`` or 1.2 ``@service`` class typed
    into this notebook (the object, or ``"__main__:svc"``): a temporary folder holding the module
    extracted from the cells, which a bento build imports and copies like a project folder."""
    name = service.partition(":")[2] if isinstance(service, str) else global_name(service)
    module_name, sources = notebook_sources(name)
    with tempfile.TemporaryDirectory(prefix="bentotui-notebook-") as tmp:
        write_sources(Path(tmp), sources)
        yield f"{module_name}:{name}", Path(tmp)


def imported_top_names(sources: dict[str, str]) -> set[str]:
    """Top-level names of the absolute imports in the given sources."""
    names: set[str] = set()
    for rel, text in sources.items():
        for node in ast.walk(ast.parse(text, rel)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def infer_pip_packages(sources: dict[str, str]) -> list[str]:
    """``name==version`` of every installed distribution the sources import.

    The standard library, the sources' own modules and bentotui itself (the bento builder pins
    bentotui and its dependencies) are left out.
    """
    local = {Path(rel).parts[0].removesuffix(".py") for rel in sources}
    distributions = packages_distributions()
    pinned: dict[str, str] = {}
    for name in imported_top_names(sources) - local - set(sys.stdlib_module_names):
        for dist in distributions.get(name, []):
            if dist.lower() != "bentotui":
                pinned[dist.lower()] = f"{dist}=={importlib.metadata.version(dist)}"
    return [pinned[key] for key in sorted(pinned)]


def merge_packages(explicit: list[str], inferred: list[str]) -> list[str]:
    """The user's ``pip_packages`` win over inferred pins of the same distribution."""

    def key(spec: str) -> str:
        return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")

    named = {key(spec) for spec in explicit}
    return list(explicit) + [spec for spec in inferred if key(spec) not in named]
