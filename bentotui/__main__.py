"""``python -m bentotui`` and the bundle's entry point.

The hidden ``_worker`` subcommand is dispatched before the CLI is imported so that runner worker
processes do not pay for typer and rich on every start.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        from bentotui.runner.worker import main as worker_main

        sys.exit(worker_main(sys.argv[2:]))
    from bentotui.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
