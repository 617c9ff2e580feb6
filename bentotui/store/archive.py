"""Archives (``.bentomodel`` / ``.bento``) and item imports: the store's one face to hostile input.

An archive is a plain tar file: the manifest, then the files it lists.  Import treats an archive
-- or an unpacked item folder, such as a model a bento carries in ``models/<name>/<version>/`` --
as hostile until proven otherwise: only regular files and folders with relative paths inside it,
each file exactly as the manifest says (size and sha256), no extra files, and the kind's own
manifest checks.  Everything is unpacked into one of the store's locked temporaries and judged
there; only a sound item is renamed into place, so a rejected one leaves nothing behind.

Both sources pass the same gate (:func:`_unpack`, :func:`_safe_path`, :func:`_check`), so there
is one validator to review, not one per source.

This module builds on :mod:`bentotui.store.item_store` (its temporaries, lock and manifest
reader); the store's ``export`` / ``import_`` / ``import_folder`` methods import it lazily, so
listing and saving -- the hot paths -- never load it or :mod:`tarfile`.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import os
import secrets
import shutil
import stat
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from bentotui.exceptions import BentotuiError, Conflict, ImportRejected, NotFound, StoreCorrupted
from bentotui.store.item_store import (
    TMP_PREFIX,
    TRASH_PREFIX,
    Item,
    ItemStore,
    Progress,
    _fsync_dir,
    _walk_files,
    dump_yaml,
)
from bentotui.store.tags import Tag

if TYPE_CHECKING:
    import tarfile

__all__ = ["export_item", "import_archive", "import_folder"]

CHUNK = 1 << 20
#: errors of this machine, not of the archive
_ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES)
#: the kinds of entry an item may hold; any other kind is named in the refusal ("a symlink", ...)
_FILE, _DIR = "a regular file", "a folder"

#: one entry to unpack: its relative posix name, its kind and how to open its bytes (files only)
_Entry = tuple[str, str, Callable[[], "IO[bytes] | None"]]
#: ``{relative path: (size, sha256)}`` of the files an unpack wrote
_Written = dict[str, tuple[int, str]]


# ---------------------------------------------------------------------- export


def export_item(
    store: ItemStore, tag: str | Tag, dest: Path, *, force: bool = False, progress: Progress | None = None
) -> Path:
    """Write ``tag`` as one archive file; ``dest`` may be a folder. Returns the file written.

    The files are re-hashed while they are archived, so a damaged item is never exported, and
    the archive is written under a temporary name and renamed, so ``dest`` is never half-written.
    """
    import tarfile  # only archives need it

    item = store.get(tag)
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / f"{item.tag.name}-{item.tag.version}{store.archive_suffix}"
    elif not dest.suffix:
        dest = dest.with_name(dest.name + store.archive_suffix)
    if dest.exists() and not force:
        raise Conflict(f"{dest} already exists (use --force to overwrite it)")
    if not dest.parent.is_dir():
        raise NotFound(f"folder {dest.parent} does not exist")
    total = int(item.manifest["size_bytes"])
    done = 0
    tmp = dest.with_name(f".{dest.name}{TMP_PREFIX}{secrets.token_hex(4)}")
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            manifest = dump_yaml(item.manifest).encode()
            tar.addfile(_tar_info(store.manifest, len(manifest)), io.BytesIO(manifest))
            for entry in item.manifest["files"]:
                path = item.path / entry["path"]
                reader = _HashingReader(path)
                try:
                    if os.path.getsize(path) != entry["size"]:
                        raise StoreCorrupted(f"{store.kind} {item.tag}: size mismatch for {entry['path']!r}")
                    tar.addfile(_tar_info(entry["path"], entry["size"]), reader)
                finally:
                    reader.close()
                if reader.hexdigest() != entry["sha256"]:
                    raise StoreCorrupted(f"{store.kind} {item.tag}: checksum mismatch for {entry['path']!r}")
                done += entry["size"]
                if progress:
                    progress(done, total)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except FileNotFoundError as exc:
        raise StoreCorrupted(f"{store.kind} {item.tag}: file {exc.filename} is missing") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    """A plain file member: no owner, mode 0644, so an archive never carries the exporter's."""
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time())
    return info


