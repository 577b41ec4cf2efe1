"""Placing an outbound document in a folder someone else reads (SFTP pickup, folder out).

The reader must never see a partial file, and a document must never silently replace
another one that was not picked up yet. So the bytes go to a hidden temp file (fsynced;
a batch's temp files together), which is then hard-linked to its final name: the link
appears complete, and fails if the name is taken (unlike a rename, which would
overwrite). A name that is taken by the same bytes is a redelivery and succeeds; by other
bytes, the document id is added to the name.
"""

from __future__ import annotations

import contextlib
import errno
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from ..fsutil import file_mode, fsync_many, is_hidden_or_partial, write_temp
from .base import Delivery, DeliveryError, Outbound, send_one
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
    placed = place_files([(folder, document)])[0]
    if isinstance(placed, DeliveryError):
        raise placed
    return placed


def place_files(batch: Sequence[tuple[Path, Outbound]]) -> list[Path | DeliveryError]:
    """:func:`place_file` for many documents, each into its folder: every file is written,
    the files are fsynced together (:func:`fsync_many`) and linked under their names, then
    each folder is fsynced once for the batch.

    Returns, per document, its final path (durable) or why it could not be placed.
    """
    results: list[Path | DeliveryError | None] = [None] * len(batch)
    made: set[Path] = set()
    temps: dict[int, Path] = {}
    mode = file_mode()
    for index, (folder, document) in enumerate(batch):
        try:
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            name = outbound_name(document)
            if _same_content(folder / name, document.data):
                results[index] = folder / name  # delivered before (a retry after a crash)
                continue
            temps[index] = write_temp(folder, name, document.data, mode)
        except DeliveryError as exc:
            results[index] = exc
        except OSError as exc:
            results[index] = _cannot_write(document, folder, exc)
    try:
        synced = fsync_many(list(temps.values()))
        for (index, tmp), error in zip(temps.items(), synced, strict=True):
            folder, document = batch[index]
            try:
                if error is not None:
                    raise error
                results[index] = _place(folder, document, tmp)
            except DeliveryError as exc:
                results[index] = exc
            except OSError as exc:
                results[index] = _cannot_write(document, folder, exc)
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    folders: dict[Path, list[int]] = {}
    for index, placed in enumerate(results):
        if isinstance(placed, Path):
            folders.setdefault(batch[index][0], []).append(index)
    # Also for a name found in place: it may not be durable yet.
    for (folder, indexes), error in zip(folders.items(), fsync_many(list(folders)), strict=True):
        if error is not None:
            for index in indexes:
                results[index] = _cannot_write(batch[index][1], folder, error)
    return [r if r is not None else DeliveryError("not placed") for r in results]


def _place(folder: Path, document: Outbound, tmp: Path) -> Path:
    """Link the fsynced ``tmp`` holding ``document`` into ``folder`` under its name (or its
    name with the document id); the folder still needs an fsync."""
    name = outbound_name(document)
    stem, dot, suffix = name.rpartition(".")
    doc_id = document.document_id
    candidates = [name, f"{stem}.{doc_id}.{suffix}" if dot else f"{name}.{doc_id}"]
    for candidate in candidates:
        target = folder / candidate
        # A name taken by the same bytes: delivered before (a retry after a crash).
        if _link_new(tmp, target) or _same_content(target, document.data):
            return target
    raise DeliveryError(
        f"document {doc_id}: {folder} already holds different files named "
        f"{' and '.join(candidates)}",
        retryable=True,  # the partner may pick them up
    )


def _cannot_write(document: Outbound, folder: Path, exc: OSError) -> DeliveryError:
    return DeliveryError(
        f"document {document.document_id}: cannot write into {folder}: {exc.strerror or exc}"
    )


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def _link_new(tmp: Path, path: Path) -> bool:
    """Give the complete, fsynced ``tmp`` the name ``path``; False if the name is taken."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # No hard links on this file system: fall back to a rename (which could replace).
        if path.exists():
            return False
        os.rename(tmp, path)
    return True


class FolderPlacer(ABC):
    """An outbound channel that places documents in folders: subclasses say which folder a
    document goes to and how its delivery reads; the batch logic lives here once."""

    @abstractmethod
    def folder_for(self, document: Outbound) -> Path:
        """The folder of ``document``; ValueError when its partner id cannot name one."""

    @abstractmethod
    def delivered(self, path: Path) -> Delivery:
        """The delivery record of a document placed (durably) at ``path``."""

    def send(self, document: Outbound) -> Delivery:
        return send_one(self, document)

    def send_many(self, documents: Sequence[Outbound]) -> list[Delivery | DeliveryError]:
        """Place a batch: every file fsynced, each folder fsynced once for the batch."""
        results: list[Delivery | DeliveryError | None] = [None] * len(documents)
        batch: list[tuple[Path, Outbound]] = []
        positions: list[int] = []
        for index, document in enumerate(documents):
            try:
                batch.append((self.folder_for(document), document))
            except ValueError as exc:
                results[index] = DeliveryError(str(exc), retryable=False)
                continue
            positions.append(index)
        for index, placed in zip(positions, place_files(batch), strict=True):
            results[index] = placed if isinstance(placed, DeliveryError) else self.delivered(placed)
        return [r for r in results if r is not None]

    def close(self) -> None:  # noqa: B027 - nothing to release: each batch opens its own files
        """Folders hold no connection between batches."""
