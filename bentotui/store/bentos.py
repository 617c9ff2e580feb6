"""The bento store: ``bentos/<name>/<version>/`` with a ``bento.yaml`` manifest.

The bento twin of :mod:`bentotui.store.models`: :class:`BentoInfo` is the typed, checked reading
of a ``bento.yaml``, :class:`Bento` a stored bento and :class:`BentoStore` the store's
get/list/delete/export/import.  Readers of a bento (the CLI, the TUI, serving, containerize, k8s) take
its fields from here instead of poking the manifest dict, so a bad manifest fails once, as a
StoreCorrupted naming the file and the field.  Building a bento (``bentofile.yaml``, which writes
the manifest) lives in ``bentotui.bento.build``.  The shape follows BentoML's ``BentoInfo``,
``BentoApiInfo`` and ``BentoModelInfo`` (``_internal/bento/bento.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bentotui import paths
from bentotui.exceptions import InvalidArgument, StoreCorrupted
from bentotui.store.item_store import Item, ItemStore, Progress, is_file_list
from bentotui.store.tags import Tag

log = logging.getLogger(__name__)

MANIFEST = "bento.yaml"
ARCHIVE_SUFFIX = ".bento"
#: BentoML's default HTTP port: where a service serves when neither ``--port`` nor its bento names
#: one.  Bentos built from BentoML 0.x services record 5000 instead.
DEFAULT_PORT = 3000

_Entry = TypeVar("_Entry")


class _Fields:
    """Typed reads of one manifest mapping, or of one entry in one of its lists.

    Each failure is a StoreCorrupted naming ``source`` and the field (``'models[0].tag'`` for a
    field of an entry), so a hand-edited or foreign ``bento.yaml`` says what is wrong with it.
    An absent field, or ``null``, takes the default where there is one: a manifest written before
    a field existed still reads.
    """

    def __init__(self, data: Mapping[str, Any], source: Path | str, where: str = "") -> None:
        self.data = data
        self.source = source
        self.where = where

    def bad(self, key: str, expected: str) -> StoreCorrupted:
        return StoreCorrupted(
            f"{self.source}: field {self.where + key!r} must be {expected}, got {self.data.get(key)!r}"
        )

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise self.bad(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.bad(key, "a string or null")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.bad(key, "an integer")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.bad(key, "a list of strings")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.bad(key, "a mapping")
        return value

    def labels(self, key: str) -> dict[str, str]:
        value = self.mapping(key)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self.bad(key, "a mapping of strings to strings")
        return value

    def time(self, key: str) -> datetime:
        try:
            when = datetime.fromisoformat(str(self.data.get(key)))
        except ValueError:
            raise self.bad(key, "an ISO 8601 time") from None
        if when.tzinfo is None:
            raise self.bad(key, "an ISO 8601 time with a UTC offset")
        return when

    def tag(self, key: str) -> Tag:
        """A concrete ``name:version`` (a bento packs exact versions, never ``latest``)."""
        value = self.data.get(key)
        try:
            tag = Tag.parse(value) if isinstance(value, str) else None
        except InvalidArgument:
            tag = None
        if tag is None or tag.is_latest:
            raise self.bad(key, "a tag 'name:version'")
        return tag

    def entry(self, key: str, parse: Callable[[_Fields], _Entry]) -> _Entry:
        value = self.data.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.bad(key, "a mapping")
        return parse(_Fields(value, self.source, f"{self.where}{key}."))

    def entries(self, key: str, parse: Callable[[_Fields], _Entry]) -> list[_Entry]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.bad(key, "a list of mappings")
        return [parse(_Fields(v, self.source, f"{self.where}{key}[{i}].")) for i, v in enumerate(value)]


@dataclass
class BentoApiInfo:
    """One API of the service as it was at build time (shown by ``bentos get`` and the TUI)."""

    name: str
    route: str
    input: str
    output: str

    @classmethod
    def _read(cls, fields: _Fields) -> BentoApiInfo:
        return cls(fields.text("name"), fields.text("route"), fields.text("input"), fields.text("output"))


@dataclass
class BentoEnvInfo:
    """One ``envs:`` entry of the bentofile: set when the bento serves, unless already set; with no
    ``value`` it is one the deployment must provide (BentoML's ``envs``)."""

    name: str
    value: str | None = None

    @classmethod
    def _read(cls, fields: _Fields) -> BentoEnvInfo:
        return cls(fields.text("name"), fields.optional_text("value"))


@dataclass
class BentoRunnerInfo:
    """One runner of the service: its runnable class, methods and the model tags it was given."""

    name: str
    runnable: str
    methods: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    @classmethod
    def _read(cls, fields: _Fields) -> BentoRunnerInfo:
        return cls(fields.text("name"), fields.text("runnable"), fields.strings("methods"), fields.strings("models"))


@dataclass
class BentoModelInfo:
    """A model the bento carries in ``models/<name>/<version>/`` (imported on first serve)."""

    tag: Tag
    module: str
    creation_time: datetime

    @classmethod
    def _read(cls, fields: _Fields) -> BentoModelInfo:
        return cls(fields.tag("tag"), fields.text("module"), fields.time("creation_time"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data as ``bento.yaml`` holds it (tag and time as text)."""
        return {"tag": str(self.tag), "module": self.module, "creation_time": self.creation_time.isoformat()}


@dataclass
class BentoPythonInfo:
    """The bentofile's ``python:`` section (the pinned result is ``env/python/requirements.txt``)."""

    packages: list[str] = field(default_factory=list)
    requirements_txt: str | None = None
    lock_packages: bool = False

    @classmethod
    def _read(cls, fields: _Fields) -> BentoPythonInfo:
        return cls(
            fields.strings("packages"), fields.optional_text("requirements_txt"), fields.flag("lock_packages", False)
        )


@dataclass
class BentoInfo:
    """What ``bento.yaml`` says about a bento (see docs/architecture.md, "Bentos").

    Fields are in the order ``bentotui build`` writes them, so :meth:`to_dict` reproduces the
    manifest.  Only ``service`` is required besides what the store itself writes; the rest have
    the defaults of an empty bentofile.
    """

    name: str
    version: str
    creation_time: datetime
    service: str
    description: str | None = None
    bentotui_version: str = ""
    python_version: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    default_port: int = DEFAULT_PORT
    apis: list[BentoApiInfo] = field(default_factory=list)
    runners: list[BentoRunnerInfo] = field(default_factory=list)
    models: list[BentoModelInfo] = field(default_factory=list)
    python: BentoPythonInfo = field(default_factory=BentoPythonInfo)
    envs: list[BentoEnvInfo] = field(default_factory=list)
    #: the bentofile's ``docker:`` section as built (its reader is the Dockerfile, written at build)
    docker: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    size_bytes: int = 0

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any], source: Path | str) -> BentoInfo:
        """Build from a parsed ``bento.yaml``; StoreCorrupted naming ``source`` and the field if bad."""
        fields = _Fields(data, source)
        service = fields.text("service")
        if not service:
            raise fields.bad("service", "a service reference like 'module:attribute'")
        port = fields.integer("default_port", DEFAULT_PORT)
        if not 1 <= port <= 65535:
            raise fields.bad("default_port", "a port number (1-65535)")
        files = data.get("files")
        if not is_file_list(files):
            raise fields.bad("files", "a list of {path, size, sha256}")
        return cls(
            name=fields.text("name"),
            version=fields.text("version"),
            creation_time=fields.time("creation_time"),
            service=service,
            description=fields.optional_text("description"),
            bentotui_version=fields.text("bentotui_version", ""),
            python_version=fields.text("python_version", ""),
            labels=fields.labels("labels"),
            default_port=port,
            apis=fields.entries("apis", BentoApiInfo._read),
            runners=fields.entries("runners", BentoRunnerInfo._read),
            models=fields.entries("models", BentoModelInfo._read),
            python=fields.entry("python", BentoPythonInfo._read),
            envs=fields.entries("envs", BentoEnvInfo._read),
            docker=fields.mapping("docker"),
            files=files,
            size_bytes=fields.integer("size_bytes"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data in ``bento.yaml`` order, times and tags as text (for YAML/JSON output)."""
        data = asdict(self)
        data["creation_time"] = self.creation_time.isoformat()
        data["models"] = [model.to_dict() for model in self.models]
        return data


#: the ``bento.yaml`` keys a listing keeps and caches: the ones :class:`BentoInfo` reads
LIST_KEYS = tuple(f.name for f in fields(BentoInfo))


def _validate_manifest(data: dict[str, Any], source: Path) -> None:
    """An archive whose ``bento.yaml`` would not read is refused before it enters the store."""
    BentoInfo.from_manifest(data, source)


class Bento:
    """A stored bento: ``tag``, ``path`` (its folder), ``info`` (its ``bento.yaml``)."""

    def __init__(self, tag: Tag, path: Path, info: BentoInfo) -> None:
        self.tag = tag
        self.path = path
        self.info = info

    @classmethod
    def _from_item(cls, item: Item) -> Bento:
        return cls(item.tag, item.path, BentoInfo.from_manifest(item.manifest, item.path / MANIFEST))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bento) and other.tag == self.tag and other.path == self.path

    def __hash__(self) -> int:
        return hash((self.tag, self.path))

    def __repr__(self) -> str:
        return f"Bento(tag={str(self.tag)!r}, path={str(self.path)!r})"


class BentoStore:
    """The bento store rooted at ``root`` (default: ``paths.bentos_dir()`` at each use)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def items(self) -> ItemStore:
        return ItemStore(
            self._root or paths.bentos_dir(),
            MANIFEST,
            kind="bento",
            archive_suffix=ARCHIVE_SUFFIX,
            validate_import=_validate_manifest,
            list_keys=LIST_KEYS,
        )

    def get(self, tag: str | Tag) -> Bento:
        """The bento ``tag`` names (``name`` or ``name:latest`` for the newest)."""
        return Bento._from_item(self.items.get(tag))

    def verify(self, tag: str | Tag) -> Bento:
        """:meth:`get` plus a check of every file's size and sha256 (before a bento is shipped)."""
        return Bento._from_item(self.items.verify(tag))

    def read_folder(self, folder: Path) -> Bento:
        """The bento in ``folder``, which need not be in the store (``bentotui serve path/to/bento``)."""
        folder = folder.resolve()
        manifest = self.items.read_manifest(folder)
        return Bento._from_item(Item(Tag(manifest["name"], manifest["version"]), folder, manifest))

    def scan(self, name: str | None = None) -> tuple[list[Bento], list[StoreCorrupted]]:
        """Bentos (newest first, of ``name`` if given), plus the entries that could not be read."""
        items, problems = self.items.scan(name)
        found = []
        for item in items:
            try:
                found.append(Bento._from_item(item))
            except StoreCorrupted as exc:
                problems.append(exc)
        return found, problems

    def list(self, name: str | None = None) -> list[Bento]:
        """Like :meth:`scan`; unreadable entries are logged as warnings and skipped."""
        found, problems = self.scan(name)
        for problem in problems:
            log.warning("skipped a corrupt bento: %s", problem)
        return found

    def delete(self, tag: str | Tag) -> Tag:
        """Remove one version (works on corrupt entries too); returns the concrete tag."""
        return self.items.delete(tag)

    def export(
        self, tag: str | Tag, path: Path | str, *, force: bool = False, progress: Progress | None = None
    ) -> Path:
        """Write a ``.bento`` archive (with the models the bento carries); returns its path."""
        return self.items.export(tag, Path(path), force=force, progress=progress)

    def import_(self, path: Path | str, *, force: bool = False, progress: Progress | None = None) -> Bento:
        """Add the bento in a ``.bento`` archive (checksums verified, hostile entries refused)."""
        return Bento._from_item(self.items.import_(Path(path), force=force, progress=progress))
