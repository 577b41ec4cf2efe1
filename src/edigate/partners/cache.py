"""A registry that follows the files: reloaded when anything under partners/ or maps/ changes.

Reprocessing "with today's maps" and editing a map while the gateway runs both need this.
A broken edit keeps the last good registry in service and reports why.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from .errors import ConfigErrors
from .registry import Registry, load_registry

log = logging.getLogger("edigate.partners")


class RegistryCache:
    def __init__(self, config_dir: Path, *, check_every: float = 1.0) -> None:
        self.config_dir = Path(config_dir)
        self.check_every = check_every
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._stamp: tuple[tuple[str, float, int], ...] = ()
        self._checked = 0.0

    def get(self) -> Registry:
        """The current registry; raises ConfigErrors only if no version ever loaded."""
        with self._lock:
            now = time.monotonic()
            if self._registry is not None and now - self._checked < self.check_every:
                return self._registry
            self._checked = now
            stamp = self._fingerprint()
            if self._registry is None or stamp != self._stamp:
                try:
                    self._registry = load_registry(self.config_dir)
                    self._stamp = stamp
                except ConfigErrors as exc:
                    if self._registry is None:
                        raise
                    log.error("partner configuration not reloaded: %s", exc)
            return self._registry

    def _fingerprint(self) -> tuple[tuple[str, float, int], ...]:
        files = []
        for folder in ("partners", "maps"):
            base = self.config_dir / folder
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file():
                        st = path.stat()
                        files.append((str(path), st.st_mtime, st.st_size))
        return tuple(files)
