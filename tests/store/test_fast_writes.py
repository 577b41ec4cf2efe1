"""The cheaper write paths keep their promises: documents added with a plain INSERT are
ordinary session members, audit events written in one statement are all there (and only
those of committed work), and fsyncs done together are each done."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from edigate.fsutil import atomic_write_many, fsync_many
from edigate.store import AuditEvent, Direction, Document, Status, Store
from edigate.store.store import _WriterTurns


def _events(store: Store, doc_id: int) -> list[str]:
    with store.reading() as session:
        return list(
            session.scalars(
                select(AuditEvent.event)
                .where(AuditEvent.document_id == doc_id)
                .order_by(AuditEvent.id)
            )
        )


def test_an_added_document_changed_later_in_its_transaction_is_saved(store: Store) -> None:
    parent = store.receive(b"parent", channel="cli").document_id
    with store.session() as session:
        doc = store.get(session, parent)
        child = store.add_document(
            session, b"child", direction=Direction.OUTBOUND, status=Status.CREATED, channel="erp"
        )
        assert child.id is not None and child.created_at is not None
        store.transition(session, child, Status.DELIVERED, "delivered")
        child.meta = {"seen": True}
        # An ORM query in the same transaction sees the events written so far.
        seen = session.scalars(
            select(AuditEvent.event).where(AuditEvent.document_id == child.id)
        ).all()
        assert list(seen) == ["created", "delivered"]
        store.transition(session, doc, Status.TRANSLATED, "processed")
    with store.reading() as session:
        row = session.get(Document, child.id)
        assert row is not None and row.status == "delivered" and row.meta == {"seen": True}
        assert row.correlation_id and row.attempts == 0
    assert _events(store, child.id) == ["created", "delivered"]
    assert _events(store, parent) == ["received", "processed"]


def test_fsync_many_fsyncs_each_path_and_reports_each_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [tmp_path / f"f{n}" for n in range(6)]
    for path in files:
        path.write_bytes(b"x")
    synced: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        synced.append(os.stat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    errors = fsync_many([*files, tmp_path, tmp_path / "missing"])
    assert errors[:-1] == [None] * 7
    assert isinstance(errors[-1], FileNotFoundError)
    assert sorted(synced) == sorted(os.stat(p).st_ino for p in [*files, tmp_path])


def test_atomic_write_many_is_durable_per_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_bytes(b"a file, not a folder")
    items = [(tmp_path / "out" / f"{n}.json", f"{n}".encode()) for n in range(5)]
    items.append((blocked / "x.json", b"cannot"))
    errors = atomic_write_many(items)
    assert errors[:5] == [None] * 5 and isinstance(errors[5], OSError)
    assert [p.read_bytes() for p, _ in items[:5]] == [b"0", b"1", b"2", b"3", b"4"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{n}.json" for n in range(5)]


def _begins(steps: list[str]) -> Callable[..., None]:
    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):  # about to wait for SQLite's lock
            steps.append(threading.current_thread().name)

    return record


def test_writers_of_one_process_take_turns_before_sqlites_lock(tmp_path: Path) -> None:
    """A second thread's transaction begins only once the first committed: it waits on the
    process's lock (handed over at once), not in SQLite's busy handler (which sleeps up to
    100 ms between tries)."""
    store = Store.open(tmp_path / "data")
    with store.reading() as one, store.reading() as two:  # two pooled connections, set up
        one.execute(select(1))
        two.execute(select(1))
    steps: list[str] = []
    event.listen(store.engine, "before_cursor_execute", _begins(steps))
    event.listen(store.engine, "commit", lambda _c: steps.append("commit"))
    try:
        inside = threading.Event()

        def hold() -> None:
            with store.session() as session:
                # Its first statement takes SQLite's write lock (BEGIN IMMEDIATE).
                session.execute(update(Document).where(Document.id == -1).values(status="x"))
                inside.set()
                time.sleep(0.2)

        holder = threading.Thread(target=hold, name="holder")
        holder.start()
        assert inside.wait(5)
        store.receive(b"waits its turn", channel="cli")
        holder.join()
    finally:
        store.close()
    me = threading.current_thread().name
    assert steps == ["holder", "commit", me, "commit"]


def test_a_writer_kept_waiting_as_long_as_sqlite_would_goes_on_to_sqlite() -> None:
    turns = _WriterTurns(timeout=0.05)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with turns:
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    with turns, turns:  # not its turn yet: it goes on after the timeout; nested is fine
        waited = time.monotonic() - started
    done.set()
    holder.join()
    assert 0.04 <= waited < 2
    with turns:  # the holder's turn was given back, and the late one released nothing
        pass
