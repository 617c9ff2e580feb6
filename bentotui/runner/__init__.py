"""Runners: runnables, their worker processes and adaptive batching.

``Runnable`` and ``Runner`` are the user-facing API (light imports); ``pool.RunnerPool`` is what
the server uses to run them in worker processes.  See ``docs/architecture.md`` ("Runner").
"""

from bentotui.runner.errors import RunnerError
from bentotui.runner.runnable import Runnable
from bentotui.runner.runner import Runner

__all__ = ["Runnable", "Runner", "RunnerError"]
