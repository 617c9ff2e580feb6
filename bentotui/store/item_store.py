"""The generic versioned store behind models (``model.yaml``) and bentos (``bento.yaml``).

Layout: ``<root>/<name>/<version>/`` holds the item's files and its manifest, a YAML mapping with
``name``, ``version``, ``creation_time``, the caller's fields, and ``files`` (every file's path,
size and sha256) plus ``size_bytes``.

Nothing is ever half-written: a new item is filled in a temporary folder ``<root>/.tmp-*``, its
manifest is written and fsync'd last, and the folder is renamed into place in one step.  Each
temporary folder has a lock file (``.tmp-*.lock``) that its writer holds for as long as it works;
the kernel drops the lock when the writer dies, so a sweep can tell a crashed writer's leftovers
from a slow writer in another process exactly, without guessing from ages.

Archives (``.bentomodel`` / ``.bento``) and imports, the code that faces untrusted input, live in
:mod:`bentotui.store.archive`; :meth:`ItemStore.export`, :meth:`ItemStore.import_` and
:meth:`ItemStore.import_folder` are its doors.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeGuard

from bentotui._compat import file_digest
from bentotui.exceptions import (
    BentotuiError,
    Conflict,
    InvalidArgument,
    NotFound,
    StoreCorrupted,
)
from bentotui.store import versions
from bentotui.store.tags import Tag

TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
LOCK_SUFFIX = ".lock"
STORE_LOCK = ".store.lock"
#: manifests as parsed by the last listings (only the keys a listing reads, see ``list_keys``),
#: keyed by ``name/version`` with the manifest's (mtime_ns, size, inode): listing re-parses only
#: what changed, because parsing 1,000 YAML files alone takes about 0.2 s.  It is only a cache:
#: unreadable or of another format means empty, and it is never trusted for an entry whose
#: manifest stamp differs.
LIST_CACHE = ".list-cache.json"
#: the cache's layout; a cache of another one (such as the whole manifests cached before the
#: manifest bounds existed) is ignored and rewritten
LIST_CACHE_FORMAT = 2
#: a ``.tmp-*`` file (a lock without its folder, a listing-cache temporary) is only an orphan once
#: it is this old: a writer takes its lock a moment before it makes its folder, so a fresh lock may
#: belong to a writer that is starting.
ORPHAN_FILE_AGE_S = 3600
COMMIT_ATTEMPTS = 20
RESERVED_KEYS = ("name", "version", "creation_time", "files", "size_bytes")


#: called with (bytes done, bytes in all) while exporting or importing
Progress = Callable[[int, int], None]
#: extra checks a store applies to each manifest (raise StoreCorrupted)
Validator = Callable[[dict[str, Any], Path], None]


def dump_yaml(data: Any) -> str:
    """YAML as the store writes it: block style, keys in insertion order, never an anchor."""
    from bentotui.store import safe_yaml  # here and in read_manifest: a cached listing never needs yaml

    return safe_yaml.dump(data)


def creation_time(manifest: Mapping[str, Any], source: Path | str) -> datetime:
    """The manifest's ``creation_time``, aware; StoreCorrupted naming ``source`` if it is not one.

    ``latest`` and every listing order by it, as BentoML's store does, so an entry whose time
    cannot be read is reported as corrupt rather than sorted anywhere.
    """
    value = manifest.get("creation_time")
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise StoreCorrupted(
            f"{source}: field 'creation_time' must be an ISO 8601 time with a UTC offset, got {value!r}"
        )
    return when


def is_file_list(files: object) -> TypeGuard[list[dict[str, Any]]]:
    """Whether a manifest's ``files`` is what the store writes: a list of {path, size, sha256}."""
    return isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and type(f.get("size")) is int
        and f["size"] >= 0  # a negative size would let a manifest understate what an import writes
        and isinstance(f.get("sha256"), str)
        for f in files
    )


@dataclass
class Item:
    """One stored version: its resolved tag, folder and parsed manifest."""

    tag: Tag
    path: Path
    manifest: dict[str, Any]


@dataclass
class Draft:
    """A save in progress: fill ``path`` and set ``info`` (extra manifest fields).

    ``item`` is set once the ``with`` block has committed the draft.
    """

    name: str
    path: Path
    info: dict[str, Any] = field(default_factory=dict)
    item: Item | None = None


