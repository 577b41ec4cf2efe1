"""An original order whose PO number the ERP already has from that partner is held.

Why: a partner resends a PO under a new ISA13 (after our 997 rejected it, or by mistake),
or an operator reprocesses a rejected file after the partner sent a corrected copy. Each
copy passes the interchange checks (another ISA13, other bytes), so without this the ERP
would get the order twice. Only originals are held (BEG01 00, a CSV or XML order's
default): a change, replacement or cancellation repeats its PO number on purpose. A
partner that really reuses PO numbers within its window gets ``ack.duplicate_po: deliver``.

The check runs in the commit, after taking turns on each (partner, PO) on PostgreSQL (the
ERP orders of a transaction that commits first are then seen), against the orders of
every other file in the partner's ``duplicate_window_days``, and of this file's earlier
pieces; a file's own earlier attempts are not counted (a ``--from-start`` reprocess sends
its orders again on purpose).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..partners import Partner
from ..store import Direction, Document, Status
from .erp import ERP_CHANNEL, TEST_KEY
from .runs import family_of
from .sent import take_turns_in_order

#: The error code of a held order; its child document's status is ``duplicate``.
CODE = "duplicate_po"


@dataclass(frozen=True, slots=True)
class EarlierOrder:
    """The inbound order (an 850 transaction, a CSV or XML order) whose ERP order came first."""

    document_id: int
    filename: str | None


def orders_given_before(
    session: Session,
    doc: Document,
    wanted: Sequence[tuple[Partner, str]],
    now: dt.datetime,
    *,
    test: bool = False,
) -> dict[tuple[str, str], EarlierOrder]:
    """For each (partner, PO number) of ``wanted`` whose original order the ERP got already
    (see the module's docstring): the inbound order that carried it. Orders of test
    interchanges (``test``) are compared with those only, production ones likewise."""
    keys = {(p.id, po) for p, po in wanted if p.profile.ack.duplicate_po == "hold"}
    if not keys:
        return {}
    take_turns_in_order(session, ((partner, "order", po) for partner, po in keys))
    windows = {
        partner.id: now - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        for partner, _ in wanted
    }
    other_runs = family_of(session, doc.id, doc.reprocess_of_id) - {doc.id}
    leaf, order = aliased(Document), aliased(Document)
    rows = session.execute(
        select(
            leaf.partner_id, leaf.po_number, leaf.created_at, leaf.meta, order.id, order.filename
        )
        .join(order, leaf.parent_id == order.id)
        .where(
            leaf.channel == ERP_CHANNEL,
            leaf.direction == Direction.OUTBOUND.value,
            leaf.doc_type == "order",
            leaf.status != Status.DEAD.value,
            leaf.po_number.in_(sorted({po for _, po in keys})),
            leaf.partner_id.in_(sorted({partner for partner, _ in keys})),
            order.parent_id.not_in(other_runs),
        )
        .order_by(leaf.id)
    ).all()
    found: dict[tuple[str, str], EarlierOrder] = {}
    for partner_id, po_number, created_at, meta, order_id, filename in rows:
        key = (partner_id, po_number)
        if key not in keys or key in found or partner_id is None:
            continue
        if bool((meta or {}).get(TEST_KEY)) != test:
            continue
        if _aware(created_at) >= windows[partner_id]:
            found[key] = EarlierOrder(order_id, filename)
    return found


def held_message(partner_id: str, po_number: str, earlier: EarlierOrder | str) -> str:
    """Why an order is held: the order of the partner's that the ERP got first, or (a
    string) the one earlier in the same file."""
    if isinstance(earlier, str):
        where = f"is earlier in this file ({earlier})"
    else:
        name = f", file {earlier.filename}" if earlier.filename else ""
        where = f"is in the ERP already (document {earlier.document_id}{name})"
    return (
        f"PO {po_number} of {partner_id} {where}: this original is held as a duplicate, not "
        "delivered (a change order, BEG01 04 or 05, goes through; a partner that reuses "
        "PO numbers gets ack.duplicate_po: deliver)"
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
