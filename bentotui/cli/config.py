"""``bentotui config get|set|unset|list``: the settings file from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Read and write settings in $BENTOTUI_HOME/config.yaml.", no_args_is_help=True)


@app.command("get")
def get_cmd(key: str = typer.Argument(..., help="Dotted key, e.g. runner.python.")) -> None:
    """Print one setting (empty when unset)."""
    from bentotui import config

    value = config.get(key)
    typer.echo("" if value is None else value)


@app.command("set")
def set_cmd(key: str, value: str) -> None:
    """Set one setting."""
    from bentotui import config

    if key == "runner.python":
        from pathlib import Path

        from bentotui.exceptions import InvalidArgument

        if not Path(value).is_file():
            raise InvalidArgument(f"runner.python: {value} is not a file")
    config.set_value(key, value)


@app.command("unset")
def unset_cmd(key: str) -> None:
    """Remove one setting."""
    from bentotui import config

    config.set_value(key, None)


@app.command("list")
def list_cmd() -> None:
    """Print every setting and where the file is."""
    import yaml

    from bentotui import config, paths

    typer.echo(f"# {paths.config_file()}")
    typer.echo(yaml.safe_dump(config.load(), sort_keys=True).rstrip() or "{}")
