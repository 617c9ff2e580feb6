"""Registers every command group on the root app.

One line per group; each module owns its commands and imports heavy code lazily inside them.
"""

from __future__ import annotations

import copy
import importlib

import typer

# (module under bentotui.cli, attribute, group name or None to merge top-level commands)
GROUPS: list[tuple[str, str, str | None]] = [
    ("models", "app", "models"),
    ("demo", "app", None),
    ("config", "app", "config"),
    ("serve", "app", None),
    ("run", "app", None),
    ("runs", "app", "runs"),
    ("bentos", "app", "bentos"),
    ("bentos", "top_app", None),
    ("bentos", "deploy_app", "deploy"),
]

# BentoML's ``bentoml list|get|delete|export|import`` act on bentos: the ``bentos`` group's commands,
# also registered at the top (hidden from --help, where ``bentos`` lists them once)
BENTOML_TOP_LEVEL = ("bentos", "app", ("list", "get", "delete", "export", "import"))


def register(app: typer.Typer) -> None:
    for module, attr, name in GROUPS:
        sub = getattr(importlib.import_module(f"bentotui.cli.{module}"), attr)
        if name is None:
            for command in sub.registered_commands:
                app.registered_commands.append(command)
        else:
            app.add_typer(sub, name=name)
    module, attr, names = BENTOML_TOP_LEVEL
    group = getattr(importlib.import_module(f"bentotui.cli.{module}"), attr)
    for command in group.registered_commands:
        if command.name in names:
            alias = copy.copy(command)
            alias.hidden = True
            app.registered_commands.append(alias)