class _HashingReader:
    """A file reader that hashes what tarfile reads from it (export checks while it copies)."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._fh.close()


# ---------------------------------------------------------------------- import


def import_archive(
    store: ItemStore, archive: Path, *, force: bool = False, progress: Progress | None = None
) -> Item:
    """Add the item in ``archive``; ImportRejected for anything but a sound archive of ours.

    Conflict when its tag exists, unless ``force`` (then the old version is replaced in one
    rename; it is put back if the replacement fails).  ``progress`` gets (bytes read, archive size).
    """
    archive = Path(archive).expanduser()
    if not archive.exists():
        raise NotFound(f"archive {archive} does not exist")
    if not archive.is_file():
        raise ImportRejected(f"{archive} is not an archive file")
    return _admit(store, archive, "archive", lambda tmp: _extract(store, archive, tmp, progress), force)


def import_folder(store: ItemStore, folder: Path, *, force: bool = False) -> Item:
    """Add the unpacked item in ``folder`` (its files and manifest), checked as an archive is.

    The folder is copied, never moved or linked, so it is left as it was and the store's copy
    cannot change behind the checks.  Conflict when the tag exists, unless ``force``.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise NotFound(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise ImportRejected(f"{folder} is not a folder")
    return _admit(store, folder, "folder", lambda tmp: _copy_folder(folder, tmp), force)


def _admit(
    store: ItemStore, source: Path, what: str, unpack: Callable[[Path], _Written], force: bool
) -> Item:
    """Unpack ``source`` into a locked temporary, prove it sound there, then commit it."""
    store.sweep()
    with store._temp_folder() as tmp:
        written = unpack(tmp)
        manifest = _check(store, source, what, tmp, written)
        tag = Tag(manifest["name"], manifest["version"])
        return Item(tag, _commit(store, tmp, tag, force), manifest)


def _extract(store: ItemStore, archive: Path, tmp: Path, progress: Progress | None) -> _Written:
    """Write the archive's regular files under ``tmp`` (a gzip'd tar is read too)."""
    import tarfile

    total = archive.stat().st_size
    with open(archive, "rb") as raw:
        try:
            tar = tarfile.open(fileobj=raw, mode="r:*")
        except tarfile.TarError:
            raise ImportRejected(
                f"{archive} is not a bentotui {store.kind} archive (not a tar file)"
            ) from None

        def tick() -> None:
            if progress:
                progress(raw.tell(), total)

        with _reading(archive, "is truncated or corrupt", tarfile.TarError, EOFError, zlib.error), tar:
            entries = ((m.name, _member_kind(m), functools.partial(tar.extractfile, m)) for m in tar)
            return _unpack(entries, tmp, archive, "archive", tick)


def _copy_folder(folder: Path, tmp: Path) -> _Written:
    """Copy an unpacked item's regular files under ``tmp``.

    Each entry is judged by ``lstat``, so a link is refused rather than followed, and each file
    is opened without following links and checked again, so one swapped for a link or a pipe
    after the walk is refused too.  A hard-linked file is only a regular file here: its bytes are
    copied, so it cannot point elsewhere the way a tar hard link does.
    """
    with _reading(folder, "cannot be read"):
        entries = (
            (rel, _stat_kind(path.lstat().st_mode), functools.partial(_open_regular, path))
            for rel, path in _walk_files(folder)
        )
        return _unpack(entries, tmp, folder, "folder", None)


def _unpack(
    entries: Iterable[_Entry], tmp: Path, source: Path, what: str, tick: Callable[[], None] | None
) -> _Written:
    """Write the files of ``entries`` under ``tmp``: the gate every entry of either source passes."""
    written: _Written = {}
    for name, kind, open_bytes in entries:
        rel = _safe_path(name, kind, source, what)
        target = tmp.joinpath(*PurePosixPath(rel).parts)
        if kind == _DIR:
            target.mkdir(parents=True, exist_ok=True)
            continue
        if rel in written:
            raise ImportRejected(f"{source}: {rel!r} appears twice")
        target.parent.mkdir(parents=True, exist_ok=True)
        reader = open_bytes()
        assert reader is not None  # a regular file: _safe_path refused every other kind
        with reader:
            written[rel] = _copy_hashed(reader, target)
        if tick:
            tick()
    return written


def _safe_path(name: str, kind: str, source: Path, what: str) -> str:
    """The entry's normalised relative path, or ImportRejected for anything that could escape."""
    if kind not in (_FILE, _DIR):
        raise ImportRejected(f"{source}: {name!r} is {kind}; {what}s may hold regular files only")
    if name.startswith("/") or "\\" in name:
        raise ImportRejected(f"{source}: {name!r} is an absolute path")
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    if ".." in parts:
        raise ImportRejected(f"{source}: {name!r} points outside the {what}")
    if not parts:
        if kind == _DIR:
            return "."
        raise ImportRejected(f"{source}: an entry has an empty name")
    return "/".join(parts)


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.isfile():
        return _FILE
    if member.isdir():
        return _DIR
    return "a symlink" if member.issym() else "a hard link" if member.islnk() else "a device or special file"


def _stat_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return _FILE
    if stat.S_ISDIR(mode):
        return _DIR
    return "a symlink" if stat.S_ISLNK(mode) else "a device or special file"


def _open_regular(path: Path) -> IO[bytes]:
    """Open ``path`` only if it is still a regular file (no link followed, no pipe waited on)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ImportRejected(f"{path} changed while it was read")
    return os.fdopen(fd, "rb")


def _check(store: ItemStore, source: Path, what: str, tmp: Path, written: _Written) -> dict[str, Any]:
    """The unpacked manifest, once it and every file ``written`` match; ImportRejected if not."""
    manifest_path = tmp / store.manifest
    if store.manifest not in written:
        raise ImportRejected(f"{source} is not a bentotui {store.kind} {what}: no {store.manifest}")
    try:
        manifest = store.read_manifest(tmp)
        if store._validate_import is not None:
            store._validate_import(manifest, manifest_path)
    except StoreCorrupted as exc:
        raise ImportRejected(f"{source}: {exc.message.replace(str(manifest_path), store.manifest)}") from None
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for rel, (size, digest) in written.items():
        if rel == store.manifest:
            continue
        entry = listed.get(rel)
        if entry is None:
            raise ImportRejected(f"{source}: {rel!r} is not listed in {store.manifest}")
        if (size, digest) != (entry["size"], entry["sha256"]):
            raise ImportRejected(f"{source}: checksum mismatch for {rel!r}")
    absent = sorted(set(listed) - set(written))
    if absent:
        raise ImportRejected(f"{source}: {absent[0]!r} is listed in {store.manifest} but missing")
    return manifest


def _commit(store: ItemStore, tmp: Path, tag: Tag, force: bool) -> Path:
    """Rename the checked temporary into place, under the store lock (it may swap folders)."""
    target = tag.path_in(store.root)
    with store._store_lock():
        if target.exists() and not force:
            raise Conflict(f"{store.kind} {str(tag)!r} already exists (use --force to replace it)")
        target.parent.mkdir(parents=True, exist_ok=True)
        trash = store.root / f"{TRASH_PREFIX}{secrets.token_hex(8)}"
        replaced = target.exists()
        if replaced:
            os.rename(target, trash)
        try:
            os.rename(tmp, target)
        except BaseException:
            if replaced:
                os.rename(trash, target)
            raise
        _fsync_dir(target.parent)
        shutil.rmtree(trash, ignore_errors=True)
    return target


@contextlib.contextmanager
def _reading(source: Path, corrupt: str, *also: type[Exception]) -> Iterator[None]:
    """Tell this machine's faults (disk full, read-only: BentotuiError) from the source's own."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _ENVIRONMENT_ERRNOS:
            raise BentotuiError(f"cannot import {source}: {exc.strerror}") from None
        raise ImportRejected(f"{source} {corrupt} ({_one_line(exc)})") from None
    except also as exc:
        raise ImportRejected(f"{source} {corrupt} ({_one_line(exc)})") from None


def _copy_hashed(source: IO[bytes], target: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
