"""``bentotui demo``: save the demo models (an iris classifier and a tiny text classifier).

Both are built offline in a few seconds (see :mod:`bentotui.demo`); the ML libraries are imported
only when the command runs.
"""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False)


@app.command()
def demo(
    force: bool = typer.Option(False, "--force", "-f", help="Save new versions even if the models exist."),
) -> None:
    """Save two demo models built offline: iris-classifier and text-classifier."""
    from rich.console import Console

    from bentotui.demo import DEMO_MODELS, existing

    console = Console(highlight=False)
    for spec in DEMO_MODELS:
        model = None if force else existing(spec.name)
        if model is not None:
            console.print(f"kept  {model.tag}  (exists; --force saves a new version)")
            continue
        with console.status(f"building {spec.name}: {spec.description}..."):
            model = spec.save(spec.name)
        console.print(f"saved {model.tag}  ({spec.description})")
