"""Small file-system helpers for writes that must never be seen half-done."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either nothing or all of it.

    Temp file in the same folder, fsync, rename, fsync the folder: survives a crash, and a
    watcher never picks up a partial file (its name appears only when complete).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_hidden_or_partial(path: Path) -> bool:
    """Names a writer uses while a file is incomplete: dotfiles and ``*.tmp``/``*.part``."""
    return path.name.startswith(".") or path.suffix.lower() in (".tmp", ".part", ".filepart")
