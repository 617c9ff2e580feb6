"""The ``bentotui`` command line (typer).

Each command group lives in its own module and keeps heavy imports inside its command functions,
so ``bentotui --help`` stays fast.  Errors meant for the user (:class:`BentotuiError`) become one
red line and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from bentotui import __version__
from bentotui.cli import _commands
from bentotui.exceptions import BentotuiError

app = typer.Typer(
    name="bentotui",
    help="A local model-serving workbench. Run without arguments to open the TUI.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bentotui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
) -> None:
    """A local model-serving workbench. Run without arguments to open the TUI."""
    ctx.obj = {"debug": debug}
    if ctx.invoked_subcommand is None:
        from bentotui.tui import run_tui

        run_tui()


_commands.register(app)


def _print_error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {message}", markup=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; maps user errors to exit code 2 without a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="bentotui", standalone_mode=False)
    except BentotuiError as exc:
        if debug:
            raise
        _print_error(exc.message)
        sys.exit(2)
    except typer.Abort:
        _print_error("aborted")
        sys.exit(1)
    except TyperException as exc:  # usage errors: typer 0.29+ raises its own click exceptions
        exc.show()  # type: ignore[attr-defined]  # typer's stub omits click's ClickException.show
        sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
