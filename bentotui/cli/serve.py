"""``bentotui serve``: the headless server (the TUI starts servers through the same command)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from bentotui.server.options import (
    DEFAULT_HOST,
    DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_TIMEOUT_S,
    RunnerServerOptions,
    ServeOptions,
    depends,
    remote_runners,
)

app = typer.Typer()


@app.command("serve")
@app.command("serve-http", hidden=True)  # BentoML 1.x's name for the same command
@app.command("start-http-server")  # BentoML's: the API server of a deployment with runners apart
def serve_cmd(
    target: str = typer.Argument(None, help="service.py:svc or module:attr in the working folder, a bento tag/folder; default . (the bentofile's service)."),
    model: str = typer.Option(None, "--model", help="Serve one stored model with an automatic service."),
    port: int = typer.Option(
        None, "--port", "-p", min=0, max=65535, help="Port (default 3000, or the bento's); 0 picks a free one."
    ),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to bind (0.0.0.0 for all interfaces)."),
    allowed_hosts: list[str] = typer.Option(
        [], "--allowed-host", envvar="BENTOTUI_ALLOWED_HOSTS", metavar="NAME",
        help="Also answer requests whose Host is NAME (repeatable; *.domain, or * for any); localhost, "
        "loopback and the bound address always are (any IP address under --host 0.0.0.0).",
    ),
    cors_origins: list[str] = typer.Option(
        [], "--cors-origin", envvar="BENTOTUI_CORS_ORIGINS", metavar="ORIGIN",
        help="Let web pages from ORIGIN (http://host:port; repeatable, * for any) call the server, with CORS "
        "headers; other cross-site browser requests get 403.",
    ),
    otel_endpoint: str = typer.Option(
        None, "--otel-endpoint", metavar="URL",
        help="Send OpenTelemetry traces over OTLP/HTTP to the collector at URL (http://localhost:4318); "
        "the OTEL_* variables configure tracing too. Off by default; needs bentotui[otel].",
    ),
    working_dir: Path = typer.Option(None, "--working-dir", help="Folder to import TARGET from (default: cwd)."),
    runner_workers: int = typer.Option(None, "--runner-workers", min=1, help="Worker processes per runner."),
    gpus: float = typer.Option(
        0, "--gpus", min=0, metavar="N",
        help="GPUs for each runner whose model supports them (torch, transformers) and that asks for none: "
        "N over its workers, each worker its own CUDA_VISIBLE_DEVICES, from this process's GPUs.",
    ),
    timeout: float = typer.Option(DEFAULT_TIMEOUT_S, "--timeout", min=0.001, help="Per-request limit in seconds (504 past it)."),
    max_concurrency: int = typer.Option(None, "--max-concurrency", min=1, help="API requests in flight before 503."),
    max_body: int = typer.Option(DEFAULT_MAX_BODY, "--max-body", min=1, help="Largest request body in bytes (413)."),
    read_timeout: float = typer.Option(
        DEFAULT_READ_TIMEOUT_S, "--read-timeout", min=0.001, help="Seconds a request body may take to arrive (408 past it)."
    ),
    max_connections: int = typer.Option(
        None, "--max-connections", min=1, help="Requests in progress before 503 (default: the open-file limit less 128)."
    ),
    reload: bool = typer.Option(False, "--reload", help="Restart when a file in the working folder changes."),
    log_format: str = typer.Option("text", "--log-format", help="Access log and log lines as text or json."),
    python: Path = typer.Option(
        None, "--python", help="Python interpreter for every runner worker (an environment with bentotui installed)."
    ),
    remote_runner: list[str] = typer.Option(
        [], "--remote-runner", metavar="NAME=tcp://HOST:PORT[,...]",
        help="Send runner NAME's calls to runner servers (`bentotui start-runner-server`) instead of local "
        "workers, least-loaded first (repeatable). Non-loopback ones need the runner token.",
    ),
    runner_map: str = typer.Option(
        None, "--runner-map", envvar="BENTOML_SERVE_RUNNER_MAP", metavar="JSON",
        help='BentoML\'s form of --remote-runner: {"NAME": "tcp://HOST:PORT"}.',
    ),
    token_file: Path = typer.Option(
        None, "--token-file", help="File holding the runner link's token (default: $BENTOTUI_RUNNER_TOKEN)."
    ),
    depends_on: list[str] = typer.Option(
        [], "--depends", envvar="BENTOML_SERVE_DEPENDS", metavar="NAME=URL",
        help="BentoML's: call the service NAME that depends(...) refers to at URL (http://HOST:PORT) instead of "
        "in process, or runner NAME on a runner server (tcp://HOST:PORT). Repeatable.",
    ),
    run_id: str = typer.Option(None, "--run-id", hidden=True, help="Registry id (set by the TUI/runs.start_run)."),
    # BentoML 1.0/1.1 READMEs pass these; bentotui always serves the one (production) way
    _production: bool = typer.Option(False, "--production", hidden=True, help="Accepted for BentoML commands."),
    _development: bool = typer.Option(False, "--development", hidden=True, help="Accepted for BentoML commands."),
) -> None:
    """Serve a service (module:attr) or a stored model (--model TAG) over HTTP."""
    runner_depends, service_depends = depends(depends_on)
    options = ServeOptions(
        target=target, model=model, host=host, port=port, working_dir=working_dir or Path.cwd(),
        runner_workers=runner_workers, gpus=gpus, timeout=timeout, max_concurrency=max_concurrency, max_body=max_body,
        read_timeout=read_timeout, max_connections=max_connections, log_format=log_format, run_id=run_id, python=str(python) if python else None,
        allowed_hosts=tuple(allowed_hosts), cors_origins=tuple(cors_origins), otel_endpoint=otel_endpoint,
        remote_runners=remote_runners([*remote_runner, *runner_depends], runner_map), token_file=token_file,
        depends=service_depends,
    )
    if reload:
        _reload(options.working_dir)
        return
    from bentotui.server.serve import serve

    raise typer.Exit(serve(options))


@app.command("start-runner-server")
def start_runner_server(
    target: str = typer.Argument(".", help="The service (module:attr, a bento tag or folder) whose runner to serve."),
    runner_name: str = typer.Option(
        ..., "--runner-name", envvar="BENTOML_SERVE_RUNNER_NAME", help="The runner to serve (its name in the service)."
    ),
    bind: str = typer.Option(
        None, "--bind", metavar="tcp://HOST:PORT", help="Where API servers connect (default tcp://HOST:PORT of --host/--port)."
    ),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to listen on, without --bind."),
    port: int = typer.Option(0, "--port", "-p", min=0, max=65535, help="Port without --bind (0: a free one, logged)."),
    working_dir: Path = typer.Option(None, "--working-dir", help="Folder to import TARGET from (default: cwd)."),
    runner_workers: int = typer.Option(None, "--runner-workers", "--workers", min=1, help="Worker processes of the runner."),
    gpus: float = typer.Option(0, "--gpus", min=0, metavar="N", help="GPUs for the runner, as `serve --gpus`."),
    python: Path = typer.Option(None, "--python", help="Python interpreter for the workers."),
    token_file: Path = typer.Option(
        None, "--token-file", help="File holding the runner link's token (default: $BENTOTUI_RUNNER_TOKEN); "
        "required unless bound to loopback.",
    ),
    log_format: str = typer.Option("text", "--log-format", help="Log lines as text or json."),
    _backlog: int = typer.Option(2048, "--backlog", hidden=True, help="Accepted for BentoML commands."),
    _timeout: float = typer.Option(None, "--timeout", hidden=True, help="Accepted for BentoML commands."),
) -> None:
    """Serve one runner's workers to API servers (`start-http-server --remote-runner`) over TCP."""
    if bind is None:
        bind = f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"
    options = RunnerServerOptions(
        target=target, runner_name=runner_name, bind=bind, working_dir=working_dir or Path.cwd(),
        workers=runner_workers, python=str(python) if python else None, gpus=gpus, token_file=token_file,
        log_format=log_format,
    )
    from bentotui.server.runner_server import serve_runner

    raise typer.Exit(serve_runner(options))


def _reload(workdir: Path) -> None:
    """Run the same command without --reload in a child, restarted on every Python file change."""
    import shlex

    import watchfiles

    from bentotui._process import self_command
    from bentotui.runs import new_run_id
    from bentotui.server.serve import SUPERVISOR_ENV

    args = [a for a in sys.argv[1:] if a != "--reload"]
    if "--run-id" not in args:
        args += ["--run-id", new_run_id()]  # one registry id across restarts
    command = shlex.join([*self_command(), *args])
    # the registry records this supervisor's pid, so `runs stop` ends the whole reloading server
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    watchfiles.run_process(workdir, target=command, watch_filter=watchfiles.PythonFilter())
