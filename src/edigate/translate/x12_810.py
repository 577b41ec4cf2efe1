""":class:`Invoice` -> X12 810 (invoice), 004010 or 005010.

Header: BIG, NTE, CUR, REF, N1 loops, ITD, DTM, FOB. Each line: IT1, TXI, PID, PO4, REF,
DTM, SAC. Summary: TDS (the total in cents, N2: lines + charges - allowances + tax, as the
model reconciled it), TXI, CAD (carrier), SAC, ISS (units shipped when every line shares
one unit; the weight when given), CTT (number of IT1 segments, hash total of IT102).
Every value is checked against the X12 extended character set
(:func:`~.x12_common.x12_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from ..errors import X12Error
from ..model.invoice import Invoice, InvoiceLine
from ..x12.separators import Separators
from ..x12.writer import GroupEnvelope, InterchangeEnvelope
from .x12_common import (
    Out,
    dtm_segment,
    fmt_date,
    fmt_decimal,
    fmt_hash_total,
    fmt_n2,
    fob_segment,
    id_pairs,
    isa_version,
    itd_segment,
    nte_segment,
    opt,
    opt_date,
    opt_dec,
    party_segments,
    pid_segment,
    po4_segment,
    ref_segment,
    sac_segment,
    seg,
    txi_segment,
    write_documents,
    x12_text,
)

#: ISS01 (element 382, units shipped) holds 10 digits.
ISS01_DIGITS = 10


def build_810(invoice: Invoice, *, version: str = "004010") -> list[Out]:
    """The 810's segments between ST and SE."""
    isa_version(version)
    inv = invoice
    out: list[Out] = [
        seg(
            "BIG",
            fmt_date(inv.invoice_date),
            inv.invoice_number,
            opt_date(inv.po_date),
            opt(inv.po_number),
            opt(inv.release_number),
            "",
            opt(inv.transaction_type),
            "" if inv.purpose_code == "00" else inv.purpose_code,
        )
    ]
    out += [nte_segment(n) for n in inv.notes]
    if inv.currency:
        out.append(seg("CUR", "SE", inv.currency))
    out += [ref_segment(r) for r in inv.references]
    for party in inv.parties:
        out += party_segments(party)
    out += [itd_segment(t) for t in inv.terms]
    out += [dtm_segment(d) for d in inv.dates]
    if inv.fob is not None:
        out.append(fob_segment(inv.fob))
    quantity_total = Decimal(0)
    for line in inv.lines:
        out += _line(line)
        quantity_total += line.quantity
    totals = inv.totals()
    out.append(seg("TDS", fmt_n2(totals.total, "TDS01 total")))
    out += [txi_segment(t) for t in inv.taxes]
    if inv.carrier is not None:
        c = inv.carrier
        if not (c.scac or c.routing):
            raise X12Error(
                f"invoice {inv.invoice_number}: the carrier needs a SCAC or a routing "
                "(CAD04 or CAD05)"
            )
        out.append(
            seg(
                "CAD",
                opt(c.mode),
                "",
                "",
                opt(c.scac),
                opt(c.routing),
                "",
                "",
                "",
                opt(c.service_level),
            )
        )
    out += [sac_segment(ac) for ac in inv.allowances_charges]
    units = {line.unit for line in inv.lines}
    shipped = fmt_decimal(quantity_total) if len(units) == 1 else ""
    if sum(c.isdigit() for c in shipped) > ISS01_DIGITS:
        shipped = ""  # ISS01 is optional: left out rather than cut
    if shipped or inv.shipped_weight is not None:
        out.append(
            seg(
                "ISS",
                shipped,
                units.pop() if shipped else "",
                opt_dec(inv.shipped_weight),
                opt(inv.weight_unit or "LB") if inv.shipped_weight is not None else "",
            )
        )
    quantities = (line.quantity for line in inv.lines)
    out.append(seg("CTT", str(len(inv.lines)), fmt_hash_total(quantity_total, quantities)))
    return x12_text(out, f"810 {inv.invoice_number}")


def _line(line: InvoiceLine) -> list[Out]:
    out: list[Out] = [
        seg(
            "IT1",
            opt(line.line_number),
            fmt_decimal(line.quantity),
            line.unit,
            fmt_decimal(line.unit_price),
            opt(line.price_basis),
            *id_pairs(line.identifiers, line.sku),
        )
    ]
    out += [txi_segment(t) for t in line.taxes]
    out += [pid_segment(d) for d in line.descriptions]
    if line.pack is not None:
        out.append(po4_segment(line.pack))
    out += [ref_segment(r) for r in line.references]
    out += [dtm_segment(d) for d in line.dates]
    out += [sac_segment(ac) for ac in line.allowances_charges]
    return out


def write_810(
    invoices: Iterable[Invoice],
    *,
    version: str = "004010",
    interchange: InterchangeEnvelope | None = None,
    group: GroupEnvelope | None = None,
    separators: Separators | None = None,
    timestamp: dt.datetime | None = None,
    first_control_number: int = 1,
) -> bytes:
    """A whole interchange of 810s (the "no partner" envelope unless one is given)."""
    return write_documents(
        "810",
        build_810,
        invoices,
        version=version,
        interchange=interchange,
        group=group,
        separators=separators,
        timestamp=timestamp,
        first_control_number=first_control_number,
    )
