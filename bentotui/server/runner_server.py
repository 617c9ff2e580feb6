"""``bentotui start-runner-server``: one runner of a service, served to API servers over TCP.

The process loads TARGET as ``serve`` does (so the runner is built from the same model tags and
options), starts that runner's workers, and relays the calls of authenticated API servers to them
(:mod:`bentotui.runner.relay`) until SIGTERM/SIGINT.  Logs go to stderr: a runner server runs
under a supervisor (Kubernetes, systemd, a terminal), not the TUI's registry.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from bentotui.exceptions import InvalidArgument
from bentotui.server.options import RunnerServerOptions
from bentotui.server.serve import local_pool_options, outside_python, resolve_target
from bentotui.server.stdio import setup_logging

if TYPE_CHECKING:
    from bentotui.runner.relay import RunnerServer

logger = logging.getLogger("bentotui.server")


def serve_runner(options: RunnerServerOptions) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit code (0 after a clean stop)."""
    from bentotui.runner.auth import load_token
    from bentotui.runner.relay import RunnerServer

    setup_logging(options.log_format)
    serve_options = options.serve_options()
    token = load_token(options.token_file)
    target = resolve_target(serve_options)
    runners = {runner.name: runner for runner in target.service.runners}
    runner = runners.get(options.runner_name)
    if runner is None:
        names = ", ".join(sorted(runners)) or "none"
        raise InvalidArgument(f"service {target.service.name!r} has no runner {options.runner_name!r} (runners: {names})")
    if not options.python:
        runner.python = runner.python or outside_python(runner)
    server = RunnerServer(runner, bind=options.bind, token=token, pool_options=local_pool_options(serve_options, target))
    asyncio.run(_run(server))
    return 0


async def _run(server: RunnerServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    address = await server.start()
    logger.info(
        "runner server for %s listening on %s (%d workers%s)", server.runner.name, address, server.worker_slots,
        ", token required" if server.token else ", no token: loopback only",
    )
    try:
        await stop.wait()
    finally:
        await server.stop()
    logger.info("runner server for %s stopped", server.runner.name)
