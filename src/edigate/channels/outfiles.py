"""Placing an outbound document in a folder someone else reads (SFTP pickup, folder out).

The reader must never see a partial file, and a document must never silently replace
another one that was not picked up yet. So the bytes go to a hidden temp file (fsynced),
which is then hard-linked to its final name: the link appears complete, and fails if the
name is taken (unlike a rename, which would overwrite). A name that is taken by the same
bytes is a redelivery and succeeds; by other bytes, the document id is added to the name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from ..fsutil import atomic_write, fsync_dir, is_hidden_or_partial
from .base import DeliveryError, Outbound
from .sftp_fs import PathRefused, check_name


def outbound_name(document: Outbound) -> str:
    """The document's file name, checked: one plain component that no reader would skip."""
    try:
        name = check_name(document.filename)
    except PathRefused:
        raise DeliveryError(
            f"document {document.document_id}: file name {document.filename!r} is not a "
            "plain file name",
            retryable=False,
        ) from None
    if is_hidden_or_partial(Path(name)):
        raise DeliveryError(
            f"document {document.document_id}: file name {name!r} looks like a temp file "
            "(dotfile, .tmp, .part) and would be ignored by the reader",
            retryable=False,
        )
    return name


def place_file(folder: Path, document: Outbound) -> Path:
    """Write ``document`` into ``folder`` complete or not at all; returns the final path."""
    name = outbound_name(document)
    stem, dot, suffix = name.rpartition(".")
    doc_id = document.document_id
    candidates = [name, f"{stem}.{doc_id}.{suffix}" if dot else f"{name}.{doc_id}"]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for candidate in candidates:
            target = folder / candidate
            if _same_content(target, document.data):
                return target  # delivered before (a retry after a crash): nothing to do
            if _write_new(target, document.data):
                return target
    except OSError as exc:
        raise DeliveryError(
            f"document {doc_id}: cannot write into {folder}: {exc.strerror or exc}"
        ) from exc
    raise DeliveryError(
        f"document {document.document_id}: {folder} already holds different files named "
        f"{' and '.join(candidates)}",
        retryable=True,  # the partner may pick them up
    )


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def _write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` atomically; False if the name already exists."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # No hard links on this file system: fall back to a plain atomic replace.
            if path.exists():
                return False
            atomic_write(path, data)
            return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return True
