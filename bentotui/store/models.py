"""The model store: ``models/<name>/<version>/`` with a ``model.yaml`` manifest.

This module knows nothing about any ML library.  A framework module (``bentotui.frameworks.x``)
writes its files into a :class:`ModelDraft`; loading and runner creation are dispatched back to the
framework named in ``model.yaml`` (``module``), which is imported only when it is needed.  Listing
builds light :class:`ModelInfo` dataclasses straight from the YAML so that ``bentotui models list``
stays fast with thousands of models.

Provenance and trust: loading a pickle-format file runs code chosen by whoever wrote it, so the
store records where each model came from (:class:`Provenance`: saved here, imported from an
archive, or brought in by a bento being served) and whether its pickled files may be loaded.
That record cannot live in the model folder: everything there travels with an export, so an
archive would simply claim to be trusted.  It lives in ``<root>/.trust/<name>/<version>.json``,
outside every model folder, and it names the sha256 of the ``model.yaml`` it was written for: a
model whose manifest is not the one recorded (replaced by a forced import, edited, copied in by
hand) has no provenance and is untrusted.  Saving records "local, trusted"; importing records
"imported, untrusted" until the user trusts it (``bentotui models trust TAG``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bentotui import __version__, paths
from bentotui.exceptions import BentotuiError, InvalidArgument, NotFound, StoreCorrupted
from bentotui.store.item_store import Item, ItemStore, Progress, dump_yaml
from bentotui.store.tags import Tag

if TYPE_CHECKING:
    from bentotui.runner.runnable import Runnable
    from bentotui.runner.runner import Runner

log = logging.getLogger(__name__)

MANIFEST = "model.yaml"
ARCHIVE_SUFFIX = ".bentomodel"
CUSTOM_OBJECTS_FILE = "custom_objects.pkl"
#: the store's provenance records, ``<root>/.trust/<name>/<version>.json`` (no tag starts with a dot)
TRUST_DIR = ".trust"


class UntrustedModel(BentotuiError):
    """Loading the model would run code from a source the user has not trusted."""


@dataclass(frozen=True)
class Provenance:
    """Where a stored model came from and whether its pickled files may be loaded.

    ``origin`` is ``local`` (saved here), ``imported`` (from the archive ``source``), ``bento``
    (the model folder ``source`` of a bento being served) or ``unknown`` (no record for
    this exact ``model.yaml``).  ``trusted_types`` is the exact list of types a safe loader
    (skops) may rebuild, computed when the model was saved here; ``None`` when bentotui did not
    compute it (a model the user trusted explicitly: then the user's consent covers its types).
    """

    origin: str
    trusted: bool
    source: str = ""
    recorded_at: datetime | None = None
    trusted_at: datetime | None = None
    trusted_types: tuple[str, ...] | None = None

    @property
    def state(self) -> str:
        """``local``, ``trusted`` (by the user, or a served bento's) or ``untrusted``: the mark lists show."""
        if not self.trusted:
            return "untrusted"
        return "local" if self.origin == "local" else "trusted"

    def describe(self) -> str:
        """Where it came from, in a few words (one line, for messages and the TUI)."""
        when = f" on {self.recorded_at:%Y-%m-%d %H:%M} UTC" if self.recorded_at else ""
        if self.origin == "local":
            return f"saved here{when}"
        if self.origin == "imported":
            return f"imported from {self.source}{when}"
        if self.origin == "bento":
            return f"imported from the bento folder {self.source}{when}"
        return "no record of where it came from (saved by an older bentotui, or copied into the store)"

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as ``models get`` prints it and the record file stores it."""
        return {
            "state": self.state,
            "origin": self.origin,
            "source": self.source,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "trusted": self.trusted,
            "trusted_at": self.trusted_at.isoformat() if self.trusted_at else None,
            "trusted_types": list(self.trusted_types) if self.trusted_types is not None else None,
        }


UNKNOWN = Provenance("unknown", trusted=False)


@dataclass(frozen=True)
class ModelContext:
    """BentoML's ``ModelContext``: the library a model was saved with and its version(s).

    ``bentotui.models.create(context=...)`` records ``framework_name`` as the model's framework and
    its entry in ``framework_versions`` (else the first one) as the framework version.
    """

    framework_name: str
    framework_versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def framework_version(self) -> str:
        versions = dict(self.framework_versions)
        return str(versions.get(self.framework_name, next(iter(versions.values()), "")))


@dataclass
class ModelInfo:
    """What ``model.yaml`` says about a model (see docs/architecture.md, "Store")."""

    name: str
    version: str
    module: str
    framework: str
    framework_version: str
    python_version: str
    bentotui_version: str
    creation_time: datetime
    labels: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    size_bytes: int = 0

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any], source: Path | str) -> ModelInfo:
        """Build from a parsed ``model.yaml``; StoreCorrupted naming ``source`` and the field if bad."""

        def bad(key: str, expected: str) -> StoreCorrupted:
            return StoreCorrupted(f"{source}: field {key!r} must be {expected}, got {data.get(key)!r}")

        values: dict[str, Any] = {}
        for key in ("name", "version", "module", "framework", "framework_version", "python_version"):
            if not isinstance(data.get(key), str):
                raise bad(key, "a string")
            values[key] = data[key]
        values["bentotui_version"] = str(data.get("bentotui_version", ""))
        try:
            created = datetime.fromisoformat(str(data.get("creation_time")))
        except ValueError:
            raise bad("creation_time", "an ISO 8601 time") from None
        if created.tzinfo is None:
            raise bad("creation_time", "an ISO 8601 time with a UTC offset")
        values["creation_time"] = created
        for key in ("labels", "metadata", "signatures", "options"):
            value = data.get(key) or {}
            if not isinstance(value, dict):
                raise bad(key, "a mapping")
            values[key] = value
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in values["labels"].items()):
            raise bad("labels", "a mapping of strings to strings")
        if not all(isinstance(v, dict) for v in values["signatures"].values()):
            raise bad("signatures", "a mapping of method names to mappings")
        if not isinstance(data.get("size_bytes"), int):
            raise bad("size_bytes", "an integer")
        values["files"] = data["files"]
        values["size_bytes"] = data["size_bytes"]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data in ``model.yaml`` order, with the time as ISO text (for YAML/JSON output)."""
        data = asdict(self)
        data["creation_time"] = self.creation_time.isoformat()
        return data


def _validate_manifest(data: dict[str, Any], source: Path) -> None:
    ModelInfo.from_manifest(data, source)


class Model:
    """A stored model: ``tag``, ``path`` (its folder), ``info`` (its ``model.yaml``)."""

    def __init__(self, tag: Tag, path: Path, info: ModelInfo) -> None:
        self.tag = tag
        self.path = path
        self.info = info
        self._runnable: type[Runnable] | None = None

    @classmethod
    def _from_item(cls, item: Item) -> Model:
        return cls(item.tag, item.path, ModelInfo.from_manifest(item.manifest, item.path / MANIFEST))

    @property
    def creation_time(self) -> datetime:
        return self.info.creation_time

    def path_of(self, rel: str) -> Path:
        """The path of ``rel`` inside the model folder (refuses paths that leave it)."""
        path = (self.path / rel).resolve()
        if not path.is_relative_to(self.path.resolve()):
            raise InvalidArgument(f"{rel!r} is outside the folder of model {self.tag}")
        return path

    @property
    def provenance(self) -> Provenance:
        """Where this model came from and whether it is trusted (read now: ``models trust`` may
        have run in another process since this object was made)."""
        return _read_provenance(self.path)

    def require_trust(self, what: str) -> None:
        """Refuse (:class:`UntrustedModel`) to go on unless the user trusts this model.

        Framework modules call it before they unpickle ``what`` (a file of the model).
        """
        provenance = self.provenance
        if not provenance.trusted:
            raise UntrustedModel(
                f"model {self.tag} is not trusted ({provenance.describe()}): loading it unpickles "
                f"{what}, which can run any code; if you trust its author, run `bentotui models trust {self.tag}`"
            )

    @functools.cached_property
    def custom_objects(self) -> dict[str, Any]:
        """The ``custom_objects`` given at save time, unpickled on first access ({} if none).

        Unpickling runs code, so an untrusted model's custom objects are refused.
        """
        file = self.path / CUSTOM_OBJECTS_FILE
        if not file.exists():
            return {}
        self.require_trust(CUSTOM_OBJECTS_FILE)
        with open(file, "rb") as fh:
            objects: dict[str, Any] = pickle.load(fh)
        return objects

    def _framework(self) -> Any:
        """The framework module that saved this model (imported now, its library stays lazy)."""
        if not self.info.module:
            raise InvalidArgument(
                f"model {self.tag} was saved with models.create() and no framework module, so there is "
                "nothing to load it with: read its files from model.path (e.g. in a custom Runnable)"
            )
        # store -> frameworks, lazily: the public ``Model.load_model``/``to_runner`` dispatch to it
        from bentotui.frameworks.registry import framework_module

        return framework_module(self.info.module)

    def load_model(self, *args: Any, **kwargs: Any) -> Any:
        """Load the saved object with the framework module that saved it."""
        return self._framework().load_model(self, *args, **kwargs)

    def to_runnable(self) -> type[Runnable]:
        """The framework's ``Runnable`` class for this model (BentoML 1.x), built once per Model.

        ``bentotui.Runner(model.to_runnable(), models=[model])`` serves the model like
        :meth:`to_runner`: the class defaults its ``model_tag`` to this model.
        """
        if self._runnable is None:
            self._runnable = self._framework().get_runnable(self)
        return self._runnable

    def to_runner(
        self,
        name: str | None = None,
        max_batch_size: int | None = None,
        max_latency_ms: int | None = None,
        **runner_options: Any,
    ) -> Runner:
        """A runner that serves this model with its framework's runnable (batching per signature)."""
        # store -> runner, lazily: BentoML's public ``models.get(tag).to_runner()``
        from bentotui.runner.runner import Runner

        return Runner(
            self.to_runnable(),
            name=name or self.tag.name,
            runnable_init_params={"model_tag": str(self.tag)},
            models=[self],
            max_batch_size=max_batch_size,
            max_latency_ms=max_latency_ms,
            **runner_options,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.tag == self.tag and other.path == self.path

    def __hash__(self) -> int:
        return hash((self.tag, self.path))

    def __repr__(self) -> str:
        return f"Model(tag={str(self.tag)!r}, path={str(self.path)!r})"


@dataclass
class ModelDraft:
    """A model being saved: the framework (or a BentoML script) writes its files under ``path``.

    ``labels``, ``metadata``, ``options`` and ``signatures`` may still be changed inside the
    ``with`` block.  Once the block has committed the save, ``model`` is set, ``path`` is the
    stored folder and every other :class:`Model` attribute (``tag``, ``info``, ``to_runner``...)
    answers from it: BentoML's ``models.create`` yields the model itself, and scripts written for
    it use the object after the block.
    """

    name: str
    path: Path
    labels: dict[str, str]
    metadata: dict[str, Any]
    options: dict[str, Any]
    signatures: dict[str, dict[str, Any]]
    #: the exact types a safe loader may rebuild (skops), kept in the store's provenance record
    #: rather than in model.yaml, which an archive controls
    trusted_types: list[str] = field(default_factory=list)
    model: Model | None = None

    def path_of(self, rel: str) -> Path:
        return self.path / rel

    def __getattr__(self, attr: str) -> Any:
        model = self.__dict__.get("model")
        if model is None or attr.startswith("__"):
            raise AttributeError(
                f"{attr!r} of model {self.__dict__.get('name')!r} is known once its with block has saved it"
            )
        return getattr(model, attr)


def normalize_signatures(signatures: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``{method: {"batchable": bool, "batch_dim": int | [in, out], ...}}`` with defaults filled in."""
    result: dict[str, dict[str, Any]] = {}
    for method, sig in (signatures or {}).items():
        if not isinstance(method, str) or not method.isidentifier():
            raise InvalidArgument(f"invalid signature method name {method!r}")
        if not isinstance(sig, Mapping):
            raise InvalidArgument(f"signature of {method!r} must be a mapping, got {type(sig).__name__}")
        entry = {"batchable": False, "batch_dim": 0, **sig}
        if not isinstance(entry["batchable"], bool):
            raise InvalidArgument(f"signature of {method!r}: batchable must be true or false")
        dim = entry["batch_dim"]
        if isinstance(dim, (tuple, list)) and len(dim) == 2 and all(_is_int(d) for d in dim):
            entry["batch_dim"] = list(dim)  # (input dim, output dim), as BentoML allows
        elif not _is_int(dim):
            raise InvalidArgument(f"signature of {method!r}: batch_dim must be an integer or (in, out)")
        result[method] = entry
    return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(labels: Mapping[str, Any], **fields: Any) -> None:
    """Labels are str -> str; everything else must be plain YAML data (no numpy scalars etc.)."""
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidArgument(f"label {key!r}: labels map strings to strings, got {value!r}")
    for key, value in fields.items():
        try:  # model.yaml is YAML, but listings and `models get -o json` show it as JSON too
            dump_yaml(value)
            json.dumps(value)
        except Exception as exc:  # the YAML representer raises several types
            raise InvalidArgument(
                f"{key} must be plain data (str, int, float, bool, list, dict): {exc}"
            ) from None


#: the manifest keys a listing reads (its cache keeps only these; see ``ItemStore``)
LIST_KEYS = tuple(f.name for f in fields(ModelInfo))


class ModelStore:
    """The model store rooted at ``root`` (default: ``paths.models_dir()`` at each use)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def items(self) -> ItemStore:
        return _ModelItems(
            self._root or paths.models_dir(),
            MANIFEST,
            kind="model",
            archive_suffix=ARCHIVE_SUFFIX,
            validate_import=_validate_manifest,
            list_keys=LIST_KEYS,
        )

    @contextlib.contextmanager
    def create(
        self,
        name: str | Tag,
        *,
        module: str = "",
        framework_version: str = "",
        api_version: str = "v1",
        signatures: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        custom_objects: Mapping[str, Any] | None = None,
        external_modules: Sequence[ModuleType] | None = None,
        context: ModelContext | None = None,
    ) -> Iterator[ModelDraft]:
        """Save a new version of ``name`` (or exactly ``name:version``): fill the draft's ``path``.

        An exception inside the block leaves nothing behind; on success ``draft.model`` is set.
        ``module`` names the framework module that loads the model (none: the files are the
        caller's to read, as with BentoML's ``models.create``); ``context`` may name its library
        instead of ``framework_version``.  ``external_modules`` are pickled by value (their code
        travels with the model) by everything cloudpickle writes inside the block, custom objects
        included, so the model loads where those modules are not importable.
        """
        tag = Tag.parse(name)
        if not isinstance(api_version, str):
            raise InvalidArgument(f"api_version must be a string, got {api_version!r}")
        framework = context.framework_name if context is not None else module.rpartition(".")[2]
        if context is not None and not framework_version:
            framework_version = context.framework_version
        draft_fields: dict[str, Any] = {
            "labels": dict(labels or {}),
            "metadata": dict(metadata or {}),
            "options": dict(options or {}),
            "signatures": normalize_signatures(signatures),
        }
        _check_fields(**draft_fields)
        with _pickled_by_value(external_modules or ()), self.items.create(tag.name, tag.version) as item_draft:
            draft = ModelDraft(tag.name, item_draft.path, **draft_fields)
            if custom_objects:
                _pickle_custom_objects(dict(custom_objects), draft.path / CUSTOM_OBJECTS_FILE)
            yield draft
            draft.signatures = normalize_signatures(draft.signatures)
            _check_fields(
                draft.labels, metadata=draft.metadata, options=draft.options, signatures=draft.signatures
            )
            item_draft.info = {
                "module": module,
                "framework": framework,
                "framework_version": str(framework_version),
                "api_version": api_version,
                "python_version": ".".join(map(str, sys.version_info[:3])),
                "bentotui_version": __version__,
                "labels": draft.labels,
                "metadata": draft.metadata,
                "signatures": draft.signatures,
                "options": draft.options,
            }
        assert item_draft.item is not None
        draft.model = Model._from_item(item_draft.item)
        draft.path = draft.model.path
        _write_provenance(
            draft.model.path,
            Provenance(
                "local", trusted=True, recorded_at=_now(), trusted_types=tuple(sorted(set(draft.trusted_types)))
            ),
        )

    def get(self, tag: str | Tag) -> Model:
        """The model ``tag`` names (``name`` or ``name:latest`` for the newest)."""
        return Model._from_item(self.items.get(tag))

    def verify(self, tag: str | Tag) -> Model:
        """:meth:`get` plus a check of every file's size and sha256."""
        return Model._from_item(self.items.verify(tag))

    def scan(
        self, name: str | None = None, labels: Mapping[str, str] | None = None
    ) -> tuple[list[Model], list[StoreCorrupted]]:
        """Models (newest first) matching ``name`` (or ``name:version``) and all ``labels``,
        plus the store entries that could not be read."""
        problems: list[StoreCorrupted] = []
        if name is not None and ":" in name:
            try:
                items = [self.items.get(name)]
            except NotFound:
                items = []
            except StoreCorrupted as exc:
                items, problems = [], [exc]
        else:
            items, problems = self.items.scan(name)
        wanted = dict(labels or {})
        found = []
        for item in items:
            try:
                model = Model._from_item(item)
            except StoreCorrupted as exc:
                problems.append(exc)
                continue
            if all(model.info.labels.get(k) == v for k, v in wanted.items()):
                found.append(model)
        return found, problems

    def list(self, name: str | None = None, labels: Mapping[str, str] | None = None) -> list[Model]:
        """Like :meth:`scan`; unreadable entries are logged as warnings and skipped."""
        found, problems = self.scan(name, labels)
        for problem in problems:
            log.warning("skipped a corrupt model: %s", problem)
        return found

    def delete(self, tag: str | Tag) -> Tag:
        """Remove one version (works on corrupt entries too); returns the concrete tag.

        Its provenance record stays: it vouches only for that exact ``model.yaml``, so it matters
        again only if the very same model comes back (a bento that carries it, served here).
        """
        return self.items.delete(tag)

    def trust(self, tag: str | Tag) -> Model:
        """Record that the user trusts ``tag`` (``bentotui models trust``): its pickled files load.

        The record names this exact ``model.yaml``, so a later forced import under the same tag
        is untrusted again.
        """
        model = self.get(tag)
        known = model.provenance
        _write_provenance(
            model.path,
            Provenance(
                known.origin,
                trusted=True,
                source=known.source,
                recorded_at=known.recorded_at,
                trusted_at=known.trusted_at if known.trusted else _now(),
                trusted_types=known.trusted_types,
            ),
        )
        return model

    def export(
        self, tag: str | Tag, path: Path | str, *, force: bool = False, progress: Progress | None = None
    ) -> Path:
        """Write a ``.bentomodel`` archive; returns its path."""
        return self.items.export(tag, Path(path), force=force, progress=progress)

    def import_(
        self, path: Path | str, *, force: bool = False, progress: Progress | None = None, trust: bool = False
    ) -> Model:
        """Add the model in a ``.bentomodel`` archive (checksums verified, hostile entries refused).

        The model is recorded as imported from that archive and untrusted, unless ``trust``
        (``models import --trust``): whatever its own ``model.yaml`` says, an archive cannot vouch
        for itself.
        """
        path = Path(path)
        model = Model._from_item(self.items.import_(path, force=force, progress=progress))
        now = _now()
        _write_provenance(
            model.path,
            Provenance("imported", trusted=trust, source=path.name, recorded_at=now, trusted_at=now if trust else None),
        )
        return model


class _ModelItems(ItemStore):
    """The model store's :class:`ItemStore`: a model folder imported from a bento is recorded.

    ``ItemStore.import_folder`` is how serving a bento brings in the models it carries
    (``bento.serving.ensure_models``).  Serving a bento runs the bento's own service code, so
    its models are as trusted as the bento the user chose to serve: they are recorded as
    trusted, with their folder in the bento as the source.  (Archive imports are recorded by
    :meth:`ModelStore.import_`; a model that arrives any other way has no record: untrusted.)
    """

    def import_folder(self, folder: Path, *, force: bool = False) -> Item:
        item = super().import_folder(folder, force=force)
        now = _now()
        _write_provenance(
            item.path, Provenance("bento", trusted=True, source=str(folder), recorded_at=now, trusted_at=now)
        )
        return item


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _record_file(model_path: Path) -> Path:
    """A model folder is ``<root>/<name>/<version>`` (``Tag.path_in``); its record lives beside the
    versions, under the store root, where no archive member can land."""
    return model_path.parent.parent / TRUST_DIR / model_path.parent.name / f"{model_path.name}.json"


def _manifest_digest(model_path: Path) -> str | None:
    try:
        return hashlib.sha256((model_path / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return None


def _write_provenance(model_path: Path, provenance: Provenance) -> None:
    """Replace the model's record in one rename (concurrent writers: the last one wins whole)."""
    file = _record_file(model_path)
    file.parent.mkdir(parents=True, exist_ok=True)
    record = {"manifest_sha256": _manifest_digest(model_path), **provenance.to_dict()}
    del record["state"]  # derived, never stored
    tmp = file.with_name(f".{file.name}.{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)


def _read_provenance(model_path: Path) -> Provenance:
    """The record for this exact ``model.yaml``; :data:`UNKNOWN` (untrusted) if there is none."""
    try:
        record = json.loads(_record_file(model_path).read_bytes())
    except (OSError, ValueError):
        return UNKNOWN
    digest = _manifest_digest(model_path)
    if not isinstance(record, dict) or digest is None or record.get("manifest_sha256") != digest:
        return UNKNOWN
    try:
        types = record.get("trusted_types")
        return Provenance(
            origin=str(record["origin"]),
            trusted=record["trusted"] is True,
            source=str(record.get("source") or ""),
            recorded_at=_parse_time(record.get("recorded_at")),
            trusted_at=_parse_time(record.get("trusted_at")),
            trusted_types=tuple(str(t) for t in types) if isinstance(types, list) else None,
        )
    except (KeyError, ValueError):
        return UNKNOWN


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@contextlib.contextmanager
def _pickled_by_value(modules: Sequence[ModuleType]) -> Iterator[None]:
    """Let cloudpickle store ``modules``' functions and classes by value for the block's duration.

    Modules that were already registered (by the caller) stay registered afterwards.
    """
    import cloudpickle

    for module in modules:
        if not isinstance(module, ModuleType):
            raise InvalidArgument(f"external_modules must be imported modules, got {module!r}")
    already = cloudpickle.list_registry_pickle_by_value()
    added = [m for m in modules if m.__name__ not in already]
    try:
        for module in added:
            try:
                cloudpickle.register_pickle_by_value(module)
            except ValueError as exc:  # not in sys.modules
                raise InvalidArgument(f"external module {module.__name__!r}: {exc}") from None
        yield
    finally:
        for module in added:
            if module.__name__ in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.unregister_pickle_by_value(module)


def _pickle_custom_objects(objects: dict[str, Any], file: Path) -> None:
    """cloudpickle, so lambdas and classes local to a script survive the trip."""
    import cloudpickle as pickler
    try:
        data = pickler.dumps(objects)
    except Exception as exc:
        raise InvalidArgument(f"custom_objects cannot be pickled: {exc}") from None
    file.write_bytes(data)
