"""Bento commands: ``bentos list|get|delete|export|import``, ``build``, ``containerize``, ``deploy k8s|lambda``.

``app`` is the ``bentos`` group, ``top_app`` holds the top-level ``build`` and ``containerize``,
``deploy_app`` the ``deploy`` group.  Store behaviour (safety of export/import, confirmation,
formats) is the same as ``bentotui models``, whose ``delete``/``export``/``import`` it shares
(``_store_commands``); the work is in ``bentotui.store.bentos`` and ``bentotui.bento``, imported
inside each command so ``bentotui --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bentotui.cli._output import InfoFormat, ListFormat, dump, relative_time, warn_skipped
from bentotui.cli._store_commands import StoreKind, add_transfer_commands
from bentotui.exceptions import InvalidArgument

if TYPE_CHECKING:
    from bentotui.store.bentos import Bento, BentoStore

app = typer.Typer(help="The bento store: list, inspect, delete, export and import bentos.", no_args_is_help=True)
top_app = typer.Typer()
deploy_app = typer.Typer(help="Deployment manifests for a bento.", no_args_is_help=True)


def _row(bento: Bento) -> dict[str, Any]:
    info = bento.info
    return {
        "tag": str(bento.tag),
        "service": info.service,
        "size_bytes": info.size_bytes,
        "creation_time": info.creation_time.isoformat(),
        "labels": info.labels,
        "models": [str(m.tag) for m in info.models],
    }


@app.command("list")
def list_bentos(
    name: str | None = typer.Argument(None, help="Only this bento name."),
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="Output format."),
) -> None:
    """List stored bentos, newest first."""
    from bentotui.store.bentos import BentoStore

    bentos, problems = BentoStore().scan(name)
    warn_skipped(problems)
    if output is not ListFormat.table:
        dump([_row(bento) for bento in bentos], output.value)
        return
    _print_table(bentos)


def _print_table(bentos: list[Bento]) -> None:
    from datetime import datetime, timezone

    from rich.console import Console
    from rich.table import Table

    from bentotui.tui.fmt import size  # the TUI's units (KiB, as BentoML's list prints)

    console = Console(highlight=False)
    if not bentos:
        console.print("no bentos yet (build one with `bentotui build`)")
        return
    now = datetime.now(timezone.utc)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Tag", "Service", "Size", "Created", "Models"):
        table.add_column(column, justify="right" if column == "Size" else "left", no_wrap=column == "Tag")
    for bento in bentos:
        info = bento.info
        table.add_row(
            str(bento.tag), info.service, size(info.size_bytes),
            relative_time(info.creation_time, now), ", ".join(str(m.tag) for m in info.models),
        )
    console.print(table)


@app.command("get")
def get_bento(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    output: InfoFormat = typer.Option(InfoFormat.yaml, "--output", "-o", help="Output format."),
) -> None:
    """Show one bento's bento.yaml (and where it lives)."""
    from bentotui.store.bentos import BentoStore

    bento = BentoStore().get(tag)
    manifest = {k: v for k, v in bento.info.to_dict().items() if k != "files"}
    dump({"tag": str(bento.tag), "path": str(bento.path), **manifest}, output.value)


def _store() -> BentoStore:
    from bentotui.store.bentos import BentoStore

    return BentoStore()


add_transfer_commands(
    app,
    StoreKind(
        noun="bento",
        archive_suffix=".bento",
        open_store=_store,
        export_help="Export one bento (with its models) to a .bento archive.",
        import_help="Import a bento from a .bento archive (checksums verified; hostile archives refused).",
    ),
)


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
    split_runners: bool = typer.Option(
        False, "--split-runners", help="Run each runner in its own Deployment (start-runner-server), scaled apart "
        "from the API, linked by a token kept in a Secret.",
    ),
    runner_replicas: int | None = typer.Option(
        None, "--runner-replicas", min=1, help="Replicas of each runner with --split-runners (default: --replicas)."
    ),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="The runner token for the Secret with --split-runners (default: a new random one)."
    ),
) -> None:
    """Kubernetes manifests for a bento: Deployment, Service and HorizontalPodAutoscaler."""
    from bentotui.bento import k8s

    if (runner_replicas is not None or token_file is not None) and not split_runners:
        raise InvalidArgument("--runner-replicas and --token-file go with --split-runners")
    token = None
    if token_file is not None:
        from bentotui.runner.auth import load_token

        token = load_token(token_file).decode()
    options = k8s.DeployOptions(replicas=replicas, max_replicas=max_replicas, image=image, runner_replicas=runner_replicas)
    documents = k8s.bento_manifests(tag, options, split_runners=split_runners, token=token)
    if output is None:
        typer.echo(k8s.render(documents), nl=False)
        return
    for path in k8s.write(documents, output):
        typer.echo(f"wrote {path}")


@deploy_app.command("lambda")
def deploy_lambda(
    tag: str = typer.Argument(..., help="name, name:latest or name:version."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the image build context (new or empty)."),
) -> None:
    """A container-image build context that serves a bento on AWS Lambda (API Gateway HTTP API, function URLs)."""
    import shlex

    from bentotui.bento.lambda_context import HANDLER, LAMBDA_STEPS, write_lambda_context

    with _steps(LAMBDA_STEPS) as step:
        result = write_lambda_context(tag, output, on_step=step)
    typer.echo(f"Lambda build context: {result.context} (handler {HANDLER})")
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo("build the image, push it to ECR and create the function from it:")
    typer.echo("  " + shlex.join(result.build_command))
