"""``bentotui models ...``: list, inspect, delete, export, import and trust stored models.

``delete`` and ``export`` are the bentos group's too (``_store_commands``); ``import`` is this
group's own, for ``--trust``.  Only typer is imported at module level (``bentotui --help`` must
stay fast); the store, rich and json are imported inside the commands.  Every user error is a
``BentotuiError`` raised by the store, which the CLI root prints as one red line with exit code 2.

``list`` and ``get`` show each model's trust state (``local``, ``trusted``, ``untrusted``): an
imported pickle-format model does not load until ``models trust`` (or ``import --trust``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bentotui.cli._output import InfoFormat, ListFormat, dump, progress, relative_time, warn_skipped
from bentotui.cli._store_commands import StoreKind, add_transfer_commands

if TYPE_CHECKING:
    from bentotui.store.models import Model, ModelStore

app = typer.Typer(
    help="The model store: list, inspect, delete, export, import and trust models.",
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
        "trust": model.provenance.state,
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
    warn_skipped(problems)
    if output is not ListFormat.table:
        dump([_row(m) for m in models], output.value)
        return
    _print_table(models)


def _print_table(models: list[Model]) -> None:
    """Aligned columns printed as one rich Text.

    Not ``rich.table.Table``: measuring its cells costs about 0.3 s for 1,000 rows, which would
    break the listing budget (0.5 s for ``models list`` with 1,000 models); this costs 0.03 s.
    """
    from rich.console import Console
    from rich.text import Text

    from bentotui.tui.fmt import size  # the TUI's units (KiB, as BentoML's list prints)

    console = Console(highlight=False)
    if not models:
        console.print("no models yet (save one with bentotui.<framework>.save_model, or run `bentotui demo`)")
        return
    now = datetime.now(timezone.utc)
    header = ("Tag", "Framework", "Trust", "Size", "Created", "Labels")
    rows = [
        (
            str(m.tag),
            m.info.framework,
            m.provenance.state,
            size(m.info.size_bytes),
            relative_time(m.info.creation_time, now),
            ", ".join(f"{k}={v}" for k, v in m.info.labels.items()),
        )
        for m in models
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        padded = (
            c.rjust(w) if i == 3 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
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
    """Show one model's model.yaml, where it lives and whether it is trusted."""
    from bentotui.store.models import ModelStore

    model = ModelStore().get(tag)
    info = {"tag": str(model.tag), "path": str(model.path), **model.info.to_dict()}
    dump({**info, "trust": model.provenance.to_dict()}, output.value)


def _store() -> ModelStore:
    from bentotui.store.models import ModelStore

    return ModelStore()


add_transfer_commands(
    app,
    StoreKind(
        noun="model",
        archive_suffix=".bentomodel",
        open_store=_store,
        export_help="Export one model to a .bentomodel archive.",
    ),
    commands=("delete", "export"),
)


# The models group's own import: it also decides trust, which a bento import does not.
@app.command("import")
def import_model(
    path: Path = typer.Argument(..., help="A .bentomodel archive."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace the model if its tag exists."),
    trust: bool = typer.Option(
        False, "--trust", help="Trust the model: its pickled files (which can run any code) may be loaded."
    ),
) -> None:
    """Import a model from a .bentomodel archive (checksums verified); untrusted unless --trust."""
    size = path.stat().st_size if path.is_file() else 0
    with progress(size, f"importing {path.name}") as update:
        stored = _store().import_(path, force=force, progress=update, trust=trust)
    state = "trusted" if trust else f"untrusted: run `bentotui models trust {stored.tag}` to load pickled files"
    typer.echo(f"imported {stored.tag} ({state})")


@app.command("trust")
def trust_model(tag: str = typer.Argument(..., help="name, name:latest or name:version.")) -> None:
    """Trust a model from elsewhere: its pickled files (which can run any code) may then be loaded."""
    from bentotui.store.models import ModelStore

    model = ModelStore().trust(tag)
    typer.echo(f"trusted {model.tag} ({model.provenance.describe()})")