class ItemStore:
    """Versioned items under ``root`` with manifest file ``manifest`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        manifest: str,
        *,
        kind: str = "item",
        archive_suffix: str = ".tar",
        validate_import: Validator | None = None,
        list_keys: Collection[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self.kind = kind
        self.archive_suffix = archive_suffix
        #: the kind's own checks of an archive's manifest before it is committed (on reads the
        #: caller checks: the model store turns every manifest into a ModelInfo anyway)
        self._validate_import = validate_import
        #: the manifest keys that :meth:`scan` keeps (besides the store's own): the fields the
        #: kind's typed reading takes.  Anything else in a manifest (a foreign tool's keys) stays
        #: out of listings and their cache.  None keeps every key.
        self._list_keys = None if list_keys is None else frozenset((*RESERVED_KEYS, *list_keys))

    # ------------------------------------------------------------------ reading

    def read_manifest(self, folder: Path, expect: Tag | None = None) -> dict[str, Any]:
        """Parse and check ``folder``'s manifest; ``expect`` is the tag its folder names.

        Every read, not only an import, holds the manifest to the bounds of
        :mod:`bentotui.store.safe_yaml`: the store is shared, and a manifest written or edited by
        anything else must cost one StoreCorrupted, not the memory or stack of every reader.
        """
        import yaml

        from bentotui.store import safe_yaml

        file = folder / self.manifest
        try:
            with open(file, "rb") as fh:
                text = fh.read(safe_yaml.MAX_MANIFEST_BYTES + 1)  # enough to tell it is too big
        except FileNotFoundError:
            raise StoreCorrupted(f"{file} is missing") from None
        except OSError as exc:
            raise StoreCorrupted(f"cannot read {file}: {exc.strerror}") from None
        try:
            data = safe_yaml.load(text)
        except safe_yaml.ManifestRefused as exc:
            raise StoreCorrupted(f"{file} {exc}") from None
        except yaml.YAMLError as exc:
            problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
            raise StoreCorrupted(f"{file} is not valid YAML: {problem}") from None
        if not isinstance(data, dict):
            raise StoreCorrupted(f"{file} is not a YAML mapping")
        missing = [key for key in RESERVED_KEYS if key not in data]
        if missing:
            raise StoreCorrupted(f"{file} lacks {', '.join(missing)}")
        try:
            tag = Tag(data["name"], data["version"])
        except InvalidArgument as exc:
            raise StoreCorrupted(f"{file}: {exc.message}") from None
        if tag.is_latest:
            raise StoreCorrupted(f"{file}: 'latest' is not a version")
        if expect is not None and tag != expect:
            raise StoreCorrupted(f"{file} names {tag}, but lives in the folder of {expect}")
        creation_time(data, file)
        files = data["files"]
        if not is_file_list(files):
            raise StoreCorrupted(f"{file}: 'files' must be a list of {{path, size, sha256}}")
        return data

    def resolve(self, tag: str | Tag) -> tuple[Tag, Path]:
        """The concrete tag and folder of ``tag``; an exact tag is not read, so a corrupt one resolves.

        ``latest`` is the readable version with the newest ``creation_time``, ties broken by the
        larger version, as in BentoML.  Not the largest version string: an imported version
        (``zzzz``, ``v1``) would then stay ``latest`` for good, whatever is saved after it.  When
        no version of the name reads, the first problem is raised (StoreCorrupted).
        """
        tag = Tag.parse(tag)
        if tag.is_latest:
            items, problems = self._read_versions([tag.name], whole=False)
            if not items:
                if problems:
                    raise problems[0]
                raise NotFound(f"{self.kind} {tag.name!r} not found")
            tag = max(items, key=_age).tag
        folder = tag.path_in(self.root)
        if not folder.is_dir():
            raise NotFound(f"{self.kind} {str(tag)!r} not found")
        return tag, folder

    def _versions(self, name: str) -> list[str]:
        try:
            with os.scandir(self.root / name) as entries:
                return [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def get(self, tag: str | Tag) -> Item:
        """The item ``tag`` names; NotFound if absent, StoreCorrupted if its manifest is bad."""
        tag, folder = self.resolve(tag)
        return Item(tag, folder, self.read_manifest(folder, expect=tag))

    def scan(self, name: str | None = None) -> tuple[list[Item], list[StoreCorrupted]]:
        """Every item (of ``name``), newest first, plus the entries that could not be read.

        Listing never hashes files, and it re-reads a manifest only when the manifest changed
        since the last full listing (see :data:`LIST_CACHE`), so it stays fast for thousands of
        items.  A bad entry is reported, not fatal.
        """
        self.sweep()
        if name is not None:
            Tag(name)
            names = [name]
        else:
            try:
                with os.scandir(self.root) as entries:
                    names = [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
            except FileNotFoundError:
                names = []
        items, problems = self._read_versions(names, whole=name is None)
        items.sort(key=_age, reverse=True)
        return items, problems

    def _read_versions(self, names: list[str], *, whole: bool) -> tuple[list[Item], list[StoreCorrupted]]:
        """Every version of ``names`` as a listing sees it, and the entries that could not be read.

        What was read goes back into the listing cache: all of it when ``names`` is the ``whole``
        store, else in place of those names' entries (so resolving ``latest`` of a name with many
        versions parses each manifest once, not on every call).
        """
        cache = self._load_list_cache()
        seen: dict[str, list[Any]] = {}
        items: list[Item] = []
        problems: list[StoreCorrupted] = []
        for item_name in names:
            for version in self._versions(item_name):
                folder = self.root / item_name / version
                key = f"{item_name}/{version}"
                try:
                    tag = Tag(item_name, version)
                    stamp = _stamp(folder / self.manifest)
                    manifest = _cached(cache.get(key), stamp) or self.read_manifest(folder, expect=tag)
                except InvalidArgument as exc:
                    problems.append(StoreCorrupted(f"{folder}: {exc.message}"))
                    continue
                except StoreCorrupted as exc:
                    problems.append(exc)
                    continue
                if self._list_keys is not None:
                    manifest = {k: v for k, v in manifest.items() if k in self._list_keys}
                seen[key] = [stamp, manifest]
                items.append(Item(tag, folder, manifest))
        if not whole:
            seen = {**{k: v for k, v in cache.items() if k.partition("/")[0] not in names}, **seen}
        if seen != cache:
            self._save_list_cache(seen)
        return items, problems

    def _load_list_cache(self) -> dict[str, list[Any]]:
        try:
            data = json.loads((self.root / LIST_CACHE).read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != LIST_CACHE_FORMAT:
            return {}
        entries = data.get("items")
        return entries if isinstance(entries, dict) else {}

    def _save_list_cache(self, entries: dict[str, list[Any]]) -> None:
        """Best effort: a cache that cannot be written (or holds non-JSON data) is just skipped."""
        tmp = self.root / f"{TMP_PREFIX}cache-{os.getpid()}-{secrets.token_hex(4)}.json"
        cache = {"format": LIST_CACHE_FORMAT, "items": entries}
        try:
            tmp.write_text(json.dumps(cache, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.root / LIST_CACHE)
        except (OSError, TypeError, ValueError):
            tmp.unlink(missing_ok=True)

    def verify(self, tag: str | Tag) -> Item:
        """Like :meth:`get`, and also check every file's size and sha256 (StoreCorrupted if not)."""
        item = self.get(tag)
        listed = {entry["path"] for entry in item.manifest["files"]}
        present = {rel for rel, _ in _walk_files(item.path, skip=self.manifest)}
        if present != listed:
            odd = sorted(present ^ listed)[0]
            raise StoreCorrupted(f"{self.kind} {item.tag}: file {odd!r} is missing or not in {self.manifest}")
        for entry in item.manifest["files"]:
            size, digest = _hash_file(item.path / entry["path"])
            if (size, digest) != (entry["size"], entry["sha256"]):
                raise StoreCorrupted(f"{self.kind} {item.tag}: checksum mismatch for {entry['path']!r}")
        return item

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def create(self, name: str, version: str | None = None) -> Iterator[Draft]:
        """Yield a :class:`Draft` to fill; on a clean exit it becomes ``<name>/<version>/``.

        Without ``version`` a new one is generated; an explicit one (``bentotui build --version``)
        must be free, else :class:`Conflict` before anything is written.
        """
        Tag(name, version)
        if version == "latest":
            raise InvalidArgument("version 'latest' is reserved: it always means the newest version")
        if version is not None and (self.root / name / version).exists():
            raise Conflict(f"{self.kind} '{name}:{version}' already exists")
        self.sweep()
        with self._temp_folder() as tmp:
            draft = Draft(name, tmp)
            yield draft
            draft.item = self._commit_new(draft, version)

    def _commit_new(self, draft: Draft, fixed_version: str | None = None) -> Item:
        clash = set(draft.info) & set(RESERVED_KEYS)
        if clash:
            raise InvalidArgument(f"draft info may not set {', '.join(sorted(clash))}")
        files = _manifest_files(draft.path, self.manifest)
        for _ in range(1 if fixed_version else COMMIT_ATTEMPTS):
            version = fixed_version or versions.new_version()
            created = (None if fixed_version else versions.version_time(version)) or datetime.now(timezone.utc)
            manifest = {
                "name": draft.name,
                "version": version,
                "creation_time": created.isoformat(),
                **draft.info,
                "files": files,
                "size_bytes": sum(f["size"] for f in files),
            }
            _write_synced(draft.path / self.manifest, self._readable_text(draft.name, manifest))
            target = self.root / draft.name / version
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(draft.path, target)
            except FileNotFoundError:
                continue  # a concurrent delete removed the (empty) name folder: make it again
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    if fixed_version:
                        raise Conflict(f"{self.kind} '{draft.name}:{version}' already exists") from None
                    continue  # same version from another process: draw a new one
                raise
            _fsync_dir(target.parent)
            return Item(Tag(draft.name, version), target, manifest)
        raise BentotuiError(
            f"could not store {self.kind} {draft.name!r}: no free version after {COMMIT_ATTEMPTS} tries"
        )

    def _readable_text(self, name: str, manifest: dict[str, Any]) -> str:
        """``manifest`` as YAML, InvalidArgument if a read would refuse it (too big or too deep).

        The bounds of every read hold for a save too, so the store never commits an item that it
        would then list as corrupt.
        """
        from bentotui.store import safe_yaml

        text = dump_yaml(manifest)
        try:
            safe_yaml.load(text.encode())
        except safe_yaml.ManifestRefused as exc:
            raise InvalidArgument(f"cannot save {self.kind} {name!r}: its {self.manifest} {exc}") from None
        return text

    def delete(self, tag: str | Tag) -> Tag:
        """Remove one version (even one with a corrupt manifest); returns the concrete tag."""
        tag, folder = self.resolve(tag)
        with self._store_lock():
            trash = self.root / f"{TRASH_PREFIX}{secrets.token_hex(8)}"
            try:
                os.rename(folder, trash)
            except FileNotFoundError:
                raise NotFound(f"{self.kind} {str(tag)!r} not found") from None
            shutil.rmtree(trash, ignore_errors=True)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()  # only succeeds when that was the last version
        return tag

    # ------------------------------------------------------------------ archives
    # The code that reads untrusted input lives in bentotui.store.archive, imported here lazily:
    # listing and saving never need it (nor tarfile), and archive.py builds on this module.

    def export(
        self, tag: str | Tag, dest: Path, *, force: bool = False, progress: Progress | None = None
    ) -> Path:
        """Write ``tag`` as one archive file; ``dest`` may be a folder. Returns the file written.

        The files are re-hashed while they are archived, so a damaged item is never exported.
        """
        from bentotui.store.archive import export_item

        return export_item(self, tag, dest, force=force, progress=progress)

    def import_(self, archive: Path, *, force: bool = False, progress: Progress | None = None) -> Item:
        """Add the item in ``archive``; ImportRejected for anything but a sound archive of ours.

        Conflict when its tag exists, unless ``force`` (then the old version is replaced in one
        rename; it is put back if the replacement fails).
        """
        from bentotui.store.archive import import_archive

        return import_archive(self, archive, force=force, progress=progress)

    def import_folder(self, folder: Path, *, force: bool = False) -> Item:
        """Add the unpacked item in ``folder`` (files plus manifest, e.g. a model inside a bento).

        Checked exactly as an archive is (see :meth:`import_`); the folder itself is left alone.
        """
        from bentotui.store.archive import import_folder

        return import_folder(self, folder, force=force)

    # ------------------------------------------------------------------ temporaries

    @contextlib.contextmanager
    def _temp_folder(self) -> Iterator[Path]:
        """A fresh ``.tmp-*`` folder whose lock this process holds until the block ends."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        lock = _file_lock(str(path) + LOCK_SUFFIX, timeout=10)
        with lock:  # taken before the folder exists, so a sweep never sees an unlocked live draft
            try:
                path.mkdir()
                yield path
            finally:
                shutil.rmtree(path, ignore_errors=True)
                Path(lock.lock_file).unlink(missing_ok=True)  # while still held: see sweep()

    @contextlib.contextmanager
    def _store_lock(self) -> Iterator[None]:
        """Serialises deletes and imports (they swap folders); plain saves never need it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.root / STORE_LOCK, timeout=60):
            yield

    def sweep(self) -> list[str]:
        """Remove temporaries of writers that died; returns the names removed."""
        removed: list[str] = []
        try:
            with os.scandir(self.root) as entries:
                stray = [e for e in entries if e.name.startswith((TMP_PREFIX, TRASH_PREFIX))]
        except FileNotFoundError:
            return removed
        names = {e.name for e in stray}
        now = time.time()
        for entry in stray:
            if entry.name.startswith(TRASH_PREFIX):
                # left by a delete or forced import that crashed mid-way; take the store lock so a
                # forced import that may still put its trash back is never raced
                with _lock_if_free(self.root / STORE_LOCK) as free:
                    if free:
                        shutil.rmtree(entry.path, ignore_errors=True)
                        removed.append(entry.name)
                continue
            if entry.is_dir(follow_symlinks=False):
                lock_path, folder = Path(entry.path + LOCK_SUFFIX), Path(entry.path)
            else:
                # a lock whose folder is gone, or a listing-cache temporary: orphans once old
                try:
                    age = now - entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue  # released and removed since the scan
                if age < ORPHAN_FILE_AGE_S or entry.name.removesuffix(LOCK_SUFFIX) in names:
                    continue
                if not entry.name.endswith(LOCK_SUFFIX):
                    Path(entry.path).unlink(missing_ok=True)
                    removed.append(entry.name)
                    continue
                lock_path, folder = Path(entry.path), None
            with _lock_if_free(lock_path) as free:
                if free:  # else its writer is alive
                    if folder is not None:
                        shutil.rmtree(folder, ignore_errors=True)
                    lock_path.unlink(missing_ok=True)  # while held: see _temp_folder
                    removed.append(entry.name)
        return removed


