"""Small file-system helpers for writes that must never be seen half-done."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either nothing or all of it.

    Temp file in the same folder, fsync, rename, fsync the folder: survives a crash, and a
    watcher never picks up a partial file (its name appears only when complete).
    """
    error = atomic_write_many([(path, data)])[0]
    if error is not None:
        raise error


def atomic_write_many(items: Sequence[tuple[Path, bytes]]) -> list[OSError | None]:
    """:func:`atomic_write` for a batch: each file is written, fsynced and renamed into
    place, then each folder is fsynced once (a folder fsync costs as much as a file's, so a
    batch into one folder pays it once, not once per file).

    Returns, per item, None once the file is durable under its name, or the error.
    """
    errors: list[OSError | None] = [None] * len(items)
    folders: dict[Path, list[int]] = {}
    for index, (path, data) in enumerate(items):
        folder = path.parent
        try:
            if folder not in folders:
                folder.mkdir(parents=True, exist_ok=True)
            tmp = write_synced_temp(folder, path.name, data)
            try:
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            errors[index] = exc
            continue
        folders.setdefault(folder, []).append(index)
    for folder, indexes in folders.items():
        try:
            fsync_dir(folder)
        except OSError as exc:
            for index in indexes:
                errors[index] = exc
    return errors


def write_synced_temp(folder: Path, name: str, data: bytes) -> Path:
    """A hidden temp file ``.<name>.*.tmp`` in ``folder`` holding ``data``, fsynced: ready
    to be renamed or linked to its final name (in the same folder, so on the same disk)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_hidden_or_partial(path: Path) -> bool:
    """Names a writer uses while a file is incomplete: dotfiles and ``*.tmp``/``*.part``."""
    return path.name.startswith(".") or path.suffix.lower() in (".tmp", ".part", ".filepart")
