"""``bentotui runs list|stop|logs``: the servers running on this machine (from the registry)."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, stop and read the logs of running servers.", no_args_is_help=True)


@app.command("list")
def list_cmd(output: str = typer.Option("table", "--output", "-o", help="table or json.")) -> None:
    """Running servers (entries of dead processes are swept)."""
    import json

    from bentotui import runs
    from bentotui.exceptions import InvalidArgument

    if output not in ("table", "json"):
        raise InvalidArgument(f"--output must be table or json, not {output!r}")
    found = runs.list_runs()
    if output == "json":
        typer.echo(json.dumps([r.to_dict() for r in found], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("ID", "PID", "URL", "TARGET", "STATE", "STARTED", box=None)
    for r in found:
        table.add_row(r.id, str(r.pid), r.url, r.target, r.state, r.started_at)
    console = Console()
    if not console.is_terminal:  # piped: never cut ids or URLs to fit 80 columns
        console = Console(width=250)
    console.print(table if found else "no running servers")


@app.command("stop")
def stop_cmd(
    run_id: str = typer.Argument(..., help="Run id or a unique prefix of it."),
    timeout: float = typer.Option(10.0, "--timeout", min=0, help="Seconds to wait before SIGKILL."),
) -> None:
    """Stop a server gracefully (SIGTERM; SIGKILL after --timeout)."""
    from bentotui import runs

    info = runs.stop_run(run_id, timeout=timeout)
    typer.echo(f"stopped {info.id} (pid {info.pid})")


@app.command("logs")
def logs_cmd(
    run_id: str = typer.Argument(..., help="Run id or a unique prefix of it."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines until the server exits."),
    lines: int = typer.Option(50, "--lines", "-n", min=0, help="How many of the last lines to print."),
) -> None:
    """Print the end of a server's log (also of a server that has stopped)."""
    from bentotui import logs, runs

    info = runs.find_run(run_id)
    log_path = info.log_path if info else runs.find_log(run_id)
    # the follower's position is taken before the tail is read: no line falls between the two
    new_lines = logs.follow(log_path, stop=lambda: not runs.is_alive(info)) if follow and info else iter(())
    for line in logs.tail_lines(log_path, lines):
        typer.echo(line)
    for line in new_lines:
        typer.echo(line)
