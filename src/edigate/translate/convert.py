"""Whole-file conversions behind ``edigate translate``: X12 in -> canonical documents, and
canonical documents -> one outbound X12 interchange.

The CLI stays thin: it reads the file, calls one of these, prints. Every problem comes back
as a :class:`Finding` (X12 input) or a :class:`DocumentError` (JSON input), never raised.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..errors import X12Error
from ..model.invoice import Invoice
from ..model.jsonio import load
from ..model.order import Order
from ..model.order_ack import OrderAck
from ..model.shipment import Shipment
from ..x12.acks import AckBuilder, AckOutput
from ..x12.events import (
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    PartyId,
    TransactionSet,
)
from ..x12.findings import ErrorCode, Finding, Location
from ..x12.reader import Source, X12Reader, sniff_encoding
from .auto_ack import auto_ack
from .x12_810 import build_810
from .x12_850 import checked_850
from .x12_855 import build_855
from .x12_856 import build_856
from .x12_common import (
    NO_PARTNER_RECEIVER,
    NO_PARTNER_SENDER,
    Out,
    default_envelopes,
    write_interchange,
)

Document = Order | OrderAck | Shipment | Invoice

#: Which documents each outbound transaction set is written from.
TARGETS: dict[str, tuple[type[Any], ...]] = {
    "855": (Order, OrderAck),
    "856": (Shipment,),
    "810": (Invoice,),
}


@dataclass(frozen=True, slots=True)
class DocumentError:
    """A problem with one canonical JSON document: which one (1-based), where, what."""

    document: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"document {self.document}" if self.document else "file"
        if self.path:
            where += f" {self.path}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Outbound:
    """Envelope values for an outbound interchange (the "no partner" defaults)."""

    version: str = "004010"
    sender: PartyId = NO_PARTNER_SENDER
    receiver: PartyId = NO_PARTNER_RECEIVER
    control_number: int = 1
    timestamp: dt.datetime | None = None
    usage: str = "P"


@dataclass(slots=True)
class Inbound:
    """The orders read from an X12 file and every finding (reader and translation).

    ``withheld`` says, for each order that translated but is not given, why: its group or
    interchange is rejected by our 997/999 or TA1.
    """

    orders: list[Order] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


def looks_like_x12(data: bytes) -> bool:
    """True when the data starts (after a BOM and blanks) with an ISA, in any encoding the
    X12 reader reads (UTF-8, UTF-16 with or without a BOM, EBCDIC)."""
    head = data[:4096]
    text = head.decode(sniff_encoding(head), "replace")
    return text.lstrip("\ufeff \t\r\n\x00").startswith("ISA")


def orders_from_x12(source: Source) -> Inbound:
    """Translate every 850 in ``source``; other transaction sets are reported unsupported.

    Only what the gateway would deliver is given: an 850 our validator rejects gives its
    errors, not an order, and so does one whose group our 997 rejects (AK9 R) or whose
    interchange our TA1 rejects (R): the partner is told to send it again.
    """
    result = Inbound()
    builder = AckBuilder("997")  # its verdicts only; the default TA1 policy, as a partner's
    held: list[tuple[TransactionSet, Order]] = []  # this interchange's, until its verdict
    for event in X12Reader(source).events():
        found: list[Finding] = []
        if isinstance(event, TransactionSet):
            result.findings += event.findings
            if event.set_id == "850":
                # Validated as the gateway does: an 850 the gateway would reject (a missing
                # PO1 loop, a wrong CTT count) gives its errors, not an order.
                translation, found = checked_850(event)
                result.findings += found
                clean = not any(f.is_error for f in [*event.findings, *found])
                if translation.document is not None and clean:
                    held.append((event, translation.document))
            else:
                result.findings.append(
                    Finding(
                        ErrorCode.TRANSACTION_NOT_SUPPORTED,
                        Location(
                            segment=event.position,
                            tag="ST",
                            element=1,
                            segment_in_transaction=1,
                            transaction_control=event.control_number,
                        ),
                        f"no inbound translation for transaction set {event.set_id} "
                        "(only 850 becomes a canonical Order)",
                        event.set_id,
                    )
                )
        elif isinstance(event, InterchangeHeader | GroupHeader | GroupTrailer | InterchangeTrailer):
            result.findings += event.findings
        elif isinstance(event, Finding):
            result.findings.append(event)
        verdict = builder.feed(event, found)
        if verdict is not None:
            _release(held, verdict, result)
    result.orders += [order for _, order in held]  # the reader always ends an interchange
    result.findings.sort(key=lambda f: f.location.segment or 0)
    return result


def _release(held: list[tuple[TransactionSet, Order]], acks: AckOutput, into: Inbound) -> None:
    """Give the orders of one interchange its acks do not reject; say why for the others."""
    for tx, order in held:
        why = acks.rejection(tx.group.position if tx.group else None)
        if why is None:
            into.orders.append(order)
        else:
            into.withheld.append(
                f"850 {tx.control_number} (PO {order.po_number}, ST at segment {tx.position}) "
                f"is not output: {why}"
            )
    held.clear()


def documents_from_json(
    text: str, target: str | None = None
) -> tuple[list[Document], list[DocumentError]]:
    """Canonical documents from a JSON object, a JSON array or JSON Lines.

    A document without ``document_type`` is taken as what ``target`` is written from: a
    shipment for an 856, an invoice for an 810, an order (or an order-ack, when it has an
    ack type) for an 855.
    """
    try:
        data: Any = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except json.JSONDecodeError as exc:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if len(lines) < 2:
            return [], [DocumentError(0, f"line {exc.lineno}", f"not JSON: {exc.msg}")]
        items = []
        for number, line in lines:
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as line_exc:
                return [], [DocumentError(0, f"line {number}", f"not JSON: {line_exc.msg}")]
    documents: list[Document] = []
    errors: list[DocumentError] = []
    for index, item in enumerate(items, start=1):
        try:
            documents.append(load(item, _default_type(item, target)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(k) for k in err["loc"]]
                # The tagged union names the chosen class first; drop it from the path.
                if loc and loc[0] in ("order", "order-ack", "shipment", "invoice"):
                    loc = loc[1:]
                errors.append(
                    DocumentError(index, ".".join(loc), err["msg"].removeprefix("Value error, "))
                )
    return documents, errors


def _default_type(item: Any, target: str | None) -> str | None:
    if target == "856":
        return "shipment"
    if target == "810":
        return "invoice"
    if target == "855" and isinstance(item, dict):
        return "order-ack" if {"ack_type", "ack_type_code"} & item.keys() else "order"
    return None


def to_x12(documents: Sequence[Document], target: str, outbound: Outbound) -> bytes:
    """One interchange holding one ``target`` transaction per document.

    For an 855 an Order is acknowledged automatically (:func:`auto_ack`, ack date = the
    interchange date); an OrderAck is written as it is.
    """
    allowed = TARGETS.get(target)
    if allowed is None:
        raise X12Error(f"cannot write transaction set {target!r}; one of {', '.join(TARGETS)}")
    stamp = outbound.timestamp or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    bodies: list[list[Out]] = []
    for index, doc in enumerate(documents, start=1):
        if not isinstance(doc, allowed):
            kinds = " or ".join(k.__name__ for k in allowed)
            raise X12Error(
                f"document {index} is {type(doc).__name__}; an {target} is written from {kinds}"
            )
        if isinstance(doc, Order):
            # Not echo: this Order is JSON, not the partner's X12, so its text is checked.
            bodies.append(build_855(auto_ack(doc, ack_date=stamp.date()), version=outbound.version))
        elif isinstance(doc, OrderAck):
            bodies.append(build_855(doc, version=outbound.version))
        elif isinstance(doc, Shipment):
            bodies.append(build_856(doc, version=outbound.version))
        else:
            bodies.append(build_810(doc, version=outbound.version))
    interchange, group = default_envelopes(
        target,
        version=outbound.version,
        sender=outbound.sender,
        receiver=outbound.receiver,
        control_number=outbound.control_number,
        timestamp=stamp,
        usage=outbound.usage,
    )
    return write_interchange(target, bodies, interchange, group)
