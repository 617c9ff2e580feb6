"""Turns a serve TARGET into a :class:`ServeTarget`: the service, where it runs from, its port.

``bentotui serve TARGET`` (and a bento build's ``service:``) name a service in one of several
forms.  Each form is one small :data:`Resolver`: ``(target, working_dir) -> ServeTarget | None``,
None meaning "not my kind", so the next one is tried.  :func:`load_target` walks a list of them;
this module holds the resolvers that need nothing above the service layer (``module:attr``), and
the layers above add theirs (``bentotui.bento.serving.resolve_bento`` for bento tags and folders)
when they compose the list (``bentotui.server.serve``).  BentoML keeps the same job in
``_internal/service/loader.py``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound
from bentotui.service.service import Service
from bentotui.store.bentos import DEFAULT_PORT

if TYPE_CHECKING:
    from bentotui.store.bentos import Bento


@dataclass(frozen=True)
class ServeTarget:
    """What serving needs besides the options: the service, the folder it is imported from (the
    runner workers get it on their path), the port to take when ``--port`` is not given, and the
    bento it came from, if any."""

    service: Service
    working_dir: Path
    default_port: int = DEFAULT_PORT
    bento: Bento | None = None

    @classmethod
    def of(cls, service: Service, working_dir: Path) -> ServeTarget:
        """A target for a service imported from ``working_dir`` (its own default port, if it has one)."""
        return cls(service, working_dir, service.default_port or DEFAULT_PORT)


Resolver = Callable[[str, Path], "ServeTarget | None"]


def as_service(obj: Any, where: str) -> Service:
    """A Service from a Service or a 1.2 ``@service`` class (0.x bentos import a generated Service)."""
    from bentotui.service.classes import is_service_class, to_service

    if isinstance(obj, Service):
        return obj
    if is_service_class(obj):
        return to_service(obj)
    raise InvalidArgument(f"{where} is a {type(obj).__name__}, not a bentotui Service")


def import_service(target: str, working_dir: Path) -> Service | None:
    """The service ``module:attr`` names (or the one a bare ``module`` holds, see :func:`_only_service`),
    imported with ``working_dir`` on ``sys.path``; None when ``target`` is no module there."""
    module_name, _, attr = target.partition(":")
    if not module_name.replace(".", "").replace("_", "").isalnum():
        return None
    if str(working_dir) not in sys.path:
        sys.path.insert(0, str(working_dir))
    try:
        module = importlib.import_module(module_name)
    except BentotuiError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name == module_name.split(".")[0]:
            return None  # not a module here: perhaps a bento tag for a later resolver
        raise BentotuiError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise BentotuiError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    if attr:
        try:
            obj = getattr(module, attr)
        except AttributeError:
            raise NotFound(f"module {module_name!r} has no attribute {attr!r}") from None
        return as_service(obj, target)
    return as_service(_only_service(module), module_name)


def _only_service(module: Any) -> Any:
    """The one service a bare ``module`` target means, as BentoML's loader picks it: a 1.2
    ``@service`` class that no other class of the module ``depends`` on, else a 1.x ``Service``."""
    from bentotui.service.classes import dependencies_of, is_service_class

    classes = [v for v in vars(module).values() if is_service_class(v)]
    used = {dep for cls in classes for dep in dependencies_of(cls)}
    found = [cls for cls in classes if cls not in used] or [v for v in vars(module).values() if isinstance(v, Service)]
    if len(found) != 1:
        names = ", ".join(sorted(name for name, v in vars(module).items() if v in found)) or "none"
        raise InvalidArgument(
            f"module {module.__name__!r} holds {len(found)} services ({names}); name one as {module.__name__}:ATTR"
        )
    return found[0]


def resolve_module(target: str, working_dir: Path) -> ServeTarget | None:
    """Resolver for ``module:attr`` (and ``pkg.module:attr``) importable from ``working_dir``."""
    service = import_service(target, working_dir)
    return None if service is None else ServeTarget.of(service, working_dir)


def resolve_file(target: str, working_dir: Path) -> ServeTarget | None:
    """Resolver for ``service.py:svc`` and ``src/pkg/service.py:svc`` (the form of most BentoML
    1.x/1.2 READMEs): the file, which must lie inside ``working_dir``, is imported as the module its
    path names from there (``src.pkg.service``), as BentoML's loader does, so runner workers import
    it the same way."""
    path, sep, attr = target.partition(":")
    if not path.endswith(".py"):
        return None
    root = working_dir.resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root):
        raise InvalidArgument(f"{path} is outside the working folder {root} (use --working-dir)")
    if not file.is_file():
        raise NotFound(f"no file {path} in {root}")
    module = ".".join(file.relative_to(root).with_suffix("").parts)
    service = import_service(f"{module}{sep}{attr}", root)
    return None if service is None else ServeTarget.of(service, root)


#: the forms every caller knows: a file path first (``service.py`` would read as a module
#: ``service`` with a submodule ``py``), then ``module:attr``
MODULE_RESOLVERS: tuple[Resolver, ...] = (resolve_file, resolve_module)


def load_target(target: str, working_dir: Path, resolvers: Sequence[Resolver] = MODULE_RESOLVERS) -> ServeTarget:
    """The first answer of ``resolvers`` for ``target``; NotFound naming what was tried."""
    for resolver in resolvers:
        found = resolver(target, working_dir)
        if found is not None:
            return found
    raise NotFound(
        f"cannot find {target!r} in {working_dir}: give a TARGET as file.py:attr or module:attr, "
        "a bento tag or folder, or a folder with a bentofile.yaml"
    )
