"""What a partner was sent already: the question behind every "never send it twice" check
(a second original 855 for a PO, an invoice or ASN number used twice)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ..store import Direction, Document, Status


def earlier_sent(
    session: Session,
    partner_id: str,
    doc_type: str,
    po_number: str | None,
    *more: ColumnElement[bool],
) -> tuple[int, str, str | None] | None:
    """The first ``doc_type`` this partner was sent (or is being sent: any status but dead)
    for ``po_number`` (None: any PO), with ``more`` conditions: its id, status and PO.
    (Indexed: the PO number, and the partner's invoice numbers and shipment IDs.)"""
    query = select(Document.id, Document.status, Document.po_number).where(
        Document.partner_id == partner_id,
        Document.direction == Direction.OUTBOUND.value,
        Document.doc_type == doc_type,
        Document.status != Status.DEAD.value,
        *more,
    )
    if po_number is not None:
        query = query.where(Document.po_number == po_number)
    row = session.execute(query.order_by(Document.id).limit(1)).first()
    return None if row is None else (row.id, row.status, row.po_number)
