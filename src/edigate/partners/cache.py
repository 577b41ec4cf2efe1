"""A registry that follows the files: reloaded when anything under partners/ or maps/
changes, or a SKU table a map names outside them.

Reprocessing "with today's maps" and editing a map while the gateway runs both need this.
A broken edit keeps the last good registry in service and reports why. A change is taken
only once the files have stood still for ``settle`` seconds (default: ``check_every``): a
SKU CSV caught half copied still parses, and would reject every line past the cut.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from pathlib import Path

from .errors import ConfigErrors
from .registry import Registry, load_registry

log = logging.getLogger("edigate.partners")

Stamp = tuple[tuple[str, int, int], ...]


class RegistryCache:
    def __init__(
        self, config_dir: Path, *, check_every: float = 1.0, settle: float | None = None
    ) -> None:
        self.config_dir = Path(config_dir)
        self.check_every = check_every
        #: How long changed files must stay unchanged before they are loaded (None: as long
        #: as ``check_every``; 0: at once).
        self.settle = settle
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._stamp: Stamp = ()
        self._checked = 0.0
        #: A change seen but not loaded yet, and since when it has stood.
        self._pending: tuple[Stamp, float] | None = None

    def get(self) -> Registry:
        """The current registry; raises ConfigErrors only if no version ever loaded."""
        with self._lock:
            now = time.monotonic()
            if self._registry is not None and now - self._checked < self.check_every:
                return self._registry
            self._checked = now
            folders = self._folder_stamp()
            outside = self._outside_stamp(self._registry) if self._registry is not None else ()
            stamp = folders + outside
            if self._registry is not None and stamp != self._stamp:
                settle = self.check_every if self.settle is None else self.settle
                if not self._settled(stamp, settle):
                    if self._pending is None or self._pending[0] != stamp:
                        self._pending = (stamp, now)  # changed since the last look: moving
                    if now - self._pending[1] < settle:
                        return self._registry
            if self._registry is None or stamp != self._stamp:
                try:
                    registry = load_registry(self.config_dir)
                    self._registry = registry
                    # The tables outside the folders are known once loaded: stamp them now,
                    # or the next look would take them for a change and load again.
                    self._stamp = folders + self._outside_stamp(registry)
                    self._pending = None
                except ConfigErrors as exc:
                    if self._registry is None:
                        raise
                    log.error("partner configuration not reloaded: %s", exc)
            return self._registry

    @staticmethod
    def _settled(stamp: Stamp, settle: float) -> bool:
        """Every file was last written ``settle`` seconds ago or more (an edit made while
        the gateway was idle loads at once, on the first document after it)."""
        newest = max((mtime for _, mtime, _ in stamp), default=0)
        return time.time_ns() - newest >= settle * 1e9

    def _folders(self) -> tuple[Path, Path]:
        return (self.config_dir / "partners", self.config_dir / "maps")

    def _folder_stamp(self) -> Stamp:
        files = []
        for base in self._folders():
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    try:
                        st = path.stat()
                    except OSError:
                        continue  # gone since listed (an editor's temporary file)
                    if stat.S_ISREG(st.st_mode):
                        files.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(files)

    def _outside_stamp(self, registry: Registry) -> Stamp:
        """The files ``registry`` was read from outside partners/ and maps/ (a SKU table
        named ``file: /srv/erp/skus.csv`` or ``../erp/skus.csv``); one gone is a change
        too (its reload names the missing file)."""
        folders = [os.path.realpath(base) for base in self._folders()]
        files = []
        for name in registry.files:
            real = os.path.realpath(name)
            if any(os.path.commonpath([real, base]) == base for base in folders):
                continue  # listed with its folder
            try:
                st = os.stat(real)
            except OSError:
                files.append((real, 0, -1))
                continue
            files.append((real, st.st_mtime_ns, st.st_size))
        return tuple(files)
