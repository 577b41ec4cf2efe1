"""Take the ERP's answers (acks, shipments, invoices) from its inbox folder into the store.

Each complete file in ``inbox/acks``, ``inbox/shipments`` or ``inbox/invoices`` (or in a
partner subfolder ``inbox/<kind>/<partner-id>/``) is parsed as the canonical model of its
folder, given to a partner, stored with :meth:`Store.receive` (channel ``erp``, direction in)
and only then moved to ``inbox/processed/``. A file that does not parse, or whose partner
cannot be told, moves to ``inbox/rejected/`` with an ``.error.txt`` naming the file, the
JSON path and line, and what was expected. Nothing is ever deleted.

The partner comes from the PO number: the partner whose order we received with that number
(its 850, or the order we gave the ERP). The subfolder names it when the document carries no
PO number, or when two partners used the same one; if both speak they must agree.

A file is claimed by an atomic rename before it is read, so any number of workers may poll
one shared inbox; one that dies holding a file gives it back after ``claim_timeout``, or at
once when a worker of its name starts (``--name``: the hidden name carries it). A file
stored but not yet moved when the process died is recognised by its bytes and name, and
only moved: the ERP's document is never stored twice.

Usage::

    inbox = ErpInbox(store, ErpFolder(root), registry)
    inbox.poll()                # -> how many files it took or rejected
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import and_, or_, select

from ..errors import EdigateError, StoreUnavailableError
from ..model import Invoice, OrderAck, Shipment
from ..partners import Registry
from ..store import Direction, Document, Status, Store
from ..store.statuses import ERP_CHANNEL
from .erp import ErpFile, ErpFolder

log = logging.getLogger("edigate.erp")


#: Per inbox folder: the model, its ``document_type`` and our ``doc_type`` for the row.
KINDS: dict[str, tuple[type[OrderAck] | type[Shipment] | type[Invoice], str, str]] = {
    "acks": (OrderAck, "order-ack", "order_ack"),
    "shipments": (Shipment, "shipment", "shipment"),
    "invoices": (Invoice, "invoice", "invoice"),
}
_FOLDER_OF = {document_type: kind for kind, (_, document_type, _) in KINDS.items()}
_WS = re.compile(r"[ \t\n\r]*")


class ErpInputError(EdigateError):
    """An ERP file we cannot take; the message is what its ``.error.txt`` says."""


@dataclass(frozen=True, slots=True)
class ErpDocument:
    """A parsed ERP file: the document and the keys the store indexes it by."""

    document: OrderAck | Shipment | Invoice
    doc_type: str
    po_numbers: tuple[str, ...]
    invoice_number: str | None = None
    shipment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of one file: stored as ``document_id``, or moved to ``rejected``."""

    file: str
    document_id: int | None = None
    rejected: Path | None = None
    reason: str | None = None
    partner_id: str | None = None
    #: Left in place: it does not parse yet and was written moments ago (still being
    #: written by an ERP that does not write under a temporary name and rename).
    waiting: bool = False


