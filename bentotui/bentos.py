"""``bentotui.bentos``: the public bento-store API (``bentoml.bentos`` after BentoML).

Each call works on the store under the current ``$BENTOTUI_HOME``, read at call time.  Building a
bento (``bentofile.yaml``) lives in ``bentotui.bento``.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

from bentotui.exceptions import BuildError
from bentotui.store.bentos import MANIFEST, Bento, BentoInfo, BentoStore
from bentotui.store.item_store import Progress
from bentotui.store.tags import Tag

__all__ = [
    "MANIFEST",
    "Bento",
    "BentoInfo",
    "Tag",
    "build",
    "build_bentofile",
    "delete",
    "export_bento",
    "get",
    "import_bento",
    "list",
]


def get(tag: str | Tag) -> Bento:
    """The bento ``tag`` names; ``"name"`` or ``"name:latest"`` is the newest version."""
    return BentoStore().get(tag)


def list(name: str | None = None) -> builtins.list[Bento]:  # noqa: A001
    """Bentos, newest first, optionally of one name; unreadable entries are logged and skipped."""
    return BentoStore().list(name)


def delete(tag: str | Tag) -> Tag:
    """Remove one bento version; returns the tag that was removed."""
    return BentoStore().delete(tag)


def export_bento(
    tag: str | Tag, path: str | Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Write ``tag`` to a ``.bento`` archive (``path`` may be a folder); returns the file."""
    return BentoStore().export(tag, path, force=force, progress=progress)


def import_bento(path: str | Path, *, force: bool = False, progress: Progress | None = None) -> Bento:
    """Add the bento in a ``.bento`` archive; refuses hostile or corrupt archives."""
    return BentoStore().import_(path, force=force, progress=progress)


def build(
    service: str | object,
    *,
    name: str | None = None,
    labels: dict[str, str] | None = None,
    description: str | None = None,
    include: builtins.list[str] | None = None,
    exclude: builtins.list[str] | None = None,
    docker: dict[str, Any] | None = None,
    python: dict[str, Any] | None = None,
    models: builtins.list[str] | None = None,
    version: str | None = None,
    build_ctx: str | Path | None = None,
) -> Bento:
    """Build a bento from arguments, as ``bentoml.bentos.build``: the arguments are the keys of a
    ``bentofile.yaml`` (checked the same way) and ``build_ctx`` (default: the working folder) is
    the source root.  A ``bentofile.yaml`` there is not read, as in BentoML.

    In a notebook, ``service`` may also be the Service (or 1.2 class) typed into its cells, or
    ``"__main__:svc"``: the cells that define it are written to a temporary build folder.
    """
    from bentotui.bento.build import build_from_arguments
    from bentotui.service.source import is_notebook_service, notebook_build_folder

    if is_notebook_service(service):
        with notebook_build_folder(service) as (ref, folder):
            return build(
                ref, name=name, labels=labels, description=description, include=include, exclude=exclude,
                docker=docker, python=python, models=models, version=version, build_ctx=folder,
            )
    if not isinstance(service, str):
        raise BuildError(f"bentos.build takes the service as 'file.py:svc' or 'module:svc', not {service!r}")

    return build_from_arguments(
        Path(build_ctx or "."), version=version, service=service, name=name, labels=labels,
        description=description, include=include, exclude=exclude, docker=docker, python=python, models=models,
    )


def build_bentofile(
    bentofile: str | Path = "bentofile.yaml", *, version: str | None = None, build_ctx: str | Path | None = None
) -> Bento:
    """Build from a ``bentofile.yaml`` (relative to ``build_ctx``), as ``bentoml.bentos.build_bentofile``."""
    from bentotui.bento.bentofile import load_bentofile
    from bentotui.bento.build import build as build_config

    root = Path(build_ctx or ".")
    path = Path(bentofile)
    return build_config(load_bentofile(path if path.is_absolute() else root / path), root, version=version)
