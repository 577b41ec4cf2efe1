"""add_document fills its object in without the ORM constructor, and blobs make their
folder only when it is missing: the results must be what the slower paths gave."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import event, inspect, select

from edigate.store import Direction, Document, Status, Store


def test_an_added_document_is_the_row_as_a_query_loads_it(store: Store) -> None:
    parent = store.receive(b"parent", channel="cli", partner_id="acme").document_id
    statements: list[str] = []

    def hook(*args: object) -> None:
        statements.append(str(args[2]).split()[0])

    with store.session() as session:
        doc = store.get(session, parent)
        child = store.add_document(
            session,
            b"child",
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel="erp",
            parent=doc,
            meta={"k": [1, 2]},
            filename="c.json",
        )
        state = inspect(child)
        assert state.persistent and not state.modified and child not in session.dirty
        event.listen(store.engine, "before_cursor_execute", hook)
        added = {c.key: getattr(child, c.key) for c in Document.__table__.columns}
    event.remove(store.engine, "before_cursor_execute", hook)
    assert "UPDATE" not in statements  # nothing was left marked as changed
    with store.reading() as session:
        row = session.scalars(select(Document).where(Document.id == child.id)).one()
        loaded = {c.key: getattr(row, c.key) for c in Document.__table__.columns}
    assert added == loaded
    stamps = [v for v in loaded.values() if isinstance(v, dt.datetime)]
    assert stamps and all(v.tzinfo is not None for v in stamps)  # aware on SQLite too
    assert loaded["partner_id"] == "acme" and loaded["parent_id"] == parent
    assert loaded["meta"] == {"k": [1, 2]} and loaded["status"] == Status.CREATED.value


def test_add_document_works_before_any_query_in_a_fresh_process(tmp_path: Path) -> None:
    """No query has configured the ORM yet when the first document is added."""
    script = textwrap.dedent(
        f"""
        from edigate.store import Direction, Document, Status, Store
        store = Store.open({str(tmp_path / "data")!r})
        with store.session() as session:
            doc = store.add_document(
                session, b"x", direction=Direction.OUTBOUND, status=Status.CREATED,
                channel="erp",
            )
            doc.status = Status.DELIVERED.value
        with store.reading() as session:
            print(session.get(Document, doc.id).status)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == Status.DELIVERED.value


def test_a_blob_whose_folder_was_removed_is_stored_again(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    first = store.blobs.put(b"one")
    shutil.rmtree(store.blobs.path(first.sha256).parent.parent)
    again = store.blobs.put(b"one")
    with store.blobs.group():
        grouped = store.blobs.put(b"two")
    shutil.rmtree(store.blobs.path(grouped.sha256).parent.parent)
    with store.blobs.group():
        store.blobs.put(b"two")
    assert store.blobs.get(again.sha256) == b"one"
    assert store.blobs.get(grouped.sha256) == b"two"
    assert list((tmp_path / "data" / "blobs" / "tmp").iterdir()) == []
    store.close()