@dataclass
class ErpInbox:
    """The ERP inbox poller (a worker's periodic task, or a loop of its own)."""

    store: Store
    erp: ErpFolder
    registry: Callable[[], Registry]
    claim_timeout: float = 300.0
    #: A file that does not parse and was modified less than this long ago is left for a
    #: later round rather than rejected: a complete file is taken at once, one caught half
    #: written gets time to be finished.
    unfinished_grace: float = 10.0

    def poll(self, taker: str | None = None) -> int:
        """Take every complete file waiting; returns how many were stored or rejected.
        ``taker``: the stable name of the worker polling (``--name``), written on the files
        it claims so that worker restarted takes them back at once (:meth:`release`)."""
        self.erp.release_stale(self.claim_timeout)
        count = 0
        for item in self.erp.pending():
            claimed = self.erp.claim(item, taker)
            if claimed is None:
                continue  # another poller took it
            try:
                result = self.take(claimed)
                if result.waiting:
                    continue
            except StoreUnavailableError:
                self.erp.unclaim(claimed)  # left in place: the next round tries again
                raise  # no file can be taken now: the round ends
            except Exception:
                # Left in place for the next round; the files after it are still taken.
                self.erp.unclaim(claimed)
                log.exception("ERP file %s could not be taken; will retry", claimed.shown)
                continue
            if result.rejected is None:
                log.info("ERP file %s: document %s", result.file, result.document_id)
            else:
                log.warning(
                    "ERP file %s rejected, moved to %s: %s",
                    result.file,
                    result.rejected.relative_to(self.erp.root),
                    _first_line(result.reason or "", result.file),
                )
            count += 1
        return count

    def release(self, taker: str) -> int:
        """Give back at once the files a worker named ``taker`` was taking when it died;
        called by its successor once it holds the name (``Worker.release_dead_claims``)."""
        return self.erp.release_taken_by([taker])

    def take(self, item: ErpFile) -> Taken:
        """Store one (claimed) file, then move it to processed/; or reject it with why."""
        data = item.path.read_bytes()
        try:
            parsed = read_erp_document(data, item.kind, item.shown)
        except ErpInputError as exc:
            age = time.time() - item.path.stat().st_mtime
            if age < self.unfinished_grace:
                self.erp.unclaim(item)
                log.info(
                    "ERP file %s does not parse yet, left for a later round: %s", item.shown, exc
                )
                return Taken(item.shown, reason=str(exc), waiting=True)
            target = self.erp.reject(item, str(exc))
            return Taken(item.shown, rejected=target, reason=str(exc))
        try:
            partner_id = self._partner(parsed, item)
        except ErpInputError as exc:
            target = self.erp.reject(item, str(exc))
            return Taken(item.shown, rejected=target, reason=str(exc))
        doc_id = self._stored_before(data, item.name)
        if doc_id is None:
            receipt = self.store.receive(
                data,
                channel=ERP_CHANNEL,
                partner_id=partner_id,
                filename=item.name,
                fmt="json",
                doc_type=parsed.doc_type,
                po_number=parsed.po_numbers[0] if parsed.po_numbers else None,
                invoice_number=parsed.invoice_number,
                shipment_id=parsed.shipment_id,
                meta={
                    "erp_file": item.shown,
                    "doc_type": parsed.doc_type,  # kept by a reprocess, unlike the column
                    "po_numbers": list(parsed.po_numbers),
                    "partner_from": "folder" if item.partner_id else "po_number",
                },
            )
            doc_id = receipt.document_id
        self.erp.processed(item, doc_id)
        return Taken(item.shown, document_id=doc_id, partner_id=partner_id)

    # ------------------------------------------------------------------ partner
    def _partner(self, parsed: ErpDocument, item: ErpFile) -> str:
        registry = self.registry()
        folder = item.partner_id
        if folder is not None and registry.get(folder) is None:
            known = ", ".join(sorted(p.id for p in registry)) or "none"
            raise ErpInputError(
                f"{item.shown}: folder {item.kind}/{folder}/ names no configured partner; "
                f"expected one of: {known}"
            )
        owners = self._owners(parsed.po_numbers)
        named = sorted({p for ids in owners.values() for p in ids})
        if folder is not None:
            if named and folder not in named:
                po = next(po for po, ids in owners.items() if ids)
                raise ErpInputError(
                    f"{item.shown}: the file is in the folder of {folder}, but PO {po} was "
                    f"ordered by {', '.join(sorted(owners[po]))}"
                )
            return folder
        if not parsed.po_numbers:
            raise ErpInputError(
                f"{item.shown}: the {parsed.doc_type} has no PO number, so its partner is "
                f"unknown; expected a po_number, or the file in {item.kind}/<partner-id>/"
            )
        unknown = [po for po in parsed.po_numbers if not owners.get(po)]
        if unknown:
            raise ErpInputError(
                f"{item.shown}: PO {unknown[0]} was never received from a partner; expected "
                f"the PO number of an order we received, or the file in "
                f"{item.kind}/<partner-id>/ to name the partner"
            )
        if len(named) > 1:
            shared = ", ".join(f"PO {po}: {', '.join(sorted(ids))}" for po, ids in owners.items())
            raise ErpInputError(
                f"{item.shown}: its PO numbers belong to several partners ({shared}); "
                f"expected one partner, or the file in {item.kind}/<partner-id>/"
            )
        return named[0]

    def _owners(self, po_numbers: Sequence[str]) -> dict[str, set[str]]:
        """The partners each PO number was received from (their order, or the one we gave
        the ERP); the ERP's own documents do not count."""
        if not po_numbers:
            return {}
        owners: dict[str, set[str]] = {po: set() for po in po_numbers}
        with self.store.session() as session:
            rows = session.execute(
                select(Document.po_number, Document.partner_id)
                .where(
                    Document.po_number.in_(list(po_numbers)),
                    Document.partner_id.is_not(None),
                    or_(
                        and_(
                            Document.direction == Direction.INBOUND.value,
                            Document.channel != ERP_CHANNEL,
                        ),
                        and_(
                            Document.direction == Direction.OUTBOUND.value,
                            Document.channel == ERP_CHANNEL,
                            Document.doc_type == "order",
                        ),
                    ),
                )
                .distinct()
            ).all()
        for po, partner_id in rows:
            if po is not None and partner_id is not None:
                owners.setdefault(po, set()).add(partner_id)
        return owners

    def _stored_before(self, data: bytes, name: str) -> int | None:
        """The document already holding these bytes under this name (stored, then the
        process died before the file was moved).

        One that ended rejected or dead does not count: its file went to rejected/, and
        the same file put back in the inbox (the cause fixed: a SKU added, a map changed)
        is a new try, stored and run again, not swallowed as taken before."""
        digest = hashlib.sha256(data).hexdigest()
        with self.store.session() as session:
            found: int | None = session.scalars(
                select(Document.id)
                .where(
                    Document.blob_sha256 == digest,
                    Document.filename == name,
                    Document.channel == ERP_CHANNEL,
                    Document.direction == Direction.INBOUND.value,
                    Document.reprocess_of_id.is_(None),
                    Document.status.not_in(_GIVEN_UP),
                )
                .order_by(Document.id.desc())
                .limit(1)
            ).first()
        return found


