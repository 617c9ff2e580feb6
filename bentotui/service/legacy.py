"""BentoML 0.x front-end: ``BentoService``, ``@artifacts``, ``@env``, compiled onto the 1.x runtime.

A 0.x script declares a class, packs trained objects into it and calls ``save()``.  Saving stores
each packed artifact as a model, then builds a bento named after the class whose ``src/`` holds
the class's module (see :mod:`bentotui.service.source`) and a two-line generated module that calls
:func:`load_saved`; ``bentotui serve IrisClassifier:latest`` imports that module like any
``module:attr`` target, so neither the loader nor the bento builder needs a 0.x special case.

Serving: the class instance, with its artifacts loaded from the store, lives in runner worker
processes (:func:`legacy_runnable`, rebuilt there by reference); every ``@api`` method becomes a
runner method and a 1.x API that forwards to it.  ``batch=True`` methods are batchable: the
dispatcher merges the rows of concurrent requests into one DataFrame (or list) and hands each
request back its own rows, exactly as for 1.x runners.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bentotui.exceptions import BuildError, InvalidArgument, NotFound
from bentotui.runner.spec import import_ref
from bentotui.service.artifacts import BaseArtifact
from bentotui.service.decorators import APIConfig, api_methods
from bentotui.service.hosting import instance_runnable
from bentotui.service.source import infer_pip_packages, merge_packages, service_sources, write_sources
from bentotui.store.tags import validate_part

if TYPE_CHECKING:
    from bentotui.runner.runner import RunnerMethod
    from bentotui.service.service import Service

_S = TypeVar("_S", bound="BentoService")

logger = logging.getLogger("bentotui.service")

GENERATED_MODULE = "_bentotui_service"
DEFAULT_PORT = 5000  # what BentoML 0.x served on; the bento builder reads ``svc.default_port``
#: the bento's ``src/`` folder holding a copy of the ``@web_static_content`` folder
WEB_STATIC_DIR = "web_static_content"


class _Env:
    """What ``@env`` recorded."""

    def __init__(
        self, infer_pip_packages: bool = False, pip_packages: list[str] | None = None, base_image: str | None = None
    ) -> None:
        self.infer_pip_packages = infer_pip_packages
        self.pip_packages = list(pip_packages or [])
        self.base_image = base_image


def artifacts(specs: list[BaseArtifact]) -> Callable[[type[_S]], type[_S]]:
    """Class decorator declaring the service's artifact slots (``@artifacts([SklearnModelArtifact('model')])``)."""
    specs = list(specs)
    for spec in specs:
        if not isinstance(spec, BaseArtifact):
            raise BuildError(
                f"@bentotui.artifacts expects artifact objects such as SklearnModelArtifact('model'), got {spec!r}"
            )
    names = [spec.name for spec in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BuildError(f"@bentotui.artifacts declares {', '.join(duplicates)} more than once")

    def decorate(cls: type[_S]) -> type[_S]:
        _require_bentoservice(cls, "@bentotui.artifacts")
        cls._artifact_specs = {spec.name: spec for spec in specs}
        return cls

    return decorate


def env(
    infer_pip_packages: bool = False,
    pip_packages: list[str] | None = None,
    *,
    auto_pip_dependencies: bool = False,
    pip_dependencies: list[str] | None = None,
    requirements_txt_file: str | None = None,
    docker_base_image: str | None = None,
    conda_channels: list[str] | None = None,
    conda_dependencies: list[str] | None = None,
    setup_sh: str | None = None,
) -> Callable[[type[_S]], type[_S]]:
    """Class decorator recording the Python packages the bento needs (``auto_pip_dependencies``
    and ``pip_dependencies`` are the older 0.x spellings that gallery notebooks still use).

    ``requirements_txt_file`` adds that file's requirements and ``docker_base_image`` is the
    image ``containerize`` builds on.  bentotui installs with pip only: conda channels and
    packages, and a ``setup_sh`` script, are named in a warning and not installed.
    """
    packages = [*(pip_packages or []), *(pip_dependencies or [])]
    if requirements_txt_file is not None:
        packages += _requirements_file(Path(requirements_txt_file))
    ignored = [
        f"{what} {value}" for what, value in (
            ("conda_channels", conda_channels), ("conda_dependencies", conda_dependencies), ("setup_sh", setup_sh),
        ) if value
    ]
    if ignored:
        logger.warning("@env: bentotui installs with pip only; not installed: %s", "; ".join(ignored))
    environment = _Env(infer_pip_packages or auto_pip_dependencies, packages, docker_base_image)

    def decorate(cls: type[_S]) -> type[_S]:
        _require_bentoservice(cls, "@bentotui.env")
        cls._env = environment
        return cls

    return decorate


def _requirements_file(path: Path) -> list[str]:
    """The requirement lines of a ``requirements.txt`` (comments, blanks and pip options left out)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BuildError(f"@env(requirements_txt_file={str(path)!r}): {exc.strerror or exc}") from None
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip() and not line.startswith("-")]


def web_static_content(path: str) -> Callable[[type[_S]], type[_S]]:
    """Class decorator: the folder (relative to where ``save()`` runs, as in 0.x) of a web UI that
    the bento carries and its server serves at ``/`` (``index.html``) and below."""

    def decorate(cls: type[_S]) -> type[_S]:
        _require_bentoservice(cls, "@bentotui.web_static_content")
        cls._web_static_content = str(path)
        return cls

    return decorate


def _require_bentoservice(cls: Any, what: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, BentoService)):
        raise BuildError(f"{what} decorates a bentotui.BentoService subclass, not {cls!r}")


class ArtifactCollection:
    """``svc.artifacts``: attribute access to packed (or, in a worker, loaded) artifact objects."""

    def __init__(self, owner: str, specs: dict[str, BaseArtifact]) -> None:
        self._owner = owner
        self._specs = specs
        self._objects: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Any:
        if name not in self._specs:
            raise NotFound(f"{self._owner} has no artifact {name!r}; declared: {_names(self._specs)}")
        if name not in self._objects:
            raise NotFound(
                f"artifact {name!r} of {self._owner} is not packed; call pack({name!r}, obj) first"
            )
        return self._objects[name]

    def __contains__(self, name: object) -> bool:
        return name in self._objects

    def missing(self) -> list[str]:
        return [name for name in self._specs if name not in self._objects]


def _names(specs: dict[str, Any]) -> str:
    return ", ".join(specs) or "(none; use @bentotui.artifacts([...]))"


class BentoService:
    """Base class of a 0.x service; see the module docstring."""

    _artifact_specs: dict[str, BaseArtifact] = {}
    _env: _Env = _Env()
    _web_static_content: str | None = None

    def __init__(self) -> None:
        self.artifacts = ArtifactCollection(type(self).__name__, type(self)._artifact_specs)

    @classmethod
    def bento_name(cls) -> str:
        """The class name lower-cased: ``IrisClassifier`` -> ``irisclassifier``."""
        return validate_part(cls.__name__.lower(), "service name")

    @property
    def name(self) -> str:
        return type(self).bento_name()

    def pack(self, name: str, obj: Any) -> BentoService:
        """Put a trained object into the artifact slot ``name``; returns self, as in 0.x."""
        specs = type(self)._artifact_specs
        if name not in specs:
            raise InvalidArgument(
                f"{type(self).__name__} has no artifact {name!r}; declared: {_names(specs)}"
            )
        specs[name].check(obj)
        self.artifacts._objects[name] = obj
        return self

    def save(self, version: str | None = None, labels: dict[str, str] | None = None) -> str:
        """Store every artifact as a model and the service as a bento; returns the bento's path."""
        cls = type(self)
        missing = self.artifacts.missing()
        if missing:
            raise BuildError(
                f"cannot save {cls.__name__}: artifact(s) {', '.join(missing)} not packed; call pack() first"
            )
        # refuse a class without (or with wrongly styled) APIs, or a missing UI, before storing anything
        api_methods(cls, "legacy")
        static = _static_folder(cls)
        module_name, sources = service_sources(cls)
        packages = cls._env.pip_packages
        if cls._env.infer_pip_packages:
            packages = merge_packages(packages, infer_pip_packages(sources))
        name = cls.bento_name()
        model_tags = {
            artifact: str(
                spec.save(
                    f"{name}_{artifact.lower()}",
                    self.artifacts[artifact],
                    labels={"bentoservice": name},
                    metadata={"artifact": artifact, "service_class": cls.__name__},
                ).tag
            )
            for artifact, spec in cls._artifact_specs.items()
        }
        from bentotui.bento.build import build_from_arguments

        with tempfile.TemporaryDirectory(prefix="bentotui-save-") as tmp:
            root = Path(tmp)
            write_sources(root, sources)
            if static is not None:
                shutil.copytree(static, root / WEB_STATIC_DIR)
            (root / f"{GENERATED_MODULE}.py").write_text(
                _generated_module(f"{module_name}:{cls.__qualname__}", model_tags, static is not None),
                encoding="utf-8",
            )
            bento = build_from_arguments(
                root,
                version=version,
                service=f"{GENERATED_MODULE}:svc",
                name=name,
                labels=labels,
                include=["**/*.py", f"{WEB_STATIC_DIR}/*"],
                python={"packages": packages},
                models=list(model_tags.values()),
                docker={"base_image": cls._env.base_image} if cls._env.base_image else None,
            )
        return str(bento.path)


def _static_folder(cls: type[BentoService]) -> Path | None:
    if cls._web_static_content is None:
        return None
    folder = Path.cwd() / cls._web_static_content
    if not (folder / "index.html").is_file():
        raise BuildError(
            f"@web_static_content({cls._web_static_content!r}) of {cls.__name__}: no index.html in {folder}"
        )
    return folder


def _generated_module(class_ref: str, model_tags: dict[str, str], has_static: bool) -> str:
    static = f", static_dir=os.path.join(os.path.dirname(__file__), {WEB_STATIC_DIR!r})" if has_static else ""
    return (
        f'"""Generated by bentotui BentoService.save(): serves {class_ref}."""\n\n'
        + ("import os\n\n" if has_static else "")
        + "from bentotui.service.legacy import load_saved\n\n"
        + f"svc = load_saved({class_ref!r}, {model_tags!r}{static})\n"
    )


def load_instance(class_ref: str, model_tags: dict[str, str]) -> BentoService:
    """A service instance with every artifact loaded from the store (what a runner worker hosts)."""
    import bentotui.models

    cls: type[BentoService] = import_ref(class_ref)
    instance = cls()
    for artifact, tag in model_tags.items():
        spec = cls._artifact_specs.get(artifact)
        if spec is None:
            raise BuildError(f"{cls.__name__} no longer declares the saved artifact {artifact!r}")
        instance.artifacts._objects[artifact] = spec.load(bentotui.models.get(tag))
    return instance


def legacy_runnable(cls: type, class_ref: str, model_tags: dict[str, str]) -> type:
    """The Runnable class hosting one service instance, one runner method per ``@api`` method."""
    methods = {attr: (config.batch, 0) for attr, config in api_methods(cls, "legacy").values()}
    return instance_runnable(cls.__name__, lambda: load_instance(class_ref, model_tags), methods)


def build_runnable(class_ref: str, model_tags: dict[str, str]) -> Any:
    """The worker-side factory (a ``WorkerSpec`` of kind ``factory`` names it)."""
    return legacy_runnable(import_ref(class_ref), class_ref, model_tags)()


def load_saved(class_ref: str, model_tags: dict[str, str], static_dir: str | None = None) -> Service:
    """The 1.x :class:`~bentotui.service.Service` of a saved 0.x service (called by the bento's
    generated module); ``static_dir``: the ``@web_static_content`` files the bento carries."""
    from bentotui.runner.runner import Runner
    from bentotui.runner.spec import WorkerSpec
    from bentotui.service.service import Service

    cls: type[BentoService] = import_ref(class_ref)
    name = cls.bento_name()
    kwargs: dict[str, Any] = {"class_ref": class_ref, "model_tags": model_tags}
    runner = Runner(
        legacy_runnable(cls, class_ref, model_tags),
        name=name,
        worker_spec=WorkerSpec("factory", "bentotui.service.legacy:build_runnable", kwargs),
    )
    svc = Service(name=name, runners=[runner])
    svc.default_port = DEFAULT_PORT
    for api_name, (attr, config) in api_methods(cls, "legacy").items():
        _add_api(svc, api_name, getattr(runner, attr), config)
    if static_dir is not None:
        from bentotui.service.static import static_files_app

        svc.mount_wsgi_app(static_files_app(Path(static_dir)), path="/", name="web_static_content")
    return svc


def _add_api(svc: Service, api_name: str, method: RunnerMethod, config: APIConfig) -> None:
    """One 1.x API forwarding to the runner method; ``batch=True`` adapters merge by rows or by items."""
    from bentotui.adapters import JsonOutput

    adapter = config.input
    output = config.output or JsonOutput()
    by_items = config.batch and not adapter.BATCH_BY_ROWS

    async def handler(value: Any) -> Any:
        if by_items:
            return (await method.async_run([value]))[0]
        return await method.async_run(value)

    handler.__name__ = api_name
    svc.api(
        input=adapter.descriptor, output=output.descriptor, route=config.route, name=api_name, doc=config.doc
    )(handler)
