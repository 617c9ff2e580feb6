"""Serving a bento: ``bentotui serve NAME[:VERSION]`` or ``bentotui serve PATH/TO/BENTO``.

The bento's ``src/`` is the working folder (the server imports the service from there and runner
workers get it on their path).  The models the bento carries in ``models/`` are imported into the
local model store when the store lacks them -- through the store's folder import (the checks of an
archive import), so their checksums are verified on the way and a half-imported model is never
visible.  Serving code then finds them with the ordinary ``bentotui.models.get(tag)``, exactly as when the service was built.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bentotui.exceptions import Conflict, InvalidArgument, NotFound
from bentotui.service.loader import ServeTarget, load_target
from bentotui.store.bentos import MANIFEST, Bento, BentoStore
from bentotui.store.tags import Tag

logger = logging.getLogger("bentotui.server")

BENTOFILE = "bentofile.yaml"
#: what ``bentotui serve .`` imports from a folder without a bentofile, as BentoML does
DEFAULT_SERVICE_FILE = "service.py"


def find_bento(target: str, cwd: Path | None = None) -> Bento | None:
    """The bento a serve TARGET names (a folder with ``bento.yaml`` or a tag), or None."""
    store = BentoStore()
    folder = Path(cwd or Path.cwd(), target).expanduser()
    if (folder / MANIFEST).is_file():
        return store.read_folder(folder.resolve())
    try:
        # BentoML 0.x users type the class name: ``IrisClassifier:latest`` is ``irisclassifier``
        tag = Tag.parse(target.lower())
    except InvalidArgument:
        return None
    try:
        return store.get(tag)
    except NotFound:
        return None


def load_bento_service(target: str, cwd: Path | None = None) -> ServeTarget:
    """Import a bento's service (its models made available first); NotFound if no such bento."""
    found = resolve_bento(target, cwd or Path.cwd())
    if found is None:
        raise NotFound(f"no bento {target!r} (neither a bento folder nor a tag in the store)")
    return found


def resolve_bento(target: str, working_dir: Path) -> ServeTarget | None:
    """Resolver (:mod:`bentotui.service.loader`) for a bento tag or folder; None if not a bento.

    The target runs from the bento's ``src/`` (in place of ``--working-dir``) and takes the port
    the bento was built with when ``--port`` is not given.
    """
    bento = find_bento(target, working_dir)
    if bento is None:
        return None
    ensure_models(bento)
    apply_envs([(e.name, e.value) for e in bento.info.envs], str(bento.tag))
    src = bento.path / "src"
    service = load_target(bento.info.service, src).service
    return ServeTarget(service, src, bento.info.default_port, bento)


def resolve_bentofile(target: str, working_dir: Path) -> ServeTarget | None:
    """Resolver for a project folder (``bentotui serve .``, or no TARGET at all): the service its
    ``bentofile.yaml`` names, else its ``service.py`` (BentoML's fallback), imported from that
    folder; None when the folder has neither."""
    folder = (working_dir / target).resolve()
    bentofile = folder / BENTOFILE
    if not bentofile.is_file():
        return load_target(DEFAULT_SERVICE_FILE, folder) if (folder / DEFAULT_SERVICE_FILE).is_file() else None
    from bentotui.bento.bentofile import load_bentofile  # pydantic: only when there is a bentofile

    config = load_bentofile(bentofile)
    apply_envs([(e.name, e.value) for e in config.envs], str(bentofile))
    return load_target(config.service, folder)


def apply_envs(envs: list[tuple[str, str | None]], source: str) -> None:
    """Set a bentofile's ``envs`` before the service is imported (it may read them at import), as
    BentoML does; a variable already set keeps its value, so a deployment can override any, and
    one without a value that nobody set is named in a warning."""
    for name, value in envs:
        if name in os.environ:
            continue
        if value is None:
            logger.warning("%s expects the environment variable %s, which is not set", source, name)
        else:
            os.environ[name] = value


def ensure_models(bento: Bento) -> list[Tag]:
    """Import the bento's models that the local store lacks; returns the tags imported."""
    from bentotui.store.models import ModelStore

    store = ModelStore()
    imported = []
    for entry in bento.info.models:
        tag = entry.tag
        try:
            store.get(tag)
            continue
        except NotFound:
            pass
        folder = tag.path_in(bento.path / "models")
        if not folder.is_dir():
            raise NotFound(f"bento {bento.tag} lists model {tag} but does not carry it, and the store lacks it")
        try:
            store.items.import_folder(folder)  # verified against its manifest like an archive import
        except Conflict:
            pass  # another server of this bento imported it meanwhile
        imported.append(tag)
    return imported
