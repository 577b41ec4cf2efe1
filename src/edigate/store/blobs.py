"""Content-addressed blob store: the bytes of every document, durable before anyone is told.

A blob is written to a temporary file, fsynced, renamed into place and its directory fsynced,
so after :meth:`BlobStore.put` returns the bytes survive a crash or power loss. Blobs are named
by their SHA-256, so storing the same content twice costs nothing and a name never changes
meaning. The database holds only the hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError
from ..fsutil import fsync_dir

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BlobRef:
    sha256: str
    size: int


class BlobStore:
    """Blobs under ``root/ab/cd/<sha256>``; ``root/tmp`` holds writes in progress."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StoreError(f"not a SHA-256 blob name: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes | BinaryIO) -> BlobRef:
        """Store bytes (or everything a binary stream yields) durably; returns hash and size."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(data):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
                fsync_dir(final.parent)
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


def _chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    while chunk := data.read(CHUNK):
        yield chunk
