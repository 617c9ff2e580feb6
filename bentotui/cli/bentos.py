"""Bento commands: ``bentos list|get|delete|export|import``, ``build``, ``containerize``, ``deploy k8s``.

``app`` is the ``bentos`` group, ``top_app`` holds the top-level ``build`` and ``containerize``,
``deploy_app`` the ``deploy`` group.  Store behaviour (safety of export/import, confirmation,
formats) is the same as ``bentotui models``; the work is in ``bentotui.bentos`` and
``bentotui.bento``, imported inside each command so ``bentotui --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bentotui.cli._output import InfoFormat, ListFormat, dump, progress, relative_time

if TYPE_CHECKING:
    from bentotui.store.item_store import Item

app = typer.Typer(help="The bento store: list, inspect, delete, export and import bentos.", no_args_is_help=True)
top_app = typer.Typer()
deploy_app = typer.Typer(help="Deployment manifests for a bento.", no_args_is_help=True)


def _row(item: Item) -> dict[str, Any]:
    manifest = item.manifest
    return {
        "tag": str(item.tag),
        "service": manifest.get("service"),
        "size_bytes": manifest.get("size_bytes"),
        "creation_time": str(manifest.get("creation_time")),
        "labels": manifest.get("labels") or {},
        "models": [m["tag"] for m in manifest.get("models") or []],
    }


@app.command("list")
def list_bentos(
    name: str | None = typer.Argument(None, help="Only this bento name."),
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="Output format."),
) -> None:
    """List stored bentos, newest first."""
    from bentotui.bentos import bento_store

    items, problems = bento_store().scan(name)
    if problems:
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in problems:
            err.print(f"[yellow]warning:[/] skipped a corrupt entry: {escape(problem.message)}")
    if output is not ListFormat.table:
        dump([_row(item) for item in items], output.value)
        return
    _print_table(items)


def _print_table(items: list[Item]) -> None:
    from datetime import datetime, timezone

    from rich.console import Console
    from rich.filesize import decimal
    from rich.table import Table


    console = Console(highlight=False)
    if not items:
        console.print("no bentos yet (build one with `bentotui build`)")
        return
    now = datetime.now(timezone.utc)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Tag", "Service", "Size", "Created", "Models"):
        table.add_column(column, justify="right" if column == "Size" else "left", no_wrap=column == "Tag")
    for item in items:
        row = _row(item)
        created = datetime.fromisoformat(row["creation_time"])
        table.add_row(
            row["tag"], str(row["service"]), decimal(int(row["size_bytes"] or 0)),
            relative_time(created, now), ", ".join(row["models"]),
        )
    console.print(table)


@app.command("get")
def get_bento(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    output: InfoFormat = typer.Option(InfoFormat.yaml, "--output", "-o", help="Output format."),
) -> None:
    """Show one bento's bento.yaml (and where it lives)."""
    from bentotui.bentos import get

    item = get(tag)
    manifest = {k: v for k, v in item.manifest.items() if k != "files"}
    dump({"tag": str(item.tag), "path": str(item.path), **manifest}, output.value)


@app.command("delete")
def delete_bento(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete one bento version."""
    from bentotui.bentos import bento_store

    store = bento_store()
    resolved, _ = store.resolve(tag)  # confirm and delete the same version, even a corrupt one
    if not yes and not typer.confirm(f"Delete bento {resolved}?"):
        typer.echo("not deleted")
        raise typer.Exit(1)
    store.delete(resolved)
    typer.echo(f"deleted {resolved}")


@app.command("export")
def export_bento(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    path: Path = typer.Argument(..., help="Archive file to write, or a folder to write it in."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing file."),
) -> None:
    """Export one bento (with its models) to a .bento archive."""
    from bentotui.bentos import bento_store

    store = bento_store()
    item = store.get(tag)
    with progress(int(item.manifest["size_bytes"]), f"exporting {item.tag}") as update:
        written = store.export(item.tag, path, force=force, progress=update)
    typer.echo(f"exported {item.tag} to {written}")


@app.command("import")
def import_bento(
    path: Path = typer.Argument(..., help="A .bento archive."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace the bento if its tag exists."),
) -> None:
    """Import a bento from a .bento archive (checksums verified; hostile archives refused)."""
    from bentotui.bentos import bento_store

    size = path.stat().st_size if path.is_file() else 0
    with progress(size, f"importing {path.name}") as update:
        item = bento_store().import_(path, force=force, progress=update)
    typer.echo(f"imported {item.tag}")


@contextmanager
def _steps(total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress display of named steps (on stderr, so stdout stays machine-readable)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True), transient=True,
    )
    task = progress.add_task("starting", total=total)
    started = False

    def step(description: str) -> None:
        nonlocal started
        if started:
            progress.advance(task)
        started = True
        progress.update(task, description=description)

    with progress:
        yield step
        progress.update(task, completed=total)


@top_app.command("build")
def build_cmd(
    bentofile: Path = typer.Option(Path("bentofile.yaml"), "--bentofile", "-f", help="The bentofile to build."),
    version: str | None = typer.Option(None, "--version", help="Version of the bento (default: generated)."),
) -> None:
    """Build a bento from a bentofile.yaml into the store."""
    from bentotui.bento.build import BUILD_STEPS, build_from_bentofile

    with _steps(BUILD_STEPS) as step:
        item = build_from_bentofile(bentofile, version=version, on_step=step)
    typer.echo(f"built bento {item.tag} in {item.path}")


@top_app.command("containerize")
def containerize_cmd(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Folder for the build context (new or empty)."),
    no_build: bool = typer.Option(False, "--no-build", help="Only write the build context."),
) -> None:
    """Write a self-contained Docker build context for a bento and build the image if an engine works."""
    import shlex

    from bentotui.bento.containerize import CONTEXT_STEPS, containerize

    with _steps(CONTEXT_STEPS + (0 if no_build else 1)) as step:
        result = containerize(tag, output, build=not no_build, on_step=step)
    typer.echo(f"build context: {result.context}")
    if result.built:
        typer.echo(f"built image {result.image} with {result.engine}")
        return
    for problem in result.engine_problems:
        typer.echo(problem, err=True)
    if not no_build:
        typer.echo("no working container engine (docker, podman or buildah) found; build the image with:")
    typer.echo("  " + shlex.join(result.build_command))


@deploy_app.command("k8s")
def deploy_k8s(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    replicas: int = typer.Option(1, "--replicas", "-r", min=1, help="Replicas (also the autoscaler's minimum)."),
    max_replicas: int | None = typer.Option(None, "--max-replicas", min=1, help="Autoscaler maximum (default 4x)."),
    image: str | None = typer.Option(None, "--image", help="Image to run (default NAME:VERSION of the bento)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write one YAML file per kind here (else stdout)."),
) -> None:
    """Kubernetes manifests for a bento: Deployment, Service and HorizontalPodAutoscaler."""
    from bentotui.bento import k8s

    documents = k8s.bento_manifests(tag, k8s.DeployOptions(replicas=replicas, max_replicas=max_replicas, image=image))
    if output is None:
        typer.echo(k8s.render(documents), nl=False)
        return
    for path in k8s.write(documents, output):
        typer.echo(f"wrote {path}")
