"""``bentotui containerize``: a self-contained Docker build context for a bento, and the image.

The context holds everything the image needs and nothing from this machine's environment::

    Dockerfile          the bento's env/docker/Dockerfile
    requirements.txt    the bento's pinned env/python/requirements.txt
    wheels/             bentotui itself, as a wheel built from the installed source
    bento/              the bento (bento.yaml, src/, models/, env/, README.md)

It is written in a temporary sibling folder and renamed into place, so an interrupted run leaves
no half context.  The image is built only when a container engine is installed *and answers*
(a docker client without a daemon is common); otherwise the exact build command is returned.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bentotui.exceptions import BuildError, Conflict
from bentotui.store.tags import Tag

#: engines tried in order, with the command that proves the engine works (not only the client)
ENGINES: dict[str, list[str]] = {"docker": ["info"], "podman": ["info"], "buildah": ["info"]}
ENGINE_PROBE_TIMEOUT_S = 15
StepCallback = Callable[[str], None]
#: steps ``write_context`` reports (``containerize`` adds one when it builds an image)
CONTEXT_STEPS = 3


@dataclass
class ContextResult:
    """A written build context and what became of the image."""

    context: Path
    image: str
    build_command: list[str]
    engine: str | None = None
    built: bool = False
    engine_problems: list[str] = field(default_factory=list)


def staged_output(output: Path) -> tuple[Path, Path]:
    """``output`` resolved and checked (new, or an empty folder, in a folder that exists) and a
    fresh staging folder beside it: a context is written there and renamed into place, so an
    interrupted run leaves no half context."""
    output = output.expanduser().resolve()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise Conflict(f"{output} exists and is not an empty folder; choose another --output")
    if not output.parent.is_dir():
        raise BuildError(f"folder {output.parent} does not exist")
    return output, Path(tempfile.mkdtemp(prefix=f".{output.name}.tmp-", dir=output.parent))


def write_context(tag: str | Tag, output: Path | None = None, *, on_step: StepCallback | None = None) -> ContextResult:
    """Write the build context of bento ``tag`` to ``output`` (a new or empty folder)."""
    from bentotui.store.bentos import BentoStore

    step = on_step or (lambda _description: None)
    step("verifying the bento")
    bento = BentoStore().verify(tag)
    image = f"{bento.tag.name}:{bento.tag.version}"
    if output is None:
        output = Path(tempfile.mkdtemp(prefix=f"bentotui-{bento.tag.name}-")) / "context"
    output, staging = staged_output(output)
    try:
        step("copying the bento")
        shutil.copytree(bento.path, staging / "bento")
        shutil.copyfile(bento.path / "env" / "docker" / "Dockerfile", staging / "Dockerfile")
        shutil.copyfile(bento.path / "env" / "python" / "requirements.txt", staging / "requirements.txt")
        step("building the bentotui wheel")
        build_wheel(staging / "wheels")
        if output.exists():
            output.rmdir()
        os.rename(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ContextResult(context=output, image=image, build_command=["docker", "build", "-t", image, str(output)])


def source_root() -> Path:
    """The folder with bentotui's ``pyproject.toml`` (an editable or source install)."""
    import bentotui

    root = Path(bentotui.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise BuildError(
            f"cannot find bentotui's source (no pyproject.toml next to {root / 'bentotui'}); "
            "containerize needs bentotui installed from a source checkout"
        )
    return root


def build_wheel(dest: Path) -> Path:
    """Build bentotui's wheel into ``dest`` from a clean copy of its source.

    The copy keeps setuptools' ``build/`` and ``*.egg-info`` out of the source tree (and stale
    files in an old ``build/`` out of the wheel).  No build isolation: the wheel is built with
    the setuptools installed here, so nothing is downloaded.
    """
    if getattr(sys, "frozen", False):
        raise BuildError("containerize is not available in the bundled app; run it from a Python install")
    root = source_root()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bentotui-src-") as tmp:
        src = Path(tmp) / "bentotui-src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copyfile(root / name, src / name)
        shutil.copytree(root / "bentotui", src / "bentotui", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dest), str(src)],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise BuildError(f"building the bentotui wheel failed: {last[0]}")
    wheels = sorted(dest.glob("bentotui-*.whl"))
    if not wheels:
        raise BuildError("building the bentotui wheel produced no wheel")
    return wheels[-1]


def find_engine() -> tuple[str | None, list[str]]:
    """The first container engine on PATH that works, and why the others did not."""
    problems = []
    for engine, probe in ENGINES.items():
        exe = shutil.which(engine)
        if exe is None:
            continue
        try:
            proc = subprocess.run([exe, *probe], capture_output=True, text=True, timeout=ENGINE_PROBE_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"{engine}: {exc}")
            continue
        if proc.returncode == 0:
            return engine, problems
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        problems.append(f"{engine} does not work here: {last[0]}")
    return None, problems


def engine_command(engine: str, image: str, context: Path) -> list[str]:
    """The build command of ``engine`` (buildah spells it ``bud``)."""
    verb = ["bud"] if engine == "buildah" else ["build"]
    return [engine, *verb, "-t", image, str(context)]


def containerize(
    tag: str | Tag, output: Path | None = None, *, build: bool = True, on_step: StepCallback | None = None
) -> ContextResult:
    """Write the context; build the image when ``build`` and a working engine is found."""
    result = write_context(tag, output, on_step=on_step)
    if not build:
        return result
    engine, result.engine_problems = find_engine()
    if engine is None:
        return result
    result.engine = engine
    result.build_command = engine_command(engine, result.image, result.context)
    if on_step:
        on_step(f"building image {result.image} with {engine}")
    proc = subprocess.run(result.build_command)
    if proc.returncode != 0:
        raise BuildError(f"{engine} build failed with exit code {proc.returncode} (context kept in {result.context})")
    result.built = True
    return result
