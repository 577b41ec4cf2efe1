""":class:`OrderAck` -> X12 855 (purchase order acknowledgment), 004010 or 005010.

Header: BAK, CUR, REF (echoed), DTM, N9/MSG (notes; MTX in 005010), N1 loops. Each line:
PO1 (as ordered; PO104 carries the new price when a status changes it, as retail guides
ask), PID, REF, DTM, one ACK per status, N9/MSG. Summary: CTT with the number of PO1
segments and the hash total of their quantities (PO102).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from ..model.common import Note
from ..model.order_ack import AckLine, OrderAck
from ..x12.separators import Separators
from ..x12.writer import GroupEnvelope, InterchangeEnvelope
from .x12_common import (
    Out,
    dtm_segment,
    fmt_date,
    fmt_decimal,
    fmt_hash_total,
    isa_version,
    party_segments,
    pid_segment,
    raw_out,
    ref_segment,
    seg,
    trimmed,
    write_documents,
    x12_text,
)


def build_855(ack: OrderAck, *, version: str = "004010", echo: bool = False) -> list[Out]:
    """The 855's segments between ST and SE, every value in the X12 extended character set
    (:func:`~.x12_common.x12_text`). ``echo``: the values are the partner's own, from the
    order it sent (the automatic 855), so they are written as sent, unchecked: the check
    costs as much again as the build on the inbound hot path, and the partner reads what
    it wrote."""
    out = _segments(ack, version)
    return out if echo else x12_text(out, f"855 {ack.po_number}")


def _segments(ack: OrderAck, version: str) -> list[Out]:
    isa_version(version)  # refuse versions we do not write
    out: list[Out] = [
        trimmed(
            [
                "BAK",
                ack.purpose_code,
                ack.ack_type_code,
                ack.po_number,
                fmt_date(ack.po_date),
                ack.release_number or "",
                "",
                ack.contract_number or "",
                ack.seller_order_number or "",
                "" if ack.ack_date is None else fmt_date(ack.ack_date),
            ]
        )
    ]
    if ack.currency:
        out.append(["CUR", "SE", ack.currency])
    out += [ref_segment(r) for r in ack.references]
    out += [dtm_segment(d) for d in ack.dates]
    out += _notes(ack.notes, version)
    for party in ack.parties:
        out += party_segments(party)
    out += [raw_out(r) for r in ack.extra]
    hash_total = Decimal(0)
    for line in ack.lines:
        _line(line, out, version)
        if line.quantity is not None:
            hash_total += line.quantity
    quantities = (line.quantity for line in ack.lines)
    out.append(
        seg("CTT", str(len(ack.lines)), fmt_hash_total(hash_total, quantities) if ack.lines else "")
    )
    return out


def _line(line: AckLine, out: list[Out], version: str) -> None:
    """Append the line's segments to ``out`` (the hot loop of an auto-855: kept flat)."""
    statuses = line.statuses
    price = line.unit_price
    for status in statuses:
        if status.unit_price is not None:
            price = status.unit_price
            break
    line_quantity = line.quantity
    unit = line.unit
    ordered = "" if line_quantity is None else fmt_decimal(line_quantity)
    # PO103 only beside PO102 (C0302): a line without a quantity states no unit.
    po1_unit = (unit or "") if ordered else ""
    if price is None:
        po1: Out = ["PO1", line.line_number or "", ordered, po1_unit, "", ""]
    else:
        po1 = [
            "PO1",
            line.line_number or "",
            ordered,
            po1_unit,
            fmt_decimal(price),
            line.price_basis or "",
        ]
    for ident in line.identifiers:
        po1.append(ident.qualifier)
        po1.append(ident.value)
    if not line.identifiers and line.sku:
        po1 += ("VN", line.sku)  # as id_pairs: our item number, with no partner identifier
    while not po1[-1] and len(po1) > 1:
        po1.pop()
    out.append(po1)
    for d in line.descriptions:
        out.append(pid_segment(d))
    if line.references:
        out += [ref_segment(r) for r in line.references]
    if line.dates:
        out += [dtm_segment(d) for d in line.dates]
    for status in statuses:
        quantity = status.quantity
        date = status.date
        ack: Out = [
            "ACK",
            status.status_code,
            # The auto-855 echoes the ordered quantity: its text is at hand.
            ""
            if quantity is None
            else ordered
            if quantity is line_quantity
            else fmt_decimal(quantity),
            # ACK03 only beside ACK02 (P0203): a status stating only a price has no unit.
            ((status.unit or unit) if quantity is not None else None) or "",
        ]
        if date is not None:
            ack += (status.date_qualifier or "", fmt_date(date))
        if status.identifiers:
            if date is None:
                ack += ("", "")
            ack.append("")
            for ident in status.identifiers:
                ack += (ident.qualifier, ident.value)
        while not ack[-1] and len(ack) > 1:
            ack.pop()
        out.append(ack)
    if line.notes:
        out += _notes(line.notes, version)
    if line.extra:
        out += [raw_out(r) for r in line.extra]


#: MTX02's maximum length: a longer note goes on in the next MTX.
_MTX02_MAX = 4096


def _notes(notes: Iterable[Note], version: str) -> list[Out]:
    """An N9 loop of the notes: MSG in 004010; 005010 replaced MSG with MTX (MTX01 the
    note's code, MTX02 its text), and has no MSG in the 855."""
    notes = list(notes)
    if not notes:
        return []
    if version >= "005010":
        out = [seg("N9", "L1", "NOTES")]
        for n in notes:
            code = n.code if n.code and len(n.code) == 3 else ""  # MTX01 is ID 3/3
            out += [
                seg("MTX", code, n.text[i : i + _MTX02_MAX])
                for i in range(0, len(n.text), _MTX02_MAX)
            ]
        return out
    return [seg("N9", "L1", "NOTES")] + [seg("MSG", n.text) for n in notes]


def write_855(
    acks: Iterable[OrderAck],
    *,
    version: str = "004010",
    interchange: InterchangeEnvelope | None = None,
    group: GroupEnvelope | None = None,
    separators: Separators | None = None,
    timestamp: dt.datetime | None = None,
    first_control_number: int = 1,
) -> bytes:
    """A whole interchange of 855s (the "no partner" envelope unless one is given)."""
    return write_documents(
        "855",
        build_855,
        acks,
        version=version,
        interchange=interchange,
        group=group,
        separators=separators,
        timestamp=timestamp,
        first_control_number=first_control_number,
    )