def _first_line(reason: str, shown: str) -> str:
    """The first line of a rejection's reason, for a log line that names the file already."""
    return reason.partition("\n")[0].removeprefix(f"{shown}: ")


#: An ERP document in one of these states was refused: its file, put back, is a new try.
_GIVEN_UP = (Status.REJECTED.value, Status.DEAD.value)


def read_erp_document(data: bytes, kind: str, shown: str) -> ErpDocument:
    """Parse one ERP file as the model of its folder; :class:`ErpInputError` says where and
    what was expected."""
    model, document_type, doc_type = KINDS[kind]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ErpInputError(
            f"{shown}: byte {exc.start + 1} is not UTF-8; expected a UTF-8 JSON file"
        ) from exc
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ErpInputError(
            f"{shown}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from exc
    except RecursionError as exc:  # json's recursive decoder on arrays nested thousands deep
        raise ErpInputError(
            f"{shown}: nested too deeply to read; expected one {document_type} as a JSON object"
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ErpInputError(f"{shown}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ErpInputError(
            f"{shown}: line 1: expected a JSON object (one {document_type}), "
            f"got {type(raw).__name__}"
        )
    given = raw.get("document_type", document_type)
    if given != document_type:
        line, column = _position(text, ["document_type"])
        folder = _FOLDER_OF.get(str(given))
        hint = f" (it belongs in {folder}/)" if folder else ""
        raise ErpInputError(
            f"{shown}: line {line}, column {column}: document_type {given!r} in {kind}/; "
            f"expected {document_type!r}{hint}"
        )
    try:
        document = model.model_validate({**raw, "document_type": document_type})
    except ValidationError as exc:
        raise ErpInputError(_explain(shown, text, exc)) from exc
    return _keys(document, doc_type)


def _keys(document: OrderAck | Shipment | Invoice, doc_type: str) -> ErpDocument:
    if isinstance(document, Shipment):
        pos = tuple(dict.fromkeys(o.po_number for o in document.orders))
        return ErpDocument(document, doc_type, pos, shipment_id=document.shipment_id)
    if isinstance(document, Invoice):
        pos = (document.po_number,) if document.po_number else ()
        return ErpDocument(document, doc_type, pos, invoice_number=document.invoice_number)
    return ErpDocument(document, doc_type, (document.po_number,))


def _explain(shown: str, text: str, exc: ValidationError) -> str:
    """Every problem of a model validation, each at its JSON path and line."""
    lines = [f"{shown}: {exc.error_count()} problem(s) against the {exc.title} model"]
    for err in exc.errors():
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        path = _dotted(loc) or "(document)"
        line, column = _position(text, loc)
        got = err.get("input")
        shown_input = (
            f" (got {json.dumps(got, default=str)[:60]})"
            if err["type"] != "missing" and not isinstance(got, dict | list)
            else ""
        )
        lines.append(f"  line {line}, column {column}: {path}: {err['msg']}{shown_input}")
    return "\n".join(lines)


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _position(text: str, path: Sequence[str | int]) -> tuple[int, int]:
    """Line and column of the value at ``path`` in the JSON ``text`` (of its deepest part
    that exists, e.g. the object a missing field belongs in)."""
    offset = _locate(text, path)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _locate(text: str, path: Sequence[str | int]) -> int:
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    try:
        for step in path:
            found = _child(text, pos, step, decoder)
            if found is None:
                break
            pos = found
    except (ValueError, IndexError):
        pass  # the text parsed once already; stop at what was found
    return pos


def _child(text: str, pos: int, step: str | int, decoder: json.JSONDecoder) -> int | None:
    """Offset of member ``step`` of the object or array starting at ``pos``."""
    opener = text[pos] if pos < len(text) else ""
    if opener == "{" and isinstance(step, str):
        i = _skip(text, pos + 1)
        while text[i] == '"':
            key, i = decoder.raw_decode(text, i)
            i = _skip(text, _skip(text, i) + 1)  # past the colon
            if key == step:
                return i
            i = _next(text, decoder.raw_decode(text, i)[1])
        return None
    if opener == "[" and isinstance(step, int):
        i = _skip(text, pos + 1)
        for _ in range(step):
            if text[i] == "]":
                return None
            i = _next(text, decoder.raw_decode(text, i)[1])
        return None if text[i] == "]" else i
    return None


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _next(text: str, pos: int) -> int:
    """Past a value: skip blanks and one comma."""
    pos = _skip(text, pos)
    return _skip(text, pos + 1) if pos < len(text) and text[pos] == "," else pos
