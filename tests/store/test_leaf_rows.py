"""``Store.add_leaf``: rows written together at the next flush are the rows ``add_document``
would have written, audit events included."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
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


def add_interleaved(store: Store, files: list[int], count: int) -> list[str]:
    """Add ``count`` leaves in one transaction, their parents ``files`` in turn (0, 1, 2,
    0, 1, 2, ...); returns the INSERT INTO documents statements that were sent."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DOCUMENTS"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.session() as session:
            parents = [store.get(session, doc_id) for doc_id in files]
            for n in range(count):
                parent = parents[n % len(files)]
                leaf(store, session, parent, b"leaf %d of %d" % (n, parent.id), f"PO{n}")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    return statements


def assert_each_row_is_its_own(store: Store, files: list[int], count: int) -> None:
    """Every leaf is a row in the order added, with its own parent, bytes and event."""
    with store.reading() as session:
        rows = session.scalars(select(Document).where(Document.parent_id.in_(files))).all()
        parents_in_audit = dict(
            session.execute(
                select(AuditEvent.document_id, AuditEvent.detail).where(
                    AuditEvent.document_id.in_([r.id for r in rows])
                )
            ).all()
        )
    by_id = sorted(rows, key=lambda r: r.id)
    assert [r.po_number for r in by_id] == [f"PO{n}" for n in range(count)]
    for row in by_id:
        n = int(row.po_number.removeprefix("PO"))
        assert row.parent_id == files[n % len(files)]
        assert store.content(row) == b"leaf %d of %d" % (n, row.parent_id)
        assert parents_in_audit[row.id] == {"parent": row.parent_id}


def test_leaves_of_several_parents_are_one_insert_each_row_with_its_own_parent(
    store: Store,
) -> None:
    files = [store.receive(b"file %d" % n, channel="sftp").document_id for n in range(3)]
    assert len(add_interleaved(store, files, 12)) == 1
    assert_each_row_is_its_own(store, files, 12)


def test_a_query_in_the_transaction_sees_the_leaves_added_before_it(store: Store) -> None:
    receipt = store.receive(b"the file", channel="sftp")
    with store.session() as session:
        parent = store.get(session, receipt.document_id)
        leaf(store, session, parent, b"order", "PO9")
        found = session.scalars(select(Document.po_number).where(Document.parent_id == parent.id))
        assert list(found) == ["PO9"]


def test_thousands_of_leaves_in_one_transaction_each_get_their_own_id(store: Store) -> None:
    """More rows than one multi-row INSERT takes (SQLite's limit on bound parameters splits
    them into several statements): each row's id is still its own, and so is its event
    (which names the row's parent: the leaves alternate between two)."""
    files = [store.receive(b"big file %d" % n, channel="sftp").document_id for n in range(2)]
    statements = add_interleaved(store, files, 2500)
    if store.engine.dialect.name == "sqlite":
        assert len(statements) > 1  # the case this test is about
    assert_each_row_is_its_own(store, files, 2500)


def test_ids_that_sqlite_would_return_out_of_row_order_stop_the_commit() -> None:
    """SQLite gives a multi-row INSERT's ids in VALUES order by behaviour, not by promise:
    were that to change, the rows' returned parents and contents no longer match them in
    id order, and the insert is refused instead of giving rows each other's ids."""
    from types import SimpleNamespace

    from edigate.errors import StoreError
    from edigate.store.store import _insert_documents

    rows = [{"parent_id": 1, "blob_sha256": "aa"}, {"parent_id": 1, "blob_sha256": "bb"}]

    def session_returning(returned: list[tuple[int, int, str]]) -> Session:
        result = SimpleNamespace(all=lambda: returned)
        connection = SimpleNamespace(
            dialect=SimpleNamespace(name="sqlite"), execute=lambda _stmt, _rows: result
        )
        return SimpleNamespace(connection=lambda: connection)  # type: ignore[return-value]

    assert _insert_documents(session_returning([(8, 1, "bb"), (7, 1, "aa")]), rows) == [7, 8]
    with pytest.raises(StoreError, match="out of row order"):
        _insert_documents(session_returning([(7, 1, "bb"), (8, 1, "aa")]), rows)
