"""Archives (``.bentomodel`` / ``.bento``) and item imports: the store's one face to hostile input.

An archive is a plain tar file: the manifest, then the files it lists.  Import treats an archive
-- or an unpacked item folder, such as a model a bento carries in ``models/<name>/<version>/`` --
as hostile until proven otherwise: only regular files and folders with relative paths inside it,
each file exactly as the manifest says (size and sha256), no extra files, and the kind's own
manifest checks.  Everything is unpacked into one of the store's locked temporaries and judged
there; only a sound item is renamed into place, so a rejected one leaves nothing behind.

Nothing large is written before it is proven to be expected: the manifest comes first (an
export writes it first) and is held to the bounds of :mod:`bentotui.store.safe_yaml`; its
declared total must fit :func:`max_import_bytes` and the disk; each later member's size, known
from its tar header, must equal its manifest entry before a byte is copied, and the copy stops
there; sparse members are refused; and tarfile reads through a stream that refuses to go past what
the manifest accounts for, however well the archive compresses.

Both sources pass the same gate (:class:`_Unpack`, :func:`_safe_path`), so there is one
validator to review, not one per source.

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

from bentotui.exceptions import (
    BentotuiError,
    Conflict,
    ImportRejected,
    InvalidArgument,
    NotFound,
    StoreCorrupted,
)
from bentotui.store import safe_yaml
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

#: how to open an entry's bytes (files only)
_Opener = Callable[[], "IO[bytes] | None"]
#: one entry to unpack: its relative posix name, its kind, its size as its source says, its opener
_Entry = tuple[str, str, int, _Opener]

#: the environment variable that sets :func:`max_import_bytes`
MAX_IMPORT_ENV = "BENTOTUI_IMPORT_MAX_BYTES"
#: the most bytes of files one import may write unless :data:`MAX_IMPORT_ENV` says otherwise
DEFAULT_MAX_IMPORT_BYTES = 64 << 30
#: tar stream bytes allowed besides the files: headers and padding of folders, the end marker
_STREAM_SLACK = 1 << 20
#: and per listed file: its header (a pax record for a long name) and padding to 512 bytes
_MEMBER_SLACK = 8 << 10


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
    return _admit(store, archive, lambda tmp: _extract(store, archive, tmp, progress), force)


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
    return _admit(store, folder, lambda tmp: _copy_folder(store, folder, tmp), force)


def max_import_bytes() -> int:
    """The most bytes of files one import may write: :data:`MAX_IMPORT_ENV`, else the default.

    The per-archive bound is what its manifest declares; this caps what a manifest may declare,
    so that an archive cannot claim (and then fill) a disk's worth of space.
    """
    raw = os.environ.get(MAX_IMPORT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_IMPORT_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidArgument(f"{MAX_IMPORT_ENV} must be a number of bytes, got {raw!r}")
    return value


def _admit(store: ItemStore, source: Path, unpack: Callable[[Path], dict[str, Any]], force: bool) -> Item:
    """Unpack ``source`` into a locked temporary, proving it sound on the way, then commit it."""
    store.sweep()
    with store._temp_folder() as tmp:
        manifest = unpack(tmp)
        tag = Tag(manifest["name"], manifest["version"])
        return Item(tag, _commit(store, tmp, tag, force), manifest)


def _extract(store: ItemStore, archive: Path, tmp: Path, progress: Progress | None) -> dict[str, Any]:
    """Write the archive's regular files under ``tmp`` (a gzip, bzip2 or xz tar is read too).

    tarfile reads through :class:`_BoundedStream`, so nothing it reads -- member data, a pax
    header or GNU long name (which it holds in memory), a compressed stream that expands a
    thousandfold -- goes past what the manifest accounts for.
    """
    import lzma
    import tarfile

    total = archive.stat().st_size
    corrupt = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)
    with _reading(archive, "is truncated or corrupt", *corrupt), open(archive, "rb") as raw:
        with _decompressed(raw) as data:
            stream = _BoundedStream(data, archive, store.manifest)
            try:
                tar = tarfile.open(fileobj=stream, mode="r:")  # type: ignore[call-overload]
            except tarfile.TarError:
                raise ImportRejected(
                    f"{archive} is not a bentotui {store.kind} archive (not a tar file)"
                ) from None

            def tick() -> None:
                if progress:
                    progress(raw.tell(), total)

            with tar:
                entries = (
                    (m.name, _member_kind(m), m.size, functools.partial(tar.extractfile, m)) for m in tar
                )
                return _Unpack(store, archive, "archive", tmp, stream).run(entries, tick)


def _copy_folder(store: ItemStore, folder: Path, tmp: Path) -> dict[str, Any]:
    """Copy an unpacked item's regular files under ``tmp``, its manifest first.

    Each entry is judged by ``lstat``, so a link is refused rather than followed, and each file
    is opened without following links and checked again, so one swapped for a link or a pipe
    after the walk is refused too.  A hard-linked file is only a regular file here: its bytes are
    copied, so it cannot point elsewhere the way a tar hard link does.
    """
    with _reading(folder, "cannot be read"):
        walk = sorted(_walk_files(folder), key=lambda found: found[0] != store.manifest)  # stable
        entries = (_folder_entry(rel, path) for rel, path in walk)
        return _Unpack(store, folder, "folder", tmp, None).run(entries, None)


def _folder_entry(rel: str, path: Path) -> _Entry:
    st = path.lstat()
    return rel, _stat_kind(st.st_mode), st.st_size, functools.partial(_open_regular, path)


class _Unpack:
    """The gate every entry of either source passes, in order, writing only what it has proven.

    The manifest must come first (an export writes it first): once it is read, every later
    file's size is known before a byte of it is copied, so a member whose header disagrees with
    its manifest entry is refused unwritten, and each copy stops at the declared size.  The
    declared total must fit the import cap and the disk, and bounds the tar stream itself.
    """

    def __init__(
        self, store: ItemStore, source: Path, what: str, tmp: Path, stream: _BoundedStream | None
    ) -> None:
        self.store, self.source, self.what, self.tmp, self.stream = store, source, what, tmp, stream
        self.manifest: dict[str, Any] | None = None
        self.listed: dict[str, dict[str, Any]] = {}
        self.written: set[str] = set()

    def run(self, entries: Iterable[_Entry], tick: Callable[[], None] | None) -> dict[str, Any]:
        """Write ``entries`` under the temporary; the checked manifest once all of them passed."""
        for name, kind, size, open_bytes in entries:
            rel = _safe_path(name, kind, self.source, self.what)
            target = self.tmp.joinpath(*PurePosixPath(rel).parts)
            if kind == _DIR:
                target.mkdir(parents=True, exist_ok=True)
                continue
            if rel in self.written:
                raise ImportRejected(f"{self.source}: {rel!r} appears twice")
            target.parent.mkdir(parents=True, exist_ok=True)
            if self.manifest is None:
                self._take_manifest(rel, size, open_bytes, target)
            else:
                self._take_file(rel, size, open_bytes, target)
            self.written.add(rel)
            if tick:
                tick()
        manifest_name = self.store.manifest
        if self.manifest is None:
            raise ImportRejected(
                f"{self.source} is not a bentotui {self.store.kind} {self.what}: no {manifest_name}"
            )
        absent = sorted(set(self.listed) - self.written)
        if absent:
            raise ImportRejected(f"{self.source}: {absent[0]!r} is listed in {manifest_name} but missing")
        return self.manifest

    def _take_manifest(self, rel: str, size: int, open_bytes: _Opener, target: Path) -> None:
        store = self.store
        if rel != store.manifest:
            raise ImportRejected(
                f"{self.source} is not a bentotui {store.kind} {self.what}: no {store.manifest} "
                f"before {rel!r} (the manifest comes first)"
            )
        limit = safe_yaml.MAX_MANIFEST_BYTES
        if size > limit:
            raise ImportRejected(
                f"{self.source}: {store.manifest} is {size} bytes, over the {limit} a manifest may have"
            )
        _copy_bounded(self.source, rel, open_bytes, target, size)
        try:
            manifest = store.read_manifest(self.tmp)
            if store._validate_import is not None:
                store._validate_import(manifest, target)
        except StoreCorrupted as exc:
            message = exc.message.replace(str(target), store.manifest)
            raise ImportRejected(f"{self.source}: {message}") from None
        declared = sum(entry["size"] for entry in manifest["files"])
        if manifest["size_bytes"] != declared:
            raise ImportRejected(
                f"{self.source}: {store.manifest} says size_bytes {manifest['size_bytes']!r}, "
                f"but its files add up to {declared}"
            )
        cap = max_import_bytes()
        if declared > cap:
            raise ImportRejected(
                f"{self.source} declares {declared} bytes of files, over the import limit of {cap} "
                f"(set {MAX_IMPORT_ENV} to allow more)"
            )
        free = shutil.disk_usage(self.tmp).free
        if declared > free:
            raise BentotuiError(
                f"cannot import {self.source}: it needs {declared} bytes, "
                f"and the store's disk has {free} free"
            )
        self.listed = {entry["path"]: entry for entry in manifest["files"]}
        if self.stream is not None:
            self.stream.allow(declared, len(self.listed))
        self.manifest = manifest

    def _take_file(self, rel: str, size: int, open_bytes: _Opener, target: Path) -> None:
        entry = self.listed.get(rel)
        if entry is None:
            raise ImportRejected(f"{self.source}: {rel!r} is not listed in {self.store.manifest}")
        if size != entry["size"]:
            raise ImportRejected(
                f"{self.source}: {rel!r} is {size} bytes, but {self.store.manifest} says {entry['size']}"
            )
        if _copy_bounded(self.source, rel, open_bytes, target, size) != entry["sha256"]:
            raise ImportRejected(f"{self.source}: checksum mismatch for {rel!r}")


class _BoundedStream:
    """The uncompressed tar stream as tarfile reads it, refused past a limit before it is read.

    Until the manifest is read the limit is one manifest and headers; then it is what the
    manifest declares plus room for headers, padding and folders (:meth:`allow`).  The bound is on
    the position in the uncompressed stream, so it holds however well the archive compresses.
    """

    def __init__(self, data: io.BufferedIOBase, source: Path, manifest: str) -> None:
        self._data = data
        self._source = source
        self._manifest = manifest
        self._pos = 0
        self._limit = safe_yaml.MAX_MANIFEST_BYTES + _STREAM_SLACK

    def allow(self, declared: int, files: int) -> None:
        """From here on, room for ``files`` files of ``declared`` bytes in all (and their headers)."""
        self._limit = self._pos + declared + files * _MEMBER_SLACK + _STREAM_SLACK

    def read(self, size: int) -> bytes:
        """``size`` bytes (tarfile always names a size), refused before the read if past the limit."""
        self._check(self._pos + size)
        data = self._data.read(size)
        self._pos += len(data)
        return data

    def seek(self, offset: int) -> int:
        """Go to ``offset`` (tarfile seeks to absolute positions only), refused past the limit."""
        self._check(offset)
        self._pos = self._data.seek(offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def _check(self, end: int) -> None:
        if end > self._limit:
            raise ImportRejected(
                f"{self._source} holds more than its {self._manifest} accounts for "
                f"(over {self._limit} bytes unpacked); refused before writing it"
            )


def _decompressed(raw: io.BufferedReader) -> io.BufferedIOBase:
    """``raw``, or a reader that decompresses it: the compressions tarfile's ``r:*`` reads."""
    import bz2
    import gzip
    import lzma

    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return raw


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
    if member.issparse():  # isfile() too, but its header size is not what it expands to
        return "a sparse file"
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


def _copy_bounded(source: Path, rel: str, open_bytes: _Opener, target: Path, size: int) -> str:
    """Copy exactly ``size`` bytes of an entry into the new file ``target``; returns their sha256.

    Never more: a source that holds more (or fewer) bytes than it said is refused, having
    written at most ``size``.
    """
    reader = open_bytes()
    assert reader is not None  # a regular file: _safe_path refused every other kind
    digest = hashlib.sha256()
    left = size
    with reader, open(target, "xb") as out:
        while left and (chunk := reader.read(min(CHUNK, left))):
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
        if left or reader.read(1):
            raise ImportRejected(f"{source}: {rel!r} changed size while it was read")
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
