"""``bentoml.importing()``: imports that only the serving environment has.

A service module may import a heavy runtime library (``torch``, a GPU build) that the machine
*building* the bento lacks: inside ``with bentoml.importing():`` an ``ImportError`` is logged and
skipped while the module is imported for a build, a notebook or a test, and raised as usual in a
serving process (``bentotui serve`` marks itself and its runner workers with :data:`SERVING_ENV`),
where a missing library must fail loudly.  BentoML 1.2+ has the same context manager.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

#: set by ``bentotui serve`` (inherited by its runner workers) to the run id
SERVING_ENV = "BENTOTUI_SERVING"

logger = logging.getLogger("bentotui.service")


def is_serving() -> bool:
    """True in a ``bentotui serve`` process or one of its runner workers."""
    return bool(os.environ.get(SERVING_ENV))


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """Suppress an ``ImportError`` in the block unless this process serves (see the module doc)."""
    try:
        yield
    except ImportError as exc:
        if is_serving():
            raise
        logger.info("skipping the import of %s: it is not installed here", exc.name or exc)
