"""``Store.add_leaf``: rows written together at the next flush are the rows ``add_document``
would have written, audit events included, and leave with a rolled-back savepoint."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from edigate.store import AuditEvent, Direction, Document, Status, Store


def leaf(store: Store, session: Session, parent: Document, data: bytes, po: str) -> None:
    store.add_leaf(
        session,
        data,
        direction=Direction.OUTBOUND,
        status=Status.CREATED,
        channel="erp",
        parent=parent,
        format="json",
        doc_type="order",
        po_number=po,
    )


def test_leaves_are_rows_with_their_created_events_in_the_order_added(store: Store) -> None:
    receipt = store.receive(b"the file", channel="sftp", partner_id="acme")
    with store.session() as session:
        parent = store.get(session, receipt.document_id)
        for n in range(3):
            leaf(store, session, parent, b"order %d" % n, f"PO{n}")
    with store.reading() as session:
        rows = session.scalars(select(Document).where(Document.parent_id == parent.id)).all()
        events = session.execute(
            select(AuditEvent.document_id, AuditEvent.event, AuditEvent.to_status)
            .where(AuditEvent.document_id.in_([r.id for r in rows]))
            .order_by(AuditEvent.id)
        ).all()
    assert [r.po_number for r in sorted(rows, key=lambda r: r.id)] == ["PO0", "PO1", "PO2"]
    assert [store.content(r) for r in sorted(rows, key=lambda r: r.id)] == [
        b"order 0",
        b"order 1",
        b"order 2",
    ]
    for row in rows:
        assert row.partner_id == "acme" and row.correlation_id == parent.correlation_id
        assert row.direction == "out" and row.status == "created" and row.attempts == 0
    assert events == [(r.id, "created", "created") for r in sorted(rows, key=lambda r: r.id)]


def test_a_query_in_the_transaction_sees_the_leaves_added_before_it(store: Store) -> None:
    receipt = store.receive(b"the file", channel="sftp")
    with store.session() as session:
        parent = store.get(session, receipt.document_id)
        leaf(store, session, parent, b"order", "PO9")
        found = session.scalars(select(Document.po_number).where(Document.parent_id == parent.id))
        assert list(found) == ["PO9"]


def test_a_rolled_back_savepoint_takes_its_leaves_with_it(store: Store) -> None:
    receipt = store.receive(b"the file", channel="sftp")
    with store.session() as session:
        parent = store.get(session, receipt.document_id)
        leaf(store, session, parent, b"kept", "KEPT")
        with pytest.raises(RuntimeError), store.savepoint(session):
            leaf(store, session, parent, b"dropped", "DROPPED")
            raise RuntimeError("this document failed")
    with store.reading() as session:
        kept = session.scalars(
            select(Document.po_number).where(Document.parent_id == receipt.document_id)
        ).all()
    assert kept == ["KEPT"]
