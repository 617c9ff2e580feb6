"""The source of a service defined in notebook cells, for a bento to import it from.

A class or ``Service`` typed into a Jupyter (or IPython) cell lives in ``__main__``, which has no
source file, so neither ``svc.save()`` nor a build can copy a module.  IPython keeps every cell it
ran (``history_manager.input_hist_parsed``, the source after magics like ``!curl`` were turned
into Python), so the module is rebuilt from there -- but not by replaying the notebook: a
notebook trains, packs, saves and calls its own server, and a server that imports the service
must not re-run any of that.  Instead the cells are cut into top-level statements and only those
the service *needs* are kept, in their original order and text: the statement that binds it, the
statements whose names it (transitively) uses, found by :mod:`symtable` so that locals and
parameters do not count, and the statements that register onto it (``@svc.api`` functions,
``svc.add_api(...)`` calls).  Training code that the service never references stays behind.
"""

from __future__ import annotations

import ast
import symtable
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bentotui.exceptions import BuildError

#: the module name a notebook's service is saved under (its file is ``notebook_cells.py``)
NOTEBOOK_MODULE = "notebook_cells"


@dataclass
class _Statement:
    """One top-level statement of a cell: its text, the names it binds and the names it reads."""

    text: str
    node: ast.stmt
    binds: set[str]
    #: names read when the statement runs, and names read later by the functions it defines
    reads_now: set[str]
    reads_later: set[str]
    #: binds its names by assignment (not import/def): a registry such as ``svc`` may follow
    assigned: bool
    #: what separated it from the statement before it in its cell (None: it starts a cell)
    separator: str | None


def _cells() -> list[str]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        raise BuildError(
            "the service is defined in '__main__', which has no source file and is no IPython or Jupyter "
            "session; put the class in a .py file and import or run it from there"
        )
    return [cell for cell in shell.history_manager.input_hist_parsed if cell.strip()]


def _statements(cell: str) -> Iterator[_Statement]:
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return  # a cell that failed to compile ran nothing
    lines = cell.splitlines()
    body = tree.body
    previous_end: int | None = None
    for index, node in enumerate(body):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        shares_line = previous_end == start or (index + 1 < len(body) and body[index + 1].lineno == node.end_lineno)
        # ``a = 1; b = 2`` on one line: keep each statement apart, rewritten, rather than twice
        text = ast.unparse(node) if shares_line else "\n".join(lines[start - 1 : node.end_lineno])
        separator = None if previous_end is None else "\n" * max(1, start - previous_end)
        previous_end = node.end_lineno
        binds, reads_now, reads_later = _names(text)
        assigned = isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
        yield _Statement(text, node, binds, reads_now, reads_later, assigned, separator)


def _names(text: str) -> tuple[set[str], set[str], set[str]]:
    """The global names one statement binds, reads as it runs, and reads in the bodies of the
    functions it defines (when they are called: after later cells may have rebound them)."""
    top = symtable.symtable(text, "<cell>", "exec")
    binds = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    reads_now = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    reads_later: set[str] = set()
    pending = list(top.get_children())
    while pending:
        table = pending.pop()
        pending.extend(table.get_children())
        # a class body runs with its statement, a function body later; either way only globals count
        reads = reads_now if table.get_type() == "class" and table in top.get_children() else reads_later
        reads.update(s.get_name() for s in table.get_symbols() if s.is_referenced() and s.is_global())
    return binds, reads_now, reads_later


def _root_name(node: ast.expr) -> str | None:
    """``svc`` for ``svc``, ``svc.api`` and ``svc.api(...)``."""
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _registers_onto(statement: _Statement, name: str) -> bool:
    """``@name.api(...) def f`` or ``name.add_api(...)``: a statement that changes ``name``."""
    node = statement.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return any(_root_name(d) == name for d in node.decorator_list)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name
    return False


def _last_binding(statements: list[_Statement], name: str, before: int) -> int | None:
    """The statement that bound ``name`` last before ``before``."""
    return next((i for i in range(before - 1, -1, -1) if name in statements[i].binds), None)


def needed_source(cells: list[str], name: str) -> str:
    """The statements of ``cells`` that rebuild the global ``name``, as module text."""
    statements = [s for cell in cells for s in _statements(cell)]
    target = _last_binding(statements, name, len(statements))
    if target is None:
        raise BuildError(f"no notebook cell defines {name!r}; run the cell that defines it first")
    kept: set[int] = set()
    pending = [target]
    while pending:
        index = pending.pop()
        if index in kept:
            continue
        kept.add(index)
        statement = statements[index]
        wanted = [(read, index) for read in statement.reads_now - statement.binds]
        wanted += [(read, len(statements)) for read in statement.reads_later]
        for read, before in wanted:
            found = _last_binding(statements, read, before)
            if found is not None and found != index:
                pending.append(found)
        registries = statement.binds if statement.assigned else set()
        if index == target:
            registries = registries | {name}
        pending.extend(
            later
            for later in range(index + 1, len(statements))
            for registry in registries
            if _registers_onto(statements[later], registry)
        )
    parts = [f'"""{name}, extracted by bentotui from the notebook cells it needs (training code left out)."""']
    for index in sorted(kept):
        statement = statements[index]
        # right after its kept predecessor in the same cell: the original spacing, else a new block
        separator = statement.separator if statement.separator is not None and index - 1 in kept else "\n\n\n"
        parts.append(separator + statement.text)
    return "".join(parts) + "\n"


def global_name(obj: Any) -> str:
    """The ``__main__`` name ``obj`` is known by (a class's own name, else the variable holding it)."""
    main = vars(sys.modules["__main__"])
    if isinstance(obj, type):
        if "." in obj.__qualname__:
            raise BuildError(f"{obj.__qualname__} is nested in another definition; define it at the top of a cell")
        return obj.__name__
    names = sorted(key for key, value in main.items() if value is obj and not key.startswith("_"))
    if not names:
        raise BuildError(f"{obj!r} is not assigned to a variable of the notebook; assign it (svc = ...) first")
    return names[0]


def notebook_sources(name: str) -> tuple[str, dict[str, str]]:
    """``(module name, {file: text})`` for the ``__main__`` global ``name`` of this IPython session."""
    return NOTEBOOK_MODULE, {f"{NOTEBOOK_MODULE}.py": needed_source(_cells(), name)}
