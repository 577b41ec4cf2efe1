"""The ERP connector, folder flavour (the default): JSON files in, JSON files out.

::

    <root>/outbox/orders/        canonical orders for the ERP (atomic: complete or absent)
    <root>/outbox/orders-test/   the same, from partners' test interchanges (ISA15 T)
    <root>/inbox/acks/           OrderAck JSON from the ERP  -> 855
    <root>/inbox/shipments/      Shipment JSON from the ERP  -> 856
    <root>/inbox/invoices/       Invoice JSON from the ERP   -> 810
    <root>/inbox/<kind>/<partner-id>/   the same, for one partner (when no PO names it)
    <root>/inbox/rejected/       ERP files we could not take or then refused, each with
                                 <name>.error.txt
    <root>/inbox/processed/      ERP files taken into the store

An outbox file's name is derived from the inbound document and transaction, so writing it
again after a crash replaces it instead of handing the ERP the same order twice.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from ..fsutil import atomic_write, atomic_write_many, is_hidden_or_partial

INBOX_KINDS = ("acks", "shipments", "invoices")
#: The meta key of an order for the ERP from a partner's test interchange (ISA15 T).
TEST_KEY = "test"
CLAIM_SUFFIX = ".taking"
#: The longest file name most file systems take (bytes).
_NAME_MAX = 255


@dataclass(frozen=True, slots=True)
class ErpFile:
    kind: str  # acks | shipments | invoices
    path: Path
    #: The partner subfolder it came from (``inbox/<kind>/<partner-id>/``), if any.
    partner_id: str | None = None
    #: The file's own name while it is claimed under a temporary one (see ``claim``).
    original: str | None = None

    @property
    def name(self) -> str:
        return self.original or self.path.name

    @property
    def shown(self) -> str:
        """Where the ERP put it, relative to the inbox: ``acks/acme-retail/ack-1.json``."""
        folder = f"{self.kind}/{self.partner_id}" if self.partner_id else self.kind
        return f"{folder}/{self.name}"


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

    def deliver_many(self, documents: Sequence[tuple[str, str, bytes]]) -> list[Path | OSError]:
        """:meth:`deliver` for a batch of ``(kind, name, data)``: each file fsynced and
        renamed into place, each outbox folder fsynced once. Per document: its path, durable
        under its name, or the error."""
        paths = [self.outbox / kind / _safe_name(name) for kind, name, _ in documents]
        errors = atomic_write_many([(p, d[2]) for p, d in zip(paths, documents, strict=True)])
        return [path if error is None else error for path, error in zip(paths, errors, strict=True)]

    def pending(self) -> Iterator[ErpFile]:
        """Complete ``*.json`` files waiting in the inbox folders (and their partner
        subfolders), oldest name first."""
        for kind in INBOX_KINDS:
            folder = self.inbox / kind
            for path in sorted(folder.glob("*.json")):
                if path.is_file() and not is_hidden_or_partial(path):
                    yield ErpFile(kind, path)
            for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
                if is_hidden_or_partial(sub):
                    continue
                for path in sorted(sub.glob("*.json")):
                    if path.is_file() and not is_hidden_or_partial(path):
                        yield ErpFile(kind, path, sub.name)

    def claim(self, item: ErpFile, taker: str | None = None) -> ErpFile | None:
        """Rename ``item`` to a hidden name only this taker knows; None if another took it.

        A rename is atomic, so two workers polling one shared inbox never store a file twice.
        The hidden name carries the time of the claim, for :meth:`release_stale`, and the
        stable name of the worker taking it (``taker``), so that worker restarted takes it
        back at once (:meth:`release_taken_by`).
        """
        token = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
        hidden = item.path.with_name(f".{item.path.name}.{token}{CLAIM_SUFFIX}")
        if taker:
            named = hidden.with_name(f".{item.path.name}.{token}-{_tag(taker)}{CLAIM_SUFFIX}")
            if len(os.fsencode(named.name)) <= _NAME_MAX:  # else only the timeout frees it
                hidden = named
        try:
            os.rename(item.path, hidden)
        except FileNotFoundError:
            return None
        return ErpFile(item.kind, hidden, item.partner_id, item.path.name)

    def unclaim(self, item: ErpFile) -> Path:
        """Put a claimed file back under its own name (storing it failed; try again later)."""
        back = item.path.with_name(item.name)
        os.rename(item.path, back)
        return back

    def release_stale(self, older_than: float, *, now: float | None = None) -> int:
        """Give back files whose taker died holding them (claimed more than ``older_than``
        seconds ago): they reappear under their own name and are taken again."""
        cutoff = (time.time() if now is None else now) - older_than
        return self._give_back(lambda claim: claim.stamp < cutoff)

    def release_taken_by(self, takers: Collection[str]) -> int:
        """Give back at once the files the workers named ``takers`` were taking: each name's
        predecessor, dead (the caller holds the name: ``pipeline.name_locks``)."""
        wanted = set(takers)
        return self._give_back(lambda claim: claim.taker in wanted)

    def takers(self) -> set[str]:
        """The names of the workers taking files now (or that died taking them)."""
        return {c.taker for _, c in self._claims() if c.taker is not None}

    def _give_back(self, which: Callable[[_Claim], bool]) -> int:
        count = 0
        for hidden, claim in self._claims():
            if not which(claim):
                continue
            try:
                os.rename(hidden, hidden.with_name(claim.name))
            except FileNotFoundError:
                continue  # given back by another worker meanwhile, or taken
            count += 1
        return count

    def _claims(self) -> Iterator[tuple[Path, _Claim]]:
        for kind in INBOX_KINDS:
            for hidden in (self.inbox / kind).rglob(f".*{CLAIM_SUFFIX}"):
                claim = _Claim.of(hidden.name)
                if claim is not None:
                    yield hidden, claim

    def processed(self, item: ErpFile, document_id: int) -> Path:
        """Move a file the store now holds out of the way (prefixed with its document id)."""
        return _move(item.path, self.inbox / "processed" / f"{document_id}-{item.name}")

    def reject(self, item: ErpFile, error: str) -> Path:
        """Move a bad ERP file aside with the reason next to it; it is never deleted."""
        target = _move(item.path, self.inbox / "rejected" / f"{item.kind}-{item.name}")
        atomic_write(target.with_name(target.name + ".error.txt"), error.encode() + b"\n")
        return target

    def refused_later(self, document_id: int, shown: str, error: str, *, move: bool = True) -> None:
        """A file stored (and moved to processed/) that the worker then refused (its map,
        our validator, a duplicate...): moved on to rejected/ with the reason beside it, as
        a file refused on arrival is, so the ERP sees it was not sent. ``shown`` is where
        the ERP put it (``acks/acme-retail/ack-1.json``). With ``move`` false (a reprocess
        attempt, whose file its first run took care of), or when the processed copy is gone,
        only the reason is written, under a name of its own (no earlier report replaced)."""
        kind, _, rest = shown.partition("/")
        name = rest.rpartition("/")[2] or kind
        kept = self.inbox / "processed" / f"{document_id}-{name}"
        if move and kept.is_file():
            moved = _move(kept, self.inbox / "rejected" / f"{kind}-{name}")
            report = moved.with_name(moved.name + ".error.txt")
        else:
            report = _free(self.inbox / "rejected" / f"{kind}-{document_id}-{name}.error.txt")
        atomic_write(report, f"document {document_id}: {error}\n".encode())


@dataclass(frozen=True, slots=True)
class _Claim:
    """What a claimed file's hidden name says: ``.<name>.<stamp>-<random>[-<taker>].taking``."""

    name: str
    stamp: int
    taker: str | None

    @classmethod
    def of(cls, hidden: str) -> _Claim | None:
        name, _, token = hidden[1:].removesuffix(CLAIM_SUFFIX).rpartition(".")
        stamp, _, rest = token.partition("-")
        tag = rest.partition("-")[2]
        if not name or not stamp.isdigit():
            return None
        return cls(name, int(stamp), unquote(tag) if tag else None)


def _tag(taker: str) -> str:
    """A worker name as part of a file name: no ``/`` (``gw1/2``), no ``.`` (the claim's
    own separator)."""
    return quote(taker, safe="").replace(".", "%2E")


def _move(src: Path, dst: Path) -> Path:
    final = _free(dst)
    shutil.move(str(src), final)
    return final


def _free(dst: Path) -> Path:
    """``dst``, or ``<stem>.1<suffix>``, ``.2``...: the first name not taken."""
    n = 1
    final = dst
    while final.exists():
        final = dst.with_name(f"{dst.stem}.{n}{dst.suffix}")
        n += 1
    return final


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cleaned.lstrip(".") or "document"
