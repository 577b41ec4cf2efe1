"""Watched folders: documents in from a local (or mounted) folder, and out to one.

Inbound, a file is taken only when it is complete: its name is final (not a dotfile,
``*.tmp``, ``*.part``), it matches ``pattern``, and its size and modification time were the
same at two looks at least ``settle_seconds`` apart. Only after the handler stored it is it
moved to the archive folder (or deleted); if the handler fails, it stays for the next round.

Outbound, a document is written complete under its final name, never replacing another
file (see :mod:`.outfiles`).

A watched folder that does not exist is created (``mkdir -p``, one info line), as edigate
creates its other folders. One that cannot be (permissions, a parent that is a file) or
cannot be read is one error line naming it and why, without a traceback; the rounds go on
retrying quietly and log again only when the reason changes or the folder is back.

Usage::

    inbound = FolderInbound(Path("drop/acme"), store_handler(store), partner_id="acme")
    inbound.start()                              # polls every `interval` seconds
    FolderOutbound(Path("outbox")).send(doc)     # -> outbox/<partner_id>/<filename>
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..events import Events, EventSink
from ..fsutil import is_hidden_or_partial
from ..store import Receipt
from .base import Delivery, Handler, Inbound, Outbound
from .outfiles import FolderPlacer
from .polling import PollLoop
from .sftp_fs import check_partner_id

log = logging.getLogger("edigate.folder")

Signature = tuple[int, int]  # size, mtime in ns


@dataclass
class _Look:
    signature: Signature
    since: float  # when this signature was first seen


class FolderInbound:
    """Take complete files from ``directory``; ``poll_once()`` is one round.

    ``archive_dir`` defaults to ``directory/archive``; ``delete=True`` deletes instead.
    ``partner_id`` None means the partner is identified later, from the content.
    """

    def __init__(
        self,
        directory: Path,
        handler: Handler,
        *,
        partner_id: str | None = None,
        pattern: str = "*",
        settle_seconds: float = 2.0,
        archive_dir: Path | None = None,
        delete: bool = False,
        interval: float = 5.0,
        channel: str = "folder",
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self.handler = handler
        self.partner_id = partner_id
        self.pattern = pattern
        self.settle_seconds = settle_seconds
        self.archive_dir = None if delete else Path(archive_dir or self.directory / "archive")
        self.channel = channel
        self.events = Events(log, on_event)
        self.loop = PollLoop(self.poll_once, interval, f"folder {self.directory}")
        self._clock = clock
        self._looks: dict[str, _Look] = {}
        self._stored: dict[str, Signature] = {}  # stored, but not yet archived
        self._problem: str | None = None  # why the folder is unusable, as last logged

    def start(self) -> None:
        self._ready()  # created (or its problem logged) before serve says it is watching
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def poll_once(self) -> list[Receipt]:
        """Look at the folder; take every file that has been stable for the settle time."""
        now = self._clock()
        if not self._ready():
            return []
        try:
            current = self._scan()
        except OSError as exc:  # removed, or made unreadable, since _ready()
            self._unusable(exc)
            return []
        for gone in set(self._looks) - set(current):
            del self._looks[gone]
        receipts = []
        for name, signature in sorted(current.items()):
            if self._stored.get(name) == signature:
                self._put_away(name, signature)  # stored last round; only archiving failed
                continue
            look = self._looks.get(name)
            if look is None or look.signature != signature:
                self._looks[name] = _Look(signature, now)
                continue
            if now - look.since < self.settle_seconds:
                continue
            receipt = self._take(name, signature)
            if receipt is not None:
                receipts.append(receipt)
        return receipts

    def _ready(self) -> bool:
        """Make sure the folder exists (create it if not); False, logged, if it cannot."""
        try:
            created = _make_folder(self.directory)
        except OSError as exc:
            self._unusable(exc)
            return False
        if created:
            self.events.emit("folder_created", logging.INFO, **self._fields())
        elif self._problem is not None:
            self.events.emit("folder_available", logging.INFO, **self._fields())
        self._problem = None
        return True

    def _unusable(self, exc: OSError) -> None:
        """Log why the folder cannot be used, once per reason: a round every few seconds
        must not repeat it (nor print a traceback for what is a setup problem)."""
        reason = exc.strerror or str(exc)
        if exc.filename is not None and str(exc.filename) != str(self.directory):
            reason = f"{reason}: {exc.filename}"
        if reason != self._problem:
            self.events.emit(
                "folder_unavailable",
                logging.ERROR,
                **self._fields(),
                error=reason,
                retry_seconds=self.loop.interval,
            )
        self._problem = reason

    def _scan(self) -> dict[str, Signature]:
        found = {}
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if is_hidden_or_partial(Path(entry.name)):
                    continue
                if not fnmatch.fnmatchcase(entry.name, self.pattern):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):  # links and folders (the archive) are not taken
                    found[entry.name] = (st.st_size, st.st_mtime_ns)
        return found

    def _take(self, name: str, signature: Signature) -> Receipt | None:
        path = self.directory / name
        fields = self._fields(filename=name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as src:
                data = src.read()
                st = os.fstat(src.fileno())
        except OSError as exc:
            self.events.emit("file_failed", logging.WARNING, **fields, error=f"read: {exc}")
            return None
        if (st.st_size, st.st_mtime_ns) != signature or len(data) != signature[0]:
            self._looks[name] = _Look((st.st_size, st.st_mtime_ns), self._clock())
            self.events.emit("file_skipped", logging.INFO, **fields, reason="changed while read")
            return None
        try:
            receipt = self.handler(
                Inbound(
                    data=data,
                    channel=self.channel,
                    partner_id=self.partner_id,
                    filename=name,
                    meta={"path": str(path)},
                )
            )
        except Exception as exc:  # the file stays where it is: the next round retries it
            self.events.emit("file_failed", logging.ERROR, **fields, error=f"store: {exc}")
            return None
        self.events.emit(
            "file_received", logging.INFO, **fields, size=len(data), document_id=receipt.document_id
        )
        self._looks.pop(name, None)
        self._stored[name] = signature
        self._put_away(name, signature)
        return receipt

    def _put_away(self, name: str, signature: Signature) -> None:
        path = self.directory / name
        try:
            if self.archive_dir is None:
                path.unlink()
            else:
                self.archive_dir.mkdir(parents=True, exist_ok=True)
                target = self.archive_dir / name
                if target.exists():
                    target = target.with_name(f"{name}.{time.strftime('%Y%m%d%H%M%S')}")
                    n = 1
                    base = target.name
                    while target.exists():
                        target = target.with_name(f"{base}.{n}")
                        n += 1
                shutil.move(path, target)
        except FileNotFoundError:
            pass  # someone else removed it: nothing left to put away
        except OSError as exc:
            self.events.emit(
                "cleanup_failed", logging.WARNING, **self._fields(filename=name), error=str(exc)
            )
            return
        self._stored.pop(name, None)

    def _fields(self, **extra: Any) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "partner": self.partner_id,
            "folder": str(self.directory),
            **extra,
        }


def _make_folder(path: Path) -> bool:
    """``mkdir -p path``; True if this call created it. A file in its place is an error."""
    if path.is_dir():
        return False
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        if path.is_dir():
            return False  # created by someone else meanwhile
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(path)) from None
    return True


class FolderOutbound(FolderPlacer):
    """OutboundChannel: write documents into ``directory`` (``/<partner_id>/`` per partner)."""

    def __init__(self, directory: Path, *, per_partner: bool = True) -> None:
        self.directory = Path(directory)
        self.per_partner = per_partner

    def folder_for(self, document: Outbound) -> Path:
        if not self.per_partner:
            return self.directory
        return self.directory / check_partner_id(document.partner_id)

    def delivered(self, path: Path) -> Delivery:
        return Delivery(f"written to {path}", meta={"path": str(path)})
