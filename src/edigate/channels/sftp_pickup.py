"""Outbound by pickup: documents wait in the partner's ``/out`` on our SFTP server.

A document appears there complete under its final name (see :mod:`.outfiles`), so a
partner polling ``/out`` never downloads half a file. Partners delete what they fetched;
:meth:`SftpPickup.purge` deletes what they left behind for longer than the retention.

Usage::

    pickup = SftpPickup(Path("var/sftp"), retention_days=30)
    pickup.send(outbound)        # -> Delivery("ready for pickup at /out/855_0001.edi")
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..fsutil import is_hidden_or_partial
from .base import Delivery, Outbound
from .outfiles import FolderPlacer
from .sftp_fs import PartnerTree

log = logging.getLogger("edigate.sftp")

#: A temp file this old is the leftover of a crashed write, not a write in progress.
STALE_TEMP_SECONDS = 24 * 3600.0


class SftpPickup(FolderPlacer):
    """OutboundChannel that drops documents into ``<root>/<partner_id>/out/``."""

    def __init__(self, root: Path, *, retention_days: float | None = None) -> None:
        self.root = Path(root)
        self.retention_days = retention_days

    def folder_for(self, document: Outbound) -> Path:
        return PartnerTree(self.root, document.partner_id).out_dir

    def delivered(self, path: Path) -> Delivery:
        return Delivery(
            f"ready for pickup at /out/{path.name}",
            meta={"path": str(path), "pickup": f"/out/{path.name}"},
        )

    def purge(self, *, now: float | None = None) -> list[Path]:
        """Delete pickup files older than the retention (and stale temp files); returns them."""
        if self.retention_days is None or not self.root.is_dir():
            return []
        now = time.time() if now is None else now
        cutoff = now - self.retention_days * 86400
        removed = []
        for out_dir in sorted(self.root.glob("*/out")):
            if out_dir.is_symlink() or not out_dir.is_dir():
                continue
            for path in sorted(out_dir.iterdir()):
                try:
                    st = path.lstat()
                except FileNotFoundError:
                    continue
                if path.is_symlink() or not path.is_file():
                    continue
                limit = now - STALE_TEMP_SECONDS if is_hidden_or_partial(path) else cutoff
                if st.st_mtime < limit:
                    path.unlink(missing_ok=True)
                    removed.append(path)
                    log.info(
                        "pickup_expired partner=%s filename=%s age_days=%.1f",
                        out_dir.parent.name,
                        path.name,
                        (now - st.st_mtime) / 86400,
                    )
        return removed
