"""``python -m bentotui`` and the bundle's entry point.

The hidden ``_worker`` and ``_forkserver`` subcommands are dispatched before the CLI is imported
so that runner worker processes do not pay for typer and rich on every start.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        from bentotui.runner.worker import main as worker_main

        sys.exit(worker_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "_forkserver":
        from bentotui.runner.forkserver import main as forkserver_main

        sys.exit(forkserver_main(sys.argv[2:]))
    from bentotui.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
