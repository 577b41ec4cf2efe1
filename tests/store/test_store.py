"""The store keeps its promises on SQLite and PostgreSQL: durable receive, fenced claims,
unique control numbers under concurrency, retries with backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from edigate.errors import StoreError, StoreUnavailableError
from edigate.store import (
    PENDING_INBOUND,
    AuditEvent,
    BlobStore,
    Direction,
    Document,
    Status,
    Store,
    make_engine,
)


def test_receive_is_durable_before_it_returns(store: Store) -> None:
    data = b"ISA*00*" + b"x" * 1000
    receipt = store.receive(data, channel="sftp", filename="po.edi", partner_id="acme")

    assert receipt.sha256 == hashlib.sha256(data).hexdigest()
    assert store.blob_bytes(receipt.sha256) == data
    # A brand-new engine (another process would do the same) sees the committed row.
    other = make_engine(str(store.engine.url.render_as_string(hide_password=False)))
    try:
        with other.connect() as conn:
            row = conn.execute(select(Document).where(Document.id == receipt.document_id)).one()
            events = conn.execute(
                select(AuditEvent.event, AuditEvent.to_status).where(
                    AuditEvent.document_id == receipt.document_id
                )
            ).all()
    finally:
        other.dispose()
    assert row.status == "received"
    assert row.channel == "sftp" and row.filename == "po.edi" and row.partner_id == "acme"
    assert row.size == len(data)
    assert events == [("received", "received")]


def test_receive_from_a_stream_hashes_what_it_stores(store: Store) -> None:
    data = bytes(range(256)) * 10_000  # 2.5 MB, several chunks
    receipt = store.receive(io.BytesIO(data), channel="folder")
    assert receipt.size == len(data)
    assert store.blobs.get(receipt.sha256) == data  # past INLINE_MAX: a file


def test_receive_many_stores_every_document_or_none(store: Store) -> None:
    """An email's attachments: the second failing in the transaction (here an unknown
    field) rolls back the first, so the sender's retry cannot store it twice."""
    large = bytes(range(256)) * 1_000  # past INLINE_MAX: a file, fsynced before the commit
    first = (large, {"channel": "email", "partner_id": "acme", "filename": "po1.edi"})
    with pytest.raises(TypeError):
        store.receive_many([first, (b"po2", {"channel": "email", "no_such_field": 1})])
    with store.session() as session:
        assert session.scalars(select(Document)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []
    assert list((store.blobs.root / "tmp").iterdir()) == []

    second = (b"po2", {"channel": "email", "partner_id": "acme", "meta": {"part": 2}})
    receipts = store.receive_many([first, second])
    assert [r.size for r in receipts] == [len(large), 3]
    with store.session() as session:
        rows = session.scalars(select(Document).order_by(Document.id)).all()
        events = session.scalars(select(AuditEvent.event)).all()
    assert [(d.id, d.filename, d.meta) for d in rows] == [
        (receipts[0].document_id, "po1.edi", {}),
        (receipts[1].document_id, None, {"part": 2}),
    ]
    assert events == ["received", "received"]
    assert store.blobs.get(receipts[0].sha256) == large
    assert store.blob_bytes(receipts[1].sha256) == b"po2"


def test_claim_gives_each_document_to_one_worker(store: Store) -> None:
    ids = [store.receive(f"doc {i}".encode(), channel="cli").document_id for i in range(5)]
    first = store.claim("w1", PENDING_INBOUND, limit=3)
    second = store.claim("w2", PENDING_INBOUND, limit=10)
    assert first == ids[:3]
    assert second == ids[3:]
    assert store.claim("w3", PENDING_INBOUND) == []


def test_an_idle_claim_on_sqlite_does_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    """A worker woken for a file another worker took, or polling an empty lane, must not
    queue behind a writer (a channel's receive(), the other worker's commit)."""
    import sqlite3

    store = Store.open(tmp_path / "data")
    try:
        holder = sqlite3.connect(store.engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        claimed: list[list[int]] = []
        idle = threading.Thread(target=lambda: claimed.append(store.claim("w", PENDING_INBOUND)))
        idle.start()
        idle.join(timeout=5)
        finished_while_locked = not idle.is_alive()
        holder.execute("ROLLBACK")
        idle.join(timeout=60)
        assert finished_while_locked and claimed == [[]]
        # With work due, the claim does take the lock (and so waits for it).
        doc_id = store.receive(b"doc", channel="cli").document_id
        holder.execute("BEGIN IMMEDIATE")
        busy = threading.Thread(target=lambda: claimed.append(store.claim("w", PENDING_INBOUND)))
        busy.start()
        busy.join(timeout=1)
        waited = busy.is_alive()
        holder.execute("ROLLBACK")
        busy.join(timeout=60)
        assert waited and claimed[-1] == [doc_id]
        holder.close()
    finally:
        store.close()


def test_an_expired_lease_is_claimed_again_and_the_old_worker_is_fenced(store: Store) -> None:
    doc_id = store.receive(b"doc", channel="cli").document_id
    assert store.claim("crashed", PENDING_INBOUND) == [doc_id]
    with store.session() as session:  # the crashed worker's lease ran out long ago
        session.execute(
            update(Document)
            .where(Document.id == doc_id)
            .values(claimed_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
    assert store.claim("healthy", PENDING_INBOUND, lease_seconds=60) == [doc_id]
    with store.claimed(doc_id, "crashed") as held:
        assert held is None  # the old worker can no longer finish it
    with store.claimed(doc_id, "healthy") as held:
        assert held is not None
        session, doc = held
        store.transition(session, doc, Status.TRANSLATED, "translated")
    with store.session() as session:
        doc = store.get(session, doc_id)
        assert doc.status == "translated" and doc.claimed_by is None


def test_failures_back_off_and_end_dead(store: Store) -> None:
    doc_id = store.receive(b"doc", channel="cli").document_id
    statuses = []
    for attempt in range(3):
        assert store.claim("w", PENDING_INBOUND) == [doc_id], attempt
        statuses.append(store.fail(doc_id, "w", f"boom {attempt}", max_attempts=3))
        with store.session() as session:  # make the retry due now
            session.execute(
                update(Document).where(Document.id == doc_id).values(next_attempt_at=None)
            )
    assert statuses == [Status.FAILED, Status.FAILED, Status.DEAD]
    assert store.claim("w", PENDING_INBOUND) == []
    with store.session() as session:
        doc = store.get(session, doc_id)
        assert doc.attempts == 3 and doc.last_error == "boom 2"


def test_a_failed_attempt_is_not_due_before_its_backoff(store: Store) -> None:
    doc_id = store.receive(b"doc", channel="cli").document_id
    store.claim("w", PENDING_INBOUND)
    store.fail(doc_id, "w", "boom", base_delay=60)
    assert store.claim("w", PENDING_INBOUND) == []


def test_control_numbers_are_per_partner_and_kind(store: Store) -> None:
    with store.session() as session:
        isa = [store.next_control_number(session, "acme", "isa") for _ in range(3)]
        gs = [store.next_control_number(session, "acme", "gs") for _ in range(2)]
        other = store.next_control_number(session, "globex", "isa")
    assert isa == [1, 2, 3] and gs == [1, 2] and other == 1


def test_a_rolled_back_document_gives_its_control_number_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        store.next_control_number(session, "acme", "st")
        raise RuntimeError("document failed to build")
    with store.session() as session:
        assert store.next_control_number(session, "acme", "st") == 1


def test_control_numbers_never_repeat_under_concurrent_threads(store: Store) -> None:
    taken: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(25):
            with store.session() as session:
                n = store.next_control_number(session, "acme", "isa")
            with lock:
                taken.append(n)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(1, 101))


def _take_numbers(url: str, data_dir: str, count: int, queue: multiprocessing.Queue) -> None:
    store = Store.open(data_dir, url)
    numbers = []
    for _ in range(count):
        with store.session() as session:
            numbers.append(store.next_control_number(session, "acme", "isa"))
    store.close()
    queue.put(numbers)


def test_control_numbers_never_repeat_across_worker_processes(store: Store, tmp_path: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    procs = [
        ctx.Process(target=_take_numbers, args=(url, str(tmp_path / "data"), 50, queue))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    taken = [n for _ in procs for n in queue.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
    assert sorted(taken) == list(range(1, 201))


def test_child_documents_link_to_their_parent(store: Store) -> None:
    parent_id = store.receive(b"interchange", channel="sftp", partner_id="acme").document_id
    with store.session() as session:
        parent = store.get(session, parent_id)
        child = store.add_document(
            session,
            b"ST*850*0001~",
            direction=Direction.INBOUND,
            status=Status.RECEIVED,
            channel="split",
            parent=parent,
            doc_type="850",
            po_number="4500012345",
        )
        child_id = child.id
    with store.session() as session:
        child = store.get(session, child_id)
        assert child.parent_id == parent_id
        assert child.partner_id == "acme"
        assert child.correlation_id == store.get(session, parent_id).correlation_id
        assert session.scalars(
            select(Document.id).where(Document.po_number == "4500012345")
        ).all() == [child_id]


def test_blob_store_refuses_names_that_are_not_hashes(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    with pytest.raises(StoreError, match="not a SHA-256"):
        blobs.get("../../etc/passwd")
    with pytest.raises(StoreError, match="missing"):
        blobs.get("0" * 64)


def test_blob_store_leaves_no_temp_files(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    first = blobs.put(b"same")
    second = blobs.put(b"same")
    assert first == second
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_unreachable_database_is_a_clear_store_unavailable_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="cannot open the database"):
        Store.open(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")


def test_reserved_blocks_follow_on_and_never_overlap(store: Store) -> None:
    with store.session() as session:
        first = store.reserve_control_numbers(session, "acme", "st", 5)
        single = store.next_control_number(session, "acme", "st")
        second = store.reserve_control_numbers(session, "acme", "st", 3)
    assert (first, single, second) == (1, 6, 7)


def test_a_block_wraps_to_one_instead_of_passing_the_maximum(store: Store) -> None:
    from edigate.store.schema import ControlSequence

    with store.session() as session:
        store.next_control_number(session, "acme", "st")
        session.execute(
            update(ControlSequence)
            .where(ControlSequence.partner_id == "acme")
            .values(value=999_999_998)
        )
        first = store.reserve_control_numbers(session, "acme", "st", 4)
    assert first == 1
    with store.session() as session:
        assert store.next_control_number(session, "acme", "st") == 5


def test_sqlite_connections_read_through_a_bounded_memory_map(tmp_path: Path) -> None:
    """Every pooled connection maps the database (cheap re-reads after another process's
    commit), within the bound that keeps mapped pages from growing RSS without limit."""
    from edigate.store.database import MMAP_BYTES

    store = Store.open(tmp_path / "data")
    try:
        with store.reading() as one, store.session() as two:
            sizes = [
                s.connection().exec_driver_sql("PRAGMA mmap_size").scalar() for s in (one, two)
            ]
    finally:
        store.close()
    assert sizes == [MMAP_BYTES, MMAP_BYTES] and MMAP_BYTES > 0
