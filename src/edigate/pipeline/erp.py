"""The ERP connector, folder flavour (the default): JSON files in, JSON files out.

::

    <root>/outbox/orders/        canonical orders for the ERP (atomic: complete or absent)
    <root>/inbox/acks/           OrderAck JSON from the ERP  -> 855
    <root>/inbox/shipments/      Shipment JSON from the ERP  -> 856
    <root>/inbox/invoices/       Invoice JSON from the ERP   -> 810
    <root>/inbox/rejected/       ERP files we could not take, each with <name>.error.txt
    <root>/inbox/processed/      ERP files taken into the store

An outbox file's name is derived from the inbound document and transaction, so writing it
again after a crash replaces it instead of handing the ERP the same order twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_write, is_hidden_or_partial

INBOX_KINDS = ("acks", "shipments", "invoices")


@dataclass(frozen=True, slots=True)
class ErpFile:
    kind: str  # acks | shipments | invoices
    path: Path


class ErpFolder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.outbox = root / "outbox"
        self.inbox = root / "inbox"
        for folder in (
            self.outbox / "orders",
            *(self.inbox / kind for kind in INBOX_KINDS),
            self.inbox / "rejected",
            self.inbox / "processed",
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def deliver(self, kind: str, name: str, data: bytes) -> Path:
        """Write one document for the ERP under ``outbox/<kind>/<name>``, atomically."""
        path = self.outbox / kind / _safe_name(name)
        atomic_write(path, data)
        return path

    def pending(self) -> Iterator[ErpFile]:
        """Complete ``*.json`` files waiting in the inbox folders, oldest name first."""
        for kind in INBOX_KINDS:
            for path in sorted((self.inbox / kind).glob("*.json")):
                if path.is_file() and not is_hidden_or_partial(path):
                    yield ErpFile(kind, path)

    def processed(self, item: ErpFile, document_id: int) -> Path:
        """Move a file the store now holds out of the way (prefixed with its document id)."""
        return _move(item.path, self.inbox / "processed" / f"{document_id}-{item.path.name}")

    def reject(self, item: ErpFile, error: str) -> Path:
        """Move a bad ERP file aside with the reason next to it; it is never deleted."""
        target = _move(item.path, self.inbox / "rejected" / f"{item.kind}-{item.path.name}")
        atomic_write(target.with_name(target.name + ".error.txt"), error.encode() + b"\n")
        return target


def _move(src: Path, dst: Path) -> Path:
    n = 1
    final = dst
    while final.exists():
        final = dst.with_name(f"{dst.stem}.{n}{dst.suffix}")
        n += 1
    shutil.move(str(src), final)
    return final


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cleaned.lstrip(".") or "document"
