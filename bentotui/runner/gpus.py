"""Which GPUs each runner worker sees: ``CUDA_VISIBLE_DEVICES`` per worker, decided in the server.

A runner asks for GPUs with ``resources={"gpu": N}`` (a 1.2 ``@service``) or ``bentotui serve
--gpus N`` (every runner whose runnable supports ``nvidia.com/gpu``).  The server hands them out
from the GPUs it may use itself, so a worker's ``cuda:0`` is always one of those:

- the GPUs the server may use are its own ``CUDA_VISIBLE_DEVICES`` when set (ids or UUIDs, in
  that order), else every GPU the NVIDIA driver lists (``/proc/driver/nvidia/gpus``); torch is not
  imported for this, the API process never loads it.  A ``CUDA_VISIBLE_DEVICES`` that hides every
  GPU (empty, or ``-1``) is the user saying "CPU": it is kept, never replaced (BentoML overrode it:
  bentoml/BentoML#3972);
- ``N`` whole GPUs over ``W`` workers: each worker gets its own ``N // W`` of them when ``N >= W``
  (one worker: all ``N``; ``N == W``: one each), so ``W`` workers do not all load the model on the
  same ``cuda:0`` while the other GPUs idle, as when every worker sees all of them (BentoML 1.4's
  allocator); with fewer GPUs than workers, workers share them round-robin;
- a fraction (``0.5``) shares one GPU among the workers;
- more GPUs than there are is not an error on a laptop without one: the workers run on the CPU,
  and the server says so in its log.

Numbering starts at the first GPU the server may use (bentoml/BentoML#5443: workers were given
``CUDA_VISIBLE_DEVICES=1`` on a one-GPU machine).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path

from bentotui.exceptions import InvalidArgument

log = logging.getLogger("bentotui.server")

CUDA_ENV = "CUDA_VISIBLE_DEVICES"
#: set in a worker that was given GPUs: frameworks put their models on ``cuda`` there, not before
ASSIGNED_ENV = "BENTOTUI_GPUS"
NVIDIA_GPU = "nvidia.com/gpu"
_DRIVER_GPUS = Path("/proc/driver/nvidia/gpus")


def visible_gpus(environ: Mapping[str, str] = os.environ, driver_dir: Path = _DRIVER_GPUS) -> list[str]:
    """The GPUs this process may hand out, as ``CUDA_VISIBLE_DEVICES`` entries."""
    value = environ.get(CUDA_ENV)
    if value is not None:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        # CUDA stops at the first invalid entry: "-1" (or "0,-1,2" past its 0) hides the rest
        kept: list[str] = []
        for entry in ids:
            if entry.startswith("-"):
                break
            kept.append(entry)
        return kept
    try:
        count = sum(1 for _ in driver_dir.iterdir())
    except OSError:  # no NVIDIA driver
        return []
    return [str(index) for index in range(count)]


def check_request(count: object, where: str) -> float:
    """``count`` as a GPU request: a positive whole number, or a fraction below one."""
    if isinstance(count, bool) or not isinstance(count, (int, float)) or not math.isfinite(count) or count < 0:
        raise InvalidArgument(f"{where}: gpu must be a number >= 0, got {count!r}")
    if count > 1 and int(count) != count:
        raise InvalidArgument(f"{where}: a fraction of a GPU must be below 1, got {count!r}")
    return float(count)


def assign(count: float, workers: int, available: list[str], runner: str) -> list[str | None]:
    """Each worker's ``CUDA_VISIBLE_DEVICES`` (None: leave the worker's environment as it is)."""
    if count == 0:
        return [None] * workers
    if not available:
        log.warning("runner %r asks for %g GPU(s) but none is visible: its workers run on the CPU", runner, count)
        return [None] * workers
    if count < 1:
        return [available[0]] * workers
    wanted = int(count)
    if wanted > len(available):
        log.warning(
            "runner %r asks for %d GPUs but %d are visible (%s): it gets those",
            runner, wanted, len(available), ",".join(available),
        )
        wanted = len(available)
    gpus = available[:wanted]
    if wanted >= workers:
        each = wanted // workers
        if wanted % workers:
            log.warning("runner %r: %d GPUs do not split evenly over %d workers; %d stay unused",
                        runner, wanted, workers, wanted % workers)
        return [",".join(gpus[i * each:(i + 1) * each]) for i in range(workers)]
    return [gpus[i % wanted] for i in range(workers)]


def torch_device() -> str:
    """Where a torch model goes in this worker: ``cuda`` when the server gave it GPUs (and
    torch sees one), else ``cpu`` -- a GPU nobody asked for is not taken."""
    if not os.environ.get(ASSIGNED_ENV):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
