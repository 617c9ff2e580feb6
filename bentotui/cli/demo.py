"""``bentotui demo``: save the demo models (an iris classifier and a tiny text classifier).

Both are built offline in a few seconds (see :mod:`bentotui.demo`); the ML libraries are imported
only when the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(add_completion=False)


@app.command()
def demo(
    force: bool = typer.Option(False, "--force", "-f", help="Save new versions even if the models exist."),
    only: str = typer.Option(None, "--only", help="Save just this demo model."),
) -> None:
    """Save two demo models built offline: iris-classifier and text-classifier."""
    from rich.console import Console

    from bentotui.demo import DEMO_MODELS, existing
    from bentotui.exceptions import InvalidArgument

    specs = [spec for spec in DEMO_MODELS if only in (None, spec.name)]
    if not specs:
        raise InvalidArgument(f"no demo model {only!r} (known: {', '.join(s.name for s in DEMO_MODELS)})")
    console = Console(highlight=False)
    for spec in specs:
        model = None if force else existing(spec.name)
        if model is not None:
            console.print(f"kept  {model.tag}  (exists; --force saves a new version)")
            continue
        missing = spec.missing()
        if missing:
            _build_elsewhere(console, spec.name, missing, force)
            continue
        with console.status(f"building {spec.name}: {spec.description}..."):
            model = spec.save(spec.name)
        console.print(f"saved {model.tag}  ({spec.description})")


def _build_elsewhere(console: Console, name: str, missing: list[str], force: bool) -> None:
    """Build a demo model with ``runner.python`` when this program lacks its libraries (the bundle)."""
    import subprocess

    from bentotui import config

    python = config.get("runner.python")
    if not python:
        console.print(
            f"[yellow]skipped {name}: needs {', '.join(missing)}; set runner.python to a Python "
            "environment with bentotui\\[torch,hf] (bentotui config set runner.python PATH)[/]"
        )
        return
    from bentotui.exceptions import BentotuiError

    command = [python, "-m", "bentotui", "demo", "--only", name, *(["--force"] if force else [])]
    if subprocess.run(command).returncode != 0:
        raise BentotuiError(f"building {name} with runner.python ({python}) failed; see the lines above")
