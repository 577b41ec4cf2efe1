"""A stable worker name is held by one live process at a time.

A worker frees the claims of its own name when it starts (``pipeline.claims``): they were
its predecessor's. That is only true while no live process works under the name, and the
database cannot tell (commits are fenced by name, so two workers under one name both pass).
Two ways it could happen: serve killed with ``kill -9`` on a plain host, whose worker
processes (``NAME/1`` ...) finish their batch before they notice, while a restarted serve
starts new ones; and two gateways started with one ``--name``. So a named worker holds a
lock file under the data dir (``workers/<name>.lock``, ``flock``) for its life, and takes
its name's claims back only once it holds it; the kernel drops the lock when the process
dies, however it dies. Default names (``host:pidns:pid:tag``) are unique and need none.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from urllib.parse import quote

from ..store import Store

#: How often a worker whose name is held looks again.
NAME_WAIT_SECONDS = 1.0


def name_lock(store: Store, name: str) -> NameLock:
    """The lock of ``name`` for workers of ``store`` (under its data dir, beside blobs/)."""
    return NameLock(store.blobs.root.parent / "workers", name)


class NameLock:
    """The lock of one worker name; :meth:`try_acquire` never blocks."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{quote(name, safe='')}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no live process holds it (True), else False at once."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor drops the flock

    def __del__(self) -> None:
        self.release()
