"""Registers every command group on the root app.

One line per group; each module owns its commands and imports heavy code lazily inside them.
"""

from __future__ import annotations

import importlib

import typer

# (module under bentotui.cli, attribute, group name or None to merge top-level commands)
GROUPS: list[tuple[str, str, str | None]] = [
    ("models", "app", "models"),
    ("demo", "app", None),
    ("config", "app", "config"),
    ("serve", "app", None),
    ("runs", "app", "runs"),
    ("bentos", "app", "bentos"),
    ("bentos", "top_app", None),
    ("bentos", "deploy_app", "deploy"),
]


def register(app: typer.Typer) -> None:
    for module, attr, name in GROUPS:
        sub = getattr(importlib.import_module(f"bentotui.cli.{module}"), attr)
        if name is None:
            for command in sub.registered_commands:
                app.registered_commands.append(command)
        else:
            app.add_typer(sub, name=name)
