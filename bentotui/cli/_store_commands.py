"""``delete``, ``export`` and ``import``: one implementation for the models and bentos groups.

:class:`ModelStore` and :class:`BentoStore` have the same get/delete/export/import_ face, so a
group differs only in its store and its words, which :class:`StoreKind` holds.  The store is
opened inside each command (``open_store`` imports it): ``bentotui --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bentotui.cli._output import progress

if TYPE_CHECKING:
    from bentotui.store.bentos import BentoStore
    from bentotui.store.models import ModelStore


@dataclass(frozen=True)
class StoreKind:
    """What differs between the store groups: the store, the noun in prompts and help, the archive."""

    noun: str  # "model", "bento"
    archive_suffix: str  # ".bentomodel", ".bento"
    open_store: Callable[[], ModelStore | BentoStore]
    export_help: str
    import_help: str = ""  # only for a group that registers the shared ``import``


def add_transfer_commands(
    app: typer.Typer, kind: StoreKind, commands: tuple[str, ...] = ("delete", "export", "import")
) -> None:
    """Register ``commands`` (of ``delete``, ``export``, ``import``) of ``kind`` on ``app`` (after
    list and get, so ``--help`` lists them in that order); a group with its own ``import`` (models:
    it decides trust) leaves it out."""
    tag_help = "name, name:latest or name:version."

    def delete(
        tag: str = typer.Argument(..., help=tag_help),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        store = kind.open_store()
        resolved, _ = store.items.resolve(tag)  # confirm and delete the same version, even a corrupt one
        if not yes and not typer.confirm(f"Delete {kind.noun} {resolved}?"):
            typer.echo("not deleted")
            raise typer.Exit(1)
        store.delete(resolved)
        typer.echo(f"deleted {resolved}")

    def export(
        tag: str = typer.Argument(..., help=tag_help),
        path: Path = typer.Argument(..., help="Archive file to write, or a folder to write it in."),
        force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing file."),
    ) -> None:
        store = kind.open_store()
        stored = store.get(tag)
        with progress(stored.info.size_bytes, f"exporting {stored.tag}") as update:
            written = store.export(stored.tag, path, force=force, progress=update)
        typer.echo(f"exported {stored.tag} to {written}")

    def import_(
        path: Path = typer.Argument(..., help=f"A {kind.archive_suffix} archive."),
        force: bool = typer.Option(False, "--force", "-f", help=f"Replace the {kind.noun} if its tag exists."),
    ) -> None:
        size = path.stat().st_size if path.is_file() else 0
        with progress(size, f"importing {path.name}") as update:
            stored = kind.open_store().import_(path, force=force, progress=update)
        typer.echo(f"imported {stored.tag}")

    helps = {"delete": f"Delete one {kind.noun} version.", "export": kind.export_help, "import": kind.import_help}
    functions: dict[str, Callable[..., None]] = {"delete": delete, "export": export, "import": import_}
    for name in commands:
        app.command(name, help=helps[name])(functions[name])
