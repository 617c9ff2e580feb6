"""``bentofile.yaml``: what ``bentotui build`` packs, as a strict pydantic model.

Unknown keys are errors rather than silently ignored, because a misspelt ``exclude`` or
``models`` would otherwise build a bento that quietly lacks what the user asked for.  Every
problem becomes one :class:`~bentotui.exceptions.BuildError` line naming the file and the field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bentotui.exceptions import BuildError, InvalidArgument
from bentotui.store.tags import Tag, validate_part

DEFAULT_INCLUDE = ["**/*.py"]
#: never packed, whatever the globs say: environments, caches and VCS data are not source
ALWAYS_EXCLUDE = [".venv", "venv", "__pycache__", ".git", ".pytest_cache", ".ruff_cache", "*.pyc"]
DEFAULT_PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PythonOptions(_Strict):
    """``python:``: pip packages on top of what bentotui itself needs."""

    packages: list[str] = Field(default_factory=list)
    requirements_txt: str | None = None
    lock_packages: bool = False


class DockerOptions(_Strict):
    """``docker:``: how ``containerize`` writes the Dockerfile."""

    base_image: str | None = None
    distro: Literal["debian"] = "debian"
    python_version: str = Field(default=DEFAULT_PYTHON_VERSION, pattern=r"^3\.\d{1,2}$")
    system_packages: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    expose_port: int | None = Field(default=None, ge=1, le=65535)

    @property
    def image(self) -> str:
        """The base image: the user's, or the official slim Python image of ``python_version``."""
        return self.base_image or f"python:{self.python_version}-slim"


class EnvVar(_Strict):
    """One ``envs:`` entry: ``{name: HF_TOKEN, value: ...}``; no value: the deployment provides it."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: str | None = None


class BentoBuildConfig(_Strict):
    """The whole ``bentofile.yaml`` (also what ``BentoService.save()`` builds from)."""

    # ``module:attr`` or a path to a file, ``src/service.py:svc`` (checked to stay inside the build folder)
    service: str = Field(min_length=1, pattern=r"^(?:[\w.-]+/)*[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")
    name: str | None = None
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = Field(default_factory=list)
    python: PythonOptions = Field(default_factory=PythonOptions)
    models: list[str] = Field(default_factory=list)
    docker: DockerOptions = Field(default_factory=DockerOptions)
    envs: list[EnvVar] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_part(value, "name")
            except InvalidArgument as exc:
                raise ValueError(exc.message) from None
        return value

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        for tag in value:
            try:
                Tag.parse(tag)
            except InvalidArgument as exc:
                raise ValueError(exc.message) from None
        return value


def parse_config(data: Any, source: str) -> BentoBuildConfig:
    """Validate a parsed bentofile; the first problem becomes one BuildError line."""
    if not isinstance(data, dict):
        raise BuildError(f"{source}: expected a mapping of options (service, include, ...), got {type(data).__name__}")
    try:
        return BentoBuildConfig.model_validate(data)
    except ValidationError as exc:
        raise BuildError(f"{source}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """One line for the first pydantic error: ``field.path: what is wrong``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    if error["type"] == "missing":
        return f"missing required field {where!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"field {where!r}: {message}"


def load_bentofile(path: Path) -> BentoBuildConfig:
    """Read and validate ``path``; BuildError for a missing file, bad YAML or a bad field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(f"bentofile {path} not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read bentofile {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise BuildError(f"{path} is not valid YAML{where}: {problem}") from None
    return parse_config(data, str(path))
