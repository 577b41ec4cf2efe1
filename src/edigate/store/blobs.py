"""Content-addressed blob store: the bytes of every document, durable before anyone is told.

A blob is written to a temporary file, fsynced, renamed into place and its directory fsynced,
so after :meth:`BlobStore.put` returns the bytes survive a crash or power loss. Blobs are named
by their SHA-256, so storing the same content twice costs nothing and a name never changes
meaning. The database holds only the hash.

Inside :meth:`BlobStore.group` puts are deferred: each blob is written to its temp file at
once, and when the group closes every temp file is fsynced (all at the same time, so the
file system commits its journal once for them), renamed into place and each of their
folders fsynced once. A worker committing many documents wraps its database
transaction's blob writes in one group and closes it before the commit, so the rows still
never name a blob that is not durable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError
from ..fsutil import folders_to_sync, fsync_dir, fsync_many, make_dirs

CHUNK = 1 << 20
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class BlobRef:
    sha256: str
    size: int


@dataclass
class _Group:
    """Blobs written to temp files, not yet durable: (temp path, final path) pairs."""

    pending: list[tuple[str, Path]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


class BlobStore:
    """Blobs under ``root/ab/cd/<sha256>``; ``root/tmp`` holds writes in progress."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        for folder in make_dirs(self._tmp):  # a new root must last as its blobs do
            fsync_dir(folder.parent)
        self._local = threading.local()

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Defer the fsyncs of this thread's puts to the end of the block (see the module
        docstring). Leaving the block normally makes every blob durable; leaving it by an
        exception deletes the temp files (no row may name them). Nested groups join the
        outer one."""
        if getattr(self._local, "group", None) is not None:
            yield
            return
        group = _Group()
        self._local.group = group
        try:
            yield
        except BaseException:
            self._local.group = None
            _discard(group)
            raise
        self._local.group = None
        self._settle(group)

    def _settle(self, group: _Group) -> None:
        folders: set[Path] = set()
        try:
            # Together (fsync_many): the journal commits once for the lot.
            _raise_first(fsync_many([tmp_name for tmp_name, _ in group.pending]))
            for tmp_name, final in group.pending:
                if final.exists():
                    os.unlink(tmp_name)
                    continue
                folders.update(_replace(tmp_name, final))
            _raise_first(fsync_many(sorted(folders)))
        except OSError as exc:
            _discard(group)
            raise StoreError(
                f"cannot store blobs under {self.root}: {exc.strerror or exc}"
            ) from exc

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not _HEX.issuperset(sha256):
            raise StoreError(f"not a SHA-256 blob name: {sha256!r}")
        return self.root.joinpath(sha256[:2], sha256[2:4], sha256)

    def put(self, data: bytes | BinaryIO, *, head: bytes = b"") -> BlobRef:
        """Store bytes (or everything a binary stream yields) durably; returns hash and size.

        ``head``: bytes already read from the stream, stored before the rest."""
        digest = hashlib.sha256()
        size = 0
        group: _Group | None = getattr(self._local, "group", None)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(data, head):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                if group is None:
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if group is not None:
                if sha in group.names:
                    os.unlink(tmp_name)
                else:
                    group.names.add(sha)
                    group.pending.append((tmp_name, final))
                return BlobRef(sha, size)
            if final.exists():
                os.unlink(tmp_name)
            else:
                _raise_first(fsync_many(_replace(tmp_name, final)))
            return BlobRef(sha, size)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise StoreError(f"cannot store blob under {self.root}: {exc.strerror or exc}") from exc

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"blob {sha256} is missing from {self.root}") from exc

    def open(self, sha256: str) -> BinaryIO:
        """A binary stream of the blob, for large documents."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise StoreError(f"blob {sha256} is missing from {self.root}") from exc

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()


def _replace(tmp_name: str, final: Path) -> list[Path]:
    """Rename a temp file to its blob name, making the folder only when it is missing (a
    ``mkdir`` per blob on folders that nearly always exist costs more than the rename).

    Returns the folders to fsync before the blob counts as durable: its own, and the parent
    of each folder made for it (``ab/`` is an entry of the root, ``cd/`` of ``ab/``: until
    those are fsynced a crash can lose the new folder, and the blob with it)."""
    try:
        os.replace(tmp_name, final)
    except FileNotFoundError:
        made = make_dirs(final.parent)
        os.replace(tmp_name, final)
        return folders_to_sync(final.parent, made)
    return [final.parent]


def _raise_first(errors: list[OSError | None]) -> None:
    for error in errors:
        if error is not None:
            raise error


def _discard(group: _Group) -> None:
    for tmp_name, _ in group.pending:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    group.pending.clear()


def _chunks(data: bytes | BinaryIO, head: bytes = b"") -> Iterator[bytes]:
    if head:
        yield head
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    while chunk := data.read(CHUNK):
        yield chunk
