"""Small file-system helpers for writes that must never be seen half-done."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: fsyncs that wait at the same time (see fsync_many).
PARALLEL_FSYNCS = 16
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either nothing or all of it.

    Temp file in the same folder, fsync, rename, fsync the folder: survives a crash, and a
    watcher never picks up a partial file (its name appears only when complete).
    """
    error = atomic_write_many([(path, data)])[0]
    if error is not None:
        raise error


def atomic_write_many(items: Sequence[tuple[Path, bytes]]) -> list[OSError | None]:
    """:func:`atomic_write` for a batch: every file is written to its temp file, the temp
    files are fsynced together (:func:`fsync_many`) and renamed into place, then each folder
    is fsynced once (a folder fsync costs as much as a file's, so a batch into one folder
    pays it once, not once per file).

    Folders it makes are fsynced into their parents too, with the same batch.

    Returns, per item, None once the file is durable under its name, or the error.
    """
    errors: list[OSError | None] = [None] * len(items)
    ready: set[Path] = set()
    made: list[Path] = []
    temps: dict[int, Path] = {}
    mode = file_mode()
    for index, (path, data) in enumerate(items):
        folder = path.parent
        try:
            if folder not in ready:
                made.extend(make_dirs(folder))
                ready.add(folder)
            temps[index] = write_temp(folder, path.name, data, mode)
        except OSError as exc:
            errors[index] = exc
    folders: dict[Path, list[int]] = {}
    synced = fsync_many(list(temps.values()))
    for (index, tmp), error in zip(temps.items(), synced, strict=True):
        try:
            if error is not None:
                raise error
            os.replace(tmp, items[index][0])
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            errors[index] = exc
            continue
        for folder in folders_to_sync(items[index][0].parent, made):
            folders.setdefault(folder, []).append(index)
    for indexes, error in zip(folders.values(), fsync_many(list(folders)), strict=True):
        if error is not None:
            for index in indexes:
                errors[index] = error
    return errors


def folders_to_sync(folder: Path, made: Sequence[Path]) -> list[Path]:
    """The folders whose fsync makes a new name in ``folder`` durable: ``folder``, and the
    parent of each folder in ``made`` on its path (a new folder's name is an entry of its
    parent, lost in a crash like a file's until the parent is fsynced)."""
    return [folder, *(new.parent for new in made if new == folder or new in folder.parents)]


def make_dirs(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; returns the folders that were missing,
    outermost first. The caller fsyncs each one's parent before it counts a file in them
    durable. One made meanwhile by another thread is listed too: this caller cannot tell
    whether its maker has fsynced it yet."""
    missing: list[Path] = []
    path = folder
    while path != path.parent and not path.is_dir():
        missing.append(path)
        path = path.parent
    missing.reverse()
    for path in missing:
        path.mkdir(exist_ok=True)
    return missing


def write_temp(folder: Path, name: str, data: bytes, mode: int | None = None) -> Path:
    """A hidden temp file ``.<name>.*.tmp`` in ``folder`` holding ``data``, not yet
    fsynced: the caller fsyncs a batch of them together (:func:`fsync_many`) before
    renaming or linking any to its final name (in the same folder, so on the same disk).

    Its mode is what ``open()`` would give (0666 less the umask), not mkstemp's 0600: these
    files are for others (the ERP's user, a folder a partner's job reads), and the umask is
    how an operator says who may read them (systemd ``UMask=0027``). A caller writing a
    batch passes ``mode`` (:func:`file_mode`), read once for the batch."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), file_mode() if mode is None else mode)
            out.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def file_mode() -> int:
    """The mode open() gives a new file: 0666 less the process umask."""
    return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask, read from /proc (os.umask can only read it by setting it,
    which would race with other threads creating files); 0o022 where /proc says nothing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_many(paths: Sequence[Path | str]) -> list[OSError | None]:
    """fsync each file or folder in ``paths``; per path, None once durable, or the error.

    Several are fsynced at the same time, from a small thread pool: the file system
    commits its journal once for all the fsyncs waiting on it, so a batch costs about one
    fsync instead of one each (a single thread would wait for a commit per call). Each
    path is still fsynced, and this returns only when all of them are done.
    """
    if len(paths) <= 1:
        return [_fsync_path(path) for path in paths]
    return list(_fsync_pool().map(_fsync_path, paths))


def _fsync_path(path: Path | str) -> OSError | None:
    try:
        fsync_dir(Path(path))  # O_RDONLY then fsync: files and folders alike
    except OSError as exc:
        return exc
    return None


def _fsync_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(PARALLEL_FSYNCS, thread_name_prefix="edigate-fsync")
        return _pool


def is_hidden_or_partial(path: Path) -> bool:
    """Names a writer uses while a file is incomplete: dotfiles and ``*.tmp``/``*.part``."""
    return path.name.startswith(".") or path.suffix.lower() in (".tmp", ".part", ".filepart")
