"""What a partner was sent already: the question behind every "never send it twice" check
(a second original 855 for a PO, an invoice or ASN number used twice)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from ..store import Direction, Document, Status
from ..x12.writer import Element
from .erp import TEST_KEY


def earlier_sent(
    session: Session,
    partner_id: str,
    doc_type: str,
    po_number: str | None,
    *more: ColumnElement[bool],
    test: bool | None = None,
) -> tuple[int, str, str | None] | None:
    """The first ``doc_type`` this partner was sent (or is being sent: any status but dead)
    for ``po_number`` (None: any PO), with ``more`` conditions: its id, status and PO.
    (Indexed: the PO number, and the partner's invoice numbers and shipment IDs.)

    With ``test`` given, only test interchanges (``meta["test"]``, ISA15 T) or only the
    others count: the partner's test system and its production one know different
    documents. Told apart here, not in SQL: the rows of one number or PO are few."""
    query = select(Document.id, Document.status, Document.po_number, Document.meta).where(
        Document.partner_id == partner_id,
        Document.direction == Direction.OUTBOUND.value,
        Document.doc_type == doc_type,
        Document.status != Status.DEAD.value,
        *more,
    )
    if po_number is not None:
        query = query.where(Document.po_number == po_number)
    query = query.order_by(Document.id)
    if test is None:
        query = query.limit(1)
    for row in session.execute(query):
        if test is None or bool((row.meta or {}).get(TEST_KEY)) == test:
            return row.id, row.status, row.po_number
    return None


def take_turns(session: Session, partner_id: str, doc_type: str, number: str) -> None:
    """On PostgreSQL, a lock on (partner, type, number) held until the commit: a second
    worker checking the same number waits for it, then sees what the first one stored.
    (SQLite's write lock already makes committing workers take turns.) A transaction that
    needs more than one takes them all first, with :func:`take_turns_in_order`."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(partner_id, doc_type, number))))


def take_turns_in_order(session: Session, keys: Iterable[tuple[str, str, str]]) -> None:
    """:func:`take_turns` on every (partner, type, number) of ``keys``, in one order (by
    their lock keys): two transactions that need overlapping sets then queue on the first
    lock they share instead of each holding one the other waits for (a deadlock, which
    PostgreSQL would end by aborting one). Taking one again later in the transaction
    returns at once: a transaction's advisory locks are its own."""
    if session.get_bind().dialect.name != "postgresql":
        return
    texts = sorted({_lock_text(*key) for key in keys})
    if not texts:
        return
    # One statement however many keys (a column per key would stop at PostgreSQL's 1,664):
    # the sorted subquery feeds the locks to the aggregate in its order.
    session.execute(_LOCK_IN_ORDER, {"texts": texts})


_LOCK_IN_ORDER = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended(t, 0) AS k "
    "FROM unnest(CAST(:texts AS text[])) AS t ORDER BY k) AS keys"
)


def _lock_text(partner_id: str, doc_type: str, number: str) -> str:
    return f"edigate sent {partner_id} {doc_type} {number}"


def _lock_key(partner_id: str, doc_type: str, number: str) -> ColumnElement[int]:
    return func.hashtextextended(_lock_text(partner_id, doc_type, number), 0)


def as_replacement_855(
    session: Session, partner_id: str, po_number: str, body: Sequence[Sequence[Element]]
) -> tuple[Sequence[Sequence[Element]], int | None]:
    """An original 855 (``body``: BAK first) as a replacement, BAK01 05, when the partner
    was sent an 855 for ``po_number`` already (a second original for one PO is a duplicate
    to the buyer's system); with that earlier document, else as it was and None. Checked
    in the commit, taking turns with other workers on the PO."""
    bak = body[0] if body else ()
    if list(bak[:2]) != ["BAK", "00"]:
        return body, None
    take_turns(session, partner_id, "855", po_number)
    found = earlier_sent(session, partner_id, "855", po_number)
    if found is None:
        return body, None
    return [["BAK", "05", *bak[2:]], *body[1:]], found[0]


def replaces_855(partner_id: str, po_number: str, earlier: int) -> str:
    """What a replacement 855 says of itself, as a warning on its document."""
    return (
        f"{partner_id} was sent an 855 for PO {po_number} already (document {earlier}); this "
        "one goes out as its replacement (BAK01 05)"
    )