# ---------------------------------------------------------------------- helpers


def _walk_files(folder: Path, *, skip: str | None = None) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, path)`` of every file under ``folder`` except the top-level ``skip``.

    Links to folders are yielded too, never followed, so that the caller sees and refuses them.
    """
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if rel != skip:
                yield rel, path


def _manifest_files(folder: Path, manifest: str) -> list[dict[str, Any]]:
    """Size and sha256 of every file in a draft (fsync'd on the way, so the rename publishes data)."""
    if (folder / manifest).exists():
        raise InvalidArgument(f"{manifest} is written by the store; do not create it in the draft")
    files = []
    for rel, path in _walk_files(folder, skip=manifest):
        if path.is_symlink() or not path.is_file():
            raise InvalidArgument(f"{rel!r} is not a regular file; the store keeps regular files only")
        size, digest = _hash_file(path, sync=True)
        files.append({"path": rel, "size": size, "sha256": digest})
    return sorted(files, key=lambda f: f["path"])


def _file_lock(path: str | Path, timeout: float) -> Any:
    """A ``filelock.FileLock``, imported here: listing needs one only when there is litter."""
    from filelock import FileLock

    return FileLock(str(path), timeout=timeout)


@contextlib.contextmanager
def _lock_if_free(path: Path) -> Iterator[bool]:
    """Hold the lock at ``path`` for the block if nobody else holds it; yields whether it does."""
    from filelock import Timeout

    lock = _file_lock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _cached(entry: object, stamp: list[int] | None) -> dict[str, Any] | None:
    """The manifest the listing cache holds for ``stamp``, if it is one a listing can sort."""
    if stamp is None or not isinstance(entry, list) or len(entry) != 2 or entry[0] != stamp:
        return None
    manifest = entry[1]
    if not isinstance(manifest, dict):
        return None
    try:
        creation_time(manifest, LIST_CACHE)
    except StoreCorrupted:
        return None  # a damaged cache: read the manifest itself
    return manifest


def _age(item: Item) -> tuple[datetime, str]:
    """How new ``item`` is: its creation time, then its version (BentoML's order for ``latest``)."""
    return creation_time(item.manifest, item.path), item.tag.version or ""


def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _hash_file(path: Path, *, sync: bool = False) -> tuple[int, str]:
    with open(path, "rb") as fh:
        digest = file_digest(fh, "sha256").hexdigest()
        if sync:
            os.fsync(fh.fileno())
        return fh.tell(), digest


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
