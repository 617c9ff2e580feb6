"""``ServeOptions``: everything ``bentotui serve`` accepts, and the one place it is checked.

The CLI only fills this in (its flags' defaults come from here too), so a bad combination gets the
same one-line error whether the server is started from the CLI, the TUI or Python.  This module is
light on purpose: the CLI imports it to build ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bentotui.exceptions import InvalidArgument

DEFAULT_HOST = "127.0.0.1"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_BODY = 20 * 1024 * 1024
LOG_FORMATS = ("text", "json")


@dataclass
class ServeOptions:
    """What to serve (``target``, by default ``.``: the working folder's bentofile, or ``model``) and how; ``port`` None takes the target's default
    (the bento's, 5000 for a 0.x service, else 3000); ``python`` is the interpreter for every
    runner worker (``--python``)."""

    target: str | None = None
    model: str | None = None
    host: str = DEFAULT_HOST
    port: int | None = None
    working_dir: Path = field(default_factory=Path.cwd)
    runner_workers: int | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    max_concurrency: int | None = None
    max_body: int = DEFAULT_MAX_BODY
    log_format: str = "text"
    run_id: str | None = None
    python: str | None = None

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise InvalidArgument(f"--log-format must be text or json, not {self.log_format!r}")
        if self.target is not None and self.model is not None:
            raise InvalidArgument("give a TARGET (module:attr) or --model TAG, not both")
        if self.target is None and self.model is None:
            self.target = "."  # as BentoML: the working folder, served from its bentofile.yaml
        self.working_dir = Path(self.working_dir).expanduser().resolve()
        if not self.working_dir.is_dir():
            raise InvalidArgument(f"--working-dir {self.working_dir} is not a folder")
        if self.python is not None and not Path(self.python).is_file():
            raise InvalidArgument(f"--python {self.python} is not a file")
