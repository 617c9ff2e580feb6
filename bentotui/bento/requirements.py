"""The pinned ``requirements.txt`` of a bento.

A bento must serve the same way on another machine, so every package is pinned to the version
installed where it was built: bentotui's own serving dependencies (not the TUI's: a container
never opens it), the extras the bento's models need (torch for PyTorch, transformers for Hugging
Face models), the user's packages, and with ``lock_packages`` every transitive dependency too.
Versions come from ``importlib.metadata``; nothing is downloaded or resolved online.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bentotui.exceptions import BuildError
from bentotui.frameworks.registry import framework

#: bentotui dependencies a server never imports (the TUI and --reload)
NOT_FOR_SERVING = {"textual", "watchfiles"}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def model_extras(module: str, options: Mapping[str, Any]) -> tuple[str, ...]:
    """The bentotui extras needed to load one model (``model.yaml`` module and options); none for a
    ``models.create()`` model without a framework module, whose files its own runnable reads."""
    if not module:
        return ()
    extras = framework(module).pip_extras
    if options.get("serialization") == "skops":
        extras += ("safe",)  # skops loads without unpickling; it is an optional dependency
    return extras


def normalize(name: str) -> str:
    """PEP 503 name: ``PyYAML`` and ``pyyaml`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(name: str) -> str:
    """The installed version of distribution ``name``; BuildError when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise BuildError(f"package {name!r} is needed by the bento but is not installed here") from None


def pin(name: str) -> list[str]:
    """``name==version`` for an installed distribution (plus a comment line for local builds).

    A local version tag such as torch's ``+cpu`` names a build on a separate index; it is dropped
    so that pip can resolve the pin, and a comment says where the CPU build lives.
    """
    dist = importlib.metadata.metadata(name)["Name"]
    version = installed_version(name)
    public, _, local = version.partition("+")
    lines = []
    if local:
        index = f"; install it from {TORCH_CPU_INDEX}" if local == "cpu" else ""
        lines.append(f"# {dist} {version} is a local build{index}")
    lines.append(f"{dist}=={public}")
    return lines


def bentotui_requirements(extras: Iterable[str]) -> list[str]:
    """Names of bentotui's serving dependencies plus those of ``extras``."""
    from packaging.requirements import Requirement

    wanted = set(extras)
    names: list[str] = []
    for line in importlib.metadata.requires("bentotui") or []:
        req = Requirement(line)
        marker = req.marker
        if marker is None:
            keep = normalize(req.name) not in NOT_FOR_SERVING
        else:
            keep = any(marker.evaluate({"extra": extra}) for extra in wanted)
        if keep and normalize(req.name) not in {normalize(n) for n in names}:
            names.append(req.name)
    return names


def dependency_closure(names: Iterable[str]) -> list[str]:
    """Every installed distribution that ``names`` need, transitively (markers evaluated here)."""
    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(name, frozenset()) for name in names]
    while todo:
        name, extras = todo.pop()
        key = normalize(name)
        if key in seen and not extras:
            continue
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed is not needed here
        seen[key] = importlib.metadata.metadata(name)["Name"]
        for line in requires:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append((req.name, frozenset(req.extras)))
    return sorted(seen.values(), key=normalize)


def render(
    *,
    extras: Iterable[str],
    packages: Iterable[str],
    requirements_txt: Path | None,
    lock: bool,
) -> str:
    """The text of ``env/python/requirements.txt``."""
    extras = sorted(set(extras))
    own = bentotui_requirements(extras)
    lines = [
        "# Pinned by `bentotui build` to the versions installed where the bento was built.",
        f"# bentotui {installed_version('bentotui')} itself is installed from the wheel in the build context.",
        "# bentotui's serving dependencies" + (f" (extras: {', '.join(extras)})" if extras else ""),
    ]
    for name in own:
        lines += pin(name)
    user = [spec.strip() for spec in packages if spec.strip()]
    if user:
        lines += ["# python.packages", *user]
    if requirements_txt is not None:
        try:
            text = requirements_txt.read_text(encoding="utf-8")
        except OSError as exc:
            raise BuildError(f"python.requirements_txt: cannot read {requirements_txt}: {exc.strerror}") from None
        lines += [f"# from {requirements_txt.name}", *(ln for ln in text.splitlines() if ln.strip())]
    if lock:
        listed = {normalize(n) for n in own}
        locked = [n for n in dependency_closure(own) if normalize(n) not in listed and normalize(n) != "bentotui"]
        if locked:
            lines.append("# their dependencies (python.lock_packages)")
            for name in locked:
                lines += pin(name)
    return "\n".join(lines) + "\n"
