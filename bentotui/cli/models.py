"""``bentotui models ...``: list, inspect, delete, export and import stored models.

Only typer is imported at module level (``bentotui --help`` must stay fast); the store, rich and
json are imported inside the commands.  Every user error is a ``BentotuiError`` raised by the
store, which the CLI root prints as one red line with exit code 2.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bentotui.cli._output import InfoFormat, ListFormat, dump, progress, relative_time

if TYPE_CHECKING:
    from bentotui.store.models import Model

app = typer.Typer(
    help="The model store: list, inspect, delete, export and import models.",
    no_args_is_help=True,
    add_completion=False,
)

def parse_labels(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` -> ``{"k": "v"}``; InvalidArgument for anything else."""
    from bentotui.exceptions import InvalidArgument

    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"invalid label {pair!r}: use key=value")
        labels[key] = value
    return labels


def _row(model: Model) -> dict[str, Any]:
    info = model.info
    return {
        "tag": str(model.tag),
        "name": info.name,
        "version": info.version,
        "framework": info.framework,
        "module": info.module,
        "size_bytes": info.size_bytes,
        "creation_time": info.creation_time.isoformat(),
        "labels": info.labels,
    }


@app.command("list")
def list_models(
    name: str | None = typer.Argument(None, help="Only this model name (or name:version)."),
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="Output format."),
    label: list[str] = typer.Option(
        [], "--label", "-l", help="Only models with this label (key=value); repeatable."
    ),
) -> None:
    """List stored models, newest first."""
    from bentotui.store.models import ModelStore

    models, problems = ModelStore().scan(name, parse_labels(label))
    if problems:
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in problems:
            err.print(f"[yellow]warning:[/] skipped a corrupt entry: {escape(problem.message)}")
    if output is not ListFormat.table:
        dump([_row(m) for m in models], output.value)
        return
    _print_table(models)


def _print_table(models: list[Model]) -> None:
    """Aligned columns printed as one rich Text.

    Not ``rich.table.Table``: measuring its cells costs about 0.3 s for 1,000 rows, which would
    break the listing budget (0.5 s for ``models list`` with 1,000 models); this costs 0.03 s.
    """
    from datetime import timezone

    from rich.console import Console
    from rich.filesize import decimal
    from rich.text import Text

    console = Console(highlight=False)
    if not models:
        console.print("no models yet (save one with bentotui.<framework>.save_model, or run `bentotui demo`)")
        return
    now = datetime.now(timezone.utc)
    header = ("Tag", "Framework", "Size", "Created", "Labels")
    rows = [
        (
            str(m.tag),
            m.info.framework,
            decimal(m.info.size_bytes),
            relative_time(m.info.creation_time, now),
            ", ".join(f"{k}={v}" for k, v in m.info.labels.items()),
        )
        for m in models
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        padded = (
            c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    text = Text()
    text.append(line(header) + "\n", style="bold")
    text.append("\n".join(line(row) for row in rows))
    console.print(text, no_wrap=True, overflow="ellipsis")


@app.command("get")
def get_model(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    output: InfoFormat = typer.Option(InfoFormat.yaml, "--output", "-o", help="Output format."),
) -> None:
    """Show one model's model.yaml (and where it lives)."""
    from bentotui.store.models import ModelStore

    model = ModelStore().get(tag)
    dump({"tag": str(model.tag), "path": str(model.path), **model.info.to_dict()}, output.value)


@app.command("delete")
def delete_model(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete one model version."""
    from bentotui.store.models import ModelStore

    store = ModelStore()
    resolved, _ = store.items.resolve(tag)  # confirm and delete the same version, even a corrupt one
    if not yes and not typer.confirm(f"Delete model {resolved}?"):
        typer.echo("not deleted")
        raise typer.Exit(1)
    store.delete(resolved)
    typer.echo(f"deleted {resolved}")


@app.command("export")
def export_model(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    path: Path = typer.Argument(..., help="Archive file to write, or a folder to write it in."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing file."),
) -> None:
    """Export one model to a .bentomodel archive."""
    from bentotui.store.models import ModelStore

    store = ModelStore()
    model = store.get(tag)
    with progress(model.info.size_bytes, f"exporting {model.tag}") as update:
        written = store.export(model.tag, path, force=force, progress=update)
    typer.echo(f"exported {model.tag} to {written}")


@app.command("import")
def import_model(
    path: Path = typer.Argument(..., help="A .bentomodel archive."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace the model if its tag exists."),
) -> None:
    """Import a model from a .bentomodel archive (checksums verified)."""
    from bentotui.store.models import ModelStore

    size = path.stat().st_size if path.is_file() else 0
    with progress(size, f"importing {path.name}") as update:
        model = ModelStore().import_(path, force=force, progress=update)
    typer.echo(f"imported {model.tag}")
