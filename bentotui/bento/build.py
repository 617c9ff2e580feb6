"""``bentotui build``: a service, its source files, models and environment into the bento store.

The service is imported once at build time (from the build folder, and forgotten again
afterwards) so that the bento records what will actually be served: its APIs, its runners and the
models those runners use.  Each model is copied into the bento (``models/<name>/<version>/``, with
its ``model.yaml``) so an exported bento serves on a machine that has never seen the model store.
The bento itself is written through the store's atomic ``create``: a failed build leaves nothing.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from bentotui import __version__
from bentotui.bento import requirements
from bentotui.bento.bentofile import ALWAYS_EXCLUDE, BentoBuildConfig, load_bentofile
from bentotui.bento.dockerfile import render_dockerfile
from bentotui.exceptions import BentotuiError, BuildError
from bentotui.service.loader import load_target
from bentotui.service.service import Service
from bentotui.store.bentos import DEFAULT_PORT, Bento, BentoStore
from bentotui.store.tags import Tag, validate_part

#: called with a short description as each build step starts (the CLI shows rich progress)
StepCallback = Callable[[str], None]
BUILD_STEPS = 5


def build_from_bentofile(
    bentofile: Path, *, version: str | None = None, on_step: StepCallback | None = None
) -> Bento:
    """Build the bento ``bentofile`` describes; its folder is the build folder."""
    bentofile = Path(bentofile).resolve()
    config = load_bentofile(bentofile)
    return build(config, bentofile.parent, version=version, on_step=on_step)


def build_from_arguments(build_ctx: Path, *, version: str | None = None, **keys: Any) -> Bento:
    """Build from ``bentofile.yaml`` keys given as arguments (``bentoml.bentos.build`` and
    ``BentoService.save()``), checked as a bentofile's are; a key given as ``None`` takes the
    bentofile default.  ``build_ctx`` is the source root."""
    from bentotui.bento.bentofile import parse_config

    config = parse_config({key: value for key, value in keys.items() if value is not None}, "build arguments")
    return build(config, Path(build_ctx), version=version)


def build(
    config: BentoBuildConfig, build_dir: Path, *, version: str | None = None, on_step: StepCallback | None = None
) -> Bento:
    """Build ``config`` with ``build_dir`` as the source root; returns the stored bento."""
    step = on_step or (lambda _description: None)
    if version is not None:
        validate_part(version, "version")
    build_dir = build_dir.resolve()
    if not build_dir.is_dir():
        raise BuildError(f"build folder {build_dir} does not exist")
    step(f"loading service {config.service}")
    with _imported_from(build_dir):
        service = _load_service(config.service, build_dir)
        summary = _describe(service)
        service_models = _service_models(service)
    name = config.name or service.name.lower()
    step("collecting source files")
    files = collect_files(build_dir, config.include, config.exclude)
    step("resolving models")
    models = _resolve_models([*config.models, *service_models])
    port = config.docker.expose_port or service.default_port or DEFAULT_PORT
    step("pinning the Python environment")
    reqs = requirements.render(
        extras=[e for m in models for e in requirements.model_extras(m.info.module, m.info.options)],
        packages=config.python.packages,
        requirements_txt=_requirements_txt(config, build_dir),
        lock=config.python.lock_packages,
    )
    step("writing the bento")
    store = BentoStore()
    with store.items.create(name, version=version) as draft:
        for rel, source in files.items():
            target = draft.path / "src" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for model in models:
            shutil.copytree(model.path, model.tag.path_in(draft.path / "models"))
        _write(draft.path / "env" / "python" / "requirements.txt", reqs)
        # envs with a value become the image's ENV too (docker.env wins where both name one)
        env = {e.name: e.value for e in config.envs if e.value is not None} | config.docker.env
        docker = config.docker.model_copy(update={"env": env})
        _write(draft.path / "env" / "docker" / "Dockerfile", render_dockerfile(docker, port, reqs))
        draft.info = {
            "service": config.service,
            "description": config.description,
            "bentotui_version": __version__,
            "python_version": ".".join(map(str, sys.version_info[:3])),
            "labels": config.labels,
            "default_port": port,
            "apis": summary["apis"],
            "runners": summary["runners"],
            "models": [
                {"tag": str(m.tag), "module": m.info.module, "creation_time": m.info.creation_time.isoformat()}
                for m in models
            ],
            "python": {
                "packages": list(config.python.packages),
                "requirements_txt": config.python.requirements_txt,
                "lock_packages": config.python.lock_packages,
            },
            "envs": [e.model_dump() for e in config.envs],
            "docker": config.docker.model_dump(),
        }
        _write(draft.path / "README.md", _readme(name, config, summary, port))
    assert draft.item is not None
    return store.get(draft.item.tag)  # the typed record, read back and checked as any reader would


# ---------------------------------------------------------------------- the service


@contextlib.contextmanager
def _imported_from(build_dir: Path) -> Iterator[None]:
    """Import the user's modules from ``build_dir``, then forget them.

    Building twice in one process (tests, a notebook) must not serve a stale ``service`` module
    from an earlier folder, and the build must not leave the folder on ``sys.path``.
    """
    saved_path = list(sys.path)
    local = {p.stem for p in build_dir.glob("*.py")} | {p.parent.name for p in build_dir.glob("*/__init__.py")}
    for mod_name, module in list(sys.modules.items()):
        top = mod_name.split(".")[0]
        if (top in local and top != "bentotui") or _lives_in(module, build_dir):
            del sys.modules[mod_name]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for mod_name, module in list(sys.modules.items()):
            if _lives_in(module, build_dir):
                del sys.modules[mod_name]


def _lives_in(module: Any, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(folder)


def _load_service(ref: str, build_dir: Path) -> Service:
    try:
        return load_target(ref, build_dir).service
    except BuildError:
        raise
    except BentotuiError as exc:
        raise BuildError(f"cannot load service {ref!r}: {exc.message}") from None


def _describe(service: Service) -> dict[str, list[dict[str, Any]]]:
    apis = [
        {
            "name": api.name,
            "route": api.route,
            "input": type(api.input).__name__,
            "output": type(api.output).__name__,
        }
        for api in service.apis.values()
    ]
    runners = [
        {
            "name": runner.name,
            "runnable": runner.runnable_class.__qualname__,
            "methods": sorted(runner.methods),
            "models": [str(_tag_of(m)) for m in runner.models],
        }
        for runner in service.runners
    ]
    return {"apis": apis, "runners": runners}


def _tag_of(model: Any) -> Tag:
    return model.tag if hasattr(model, "tag") else Tag.parse(str(model))


def _service_models(service: Service) -> list[str]:
    found = [*service.models, *(m for runner in service.runners for m in runner.models)]
    return [str(_tag_of(m)) for m in found]


def _resolve_models(tags: Iterable[str]) -> list[Any]:
    """Each distinct model once, checked against its checksums (a damaged model is not packed)."""
    from bentotui.exceptions import NotFound
    from bentotui.store.models import ModelStore

    store = ModelStore()
    models: dict[Tag, Any] = {}
    for tag in tags:
        try:
            model = store.verify(tag)
        except NotFound:
            raise BuildError(f"models: model {tag!r} is not in the store") from None
        models.setdefault(model.tag, model)
    return list(models.values())


def _requirements_txt(config: BentoBuildConfig, build_dir: Path) -> Path | None:
    if config.python.requirements_txt is None:
        return None
    path = (build_dir / config.python.requirements_txt).resolve()
    if not path.is_file():
        raise BuildError(f"python.requirements_txt: {path} not found")
    return path


# ---------------------------------------------------------------------- source files


def collect_files(build_dir: Path, include: list[str], exclude: list[str]) -> dict[str, Path]:
    """``{relative posix path: file}`` of the build folder's files that ``include`` and not ``exclude``.

    Patterns are gitignore-like: one without ``/`` matches a file or folder name at any depth;
    one with ``/`` matches the path from the build folder (``*`` may cross folders, a leading
    ``**/`` may match nothing).  An excluded folder excludes everything in it.
    """
    for pattern in [*include, *exclude]:
        if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
            raise BuildError(f"pattern {pattern!r} must be relative to the build folder")
    skip = [*ALWAYS_EXCLUDE, *exclude]
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(build_dir):
        rel_dir = PurePosixPath(Path(dirpath).relative_to(build_dir).as_posix())
        dirnames[:] = sorted(d for d in dirnames if not _matches(rel_dir / d, skip))
        for filename in sorted(filenames):
            rel = rel_dir / filename
            path = Path(dirpath, filename)
            if path.is_symlink() or not path.is_file():
                continue
            if _matches(rel, include) and not _matches(rel, skip):
                files[str(rel).removeprefix("./")] = path
    return files


def _matches(rel: PurePosixPath, patterns: list[str]) -> bool:
    text = str(rel).removeprefix("./")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if "/" not in pattern:
            if fnmatch.fnmatchcase(rel.name, pattern):
                return True
        elif fnmatch.fnmatchcase(text, pattern) or (
            pattern.startswith("**/") and fnmatch.fnmatchcase(text, pattern[3:])
        ):
            return True
    return False


# ---------------------------------------------------------------------- files


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _readme(name: str, config: BentoBuildConfig, summary: dict[str, Any], port: int) -> str:
    apis = "\n".join(f"- `POST {a['route']}` ({a['input']} -> {a['output']})" for a in summary["apis"])
    return f"""# {name}

{config.description or f"A bento built by bentotui {__version__} from `{config.service}`."}

## APIs

{apis or "(none)"}

## Serve it

    bentotui serve {name}:latest            # from the store, on port {port}
    bentotui serve path/to/this/folder      # or straight from this folder

`src/` holds the service's source files, `models/` the models it uses (imported into the
local store on first serve), `env/python/requirements.txt` the pinned packages and
`env/docker/Dockerfile` the image recipe: `bentotui containerize {name}:latest` writes a
self-contained build context around it, `bentotui deploy k8s {name}:latest` Kubernetes manifests.
"""
