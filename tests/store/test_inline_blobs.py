"""Small blobs live in the database, committed with the row that names them; larger ones stay
files. Both are read back through the store, whichever way they were kept."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from edigate.errors import StoreConflictError, StoreError
from edigate.store import (
    BlobStore,
    Direction,
    Document,
    Status,
    Store,
    make_engine,
    sqlite_url,
)
from edigate.store.database import MIGRATIONS
from edigate.store.inline_blobs import INLINE_MAX
from edigate.store.schema import BlobData
from edigate.store.store import write_pending

from ..postgres import empty_tables


def rows(store: Store) -> dict[str, bytes]:
    with store.reading() as session:
        return {
            sha: bytes(data)
            for sha, data in session.execute(select(BlobData.sha256, BlobData.data))
        }


def files(store: Store) -> list[Path]:
    return [p for p in store.blobs.root.glob("*/*/*") if p.is_file()]


def test_a_small_file_is_committed_with_its_row_and_no_file(store: Store) -> None:
    data = b"ISA*00*" + b"x" * 500
    receipt = store.receive(data, channel="sftp", filename="po.edi")

    assert rows(store) == {hashlib.sha256(data).hexdigest(): data}
    assert files(store) == []
    # Another engine (another process) reads it: it was committed.
    other = make_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as conn:
            kept = conn.execute(
                select(BlobData.data).where(BlobData.sha256 == receipt.sha256)
            ).scalar_one()
    finally:
        other.dispose()
    assert bytes(kept) == data
    assert store.blob_bytes(receipt.sha256) == data
    assert store.open_blob(receipt.sha256).read() == data


def test_the_limit_decides_between_database_and_file(store: Store) -> None:
    at_limit = b"a" * INLINE_MAX
    past_limit = b"b" * (INLINE_MAX + 1)
    small = store.receive(io.BytesIO(at_limit), channel="folder")
    large = store.receive(io.BytesIO(past_limit), channel="folder")

    assert set(rows(store)) == {small.sha256}
    assert [p.name for p in files(store)] == [large.sha256]
    assert store.blob_bytes(large.sha256) == past_limit
    assert store.blobs_bytes([small.sha256, large.sha256, "0" * 64]) == {
        small.sha256: at_limit,
        large.sha256: past_limit,
    }


def add_child(store: Store, session: Session, parent: Document, data: bytes) -> None:
    store.add_document(
        session,
        data,
        direction=Direction.OUTBOUND,
        status=Status.CREATED,
        channel="erp",
        parent=parent,
    )


def test_same_content_twice_is_one_row(store: Store) -> None:
    first = store.receive(b"same bytes", channel="a")
    second = store.receive(b"same bytes", channel="b")
    assert first.sha256 == second.sha256 and first.document_id != second.document_id
    with store.session() as session:
        doc = store.get(session, first.document_id)
        add_child(store, session, doc, b"same bytes")
    assert rows(store) == {first.sha256: b"same bytes"}


def test_a_rolled_back_transaction_keeps_no_bytes(store: Store) -> None:
    receipt = store.receive(b"parent", channel="a")
    with pytest.raises(RuntimeError), store.session() as session:
        doc = store.get(session, receipt.document_id)
        add_child(store, session, doc, b"never committed")
        raise RuntimeError("the worker failed")
    assert set(rows(store)) == {receipt.sha256}


def test_blobs_kept_as_files_before_the_database_held_any_are_still_read(store: Store) -> None:
    old = store.blobs.put(b"written by an earlier version")
    assert store.blob_bytes(old.sha256) == b"written by an earlier version"
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(BlobData)) == 0


def test_a_blob_kept_nowhere_is_a_clear_error(store: Store) -> None:
    missing = "ab" * 32
    with pytest.raises(StoreError, match=f"blob {missing} is missing from the database"):
        store.blob_bytes(missing)


def test_a_database_of_the_first_revision_keeps_its_file_blobs_readable(tmp_path: Path) -> None:
    """An existing 0001 store (every blob a file) upgrades in place; its documents' bytes are
    read from their files, new small ones go to the database; a downgrade that would lose
    those is refused."""
    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(sqlite_url(data))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    old = BlobStore(data / "blobs").put(b"stored by the first revision")

    store = Store.open(data)
    try:
        assert store.blob_bytes(old.sha256, old.size) == b"stored by the first revision"
        assert store.open_blob(old.sha256, old.size).read() == b"stored by the first revision"
        new = store.receive(b"received after the upgrade", channel="x")
        assert set(rows(store)) == {new.sha256}
    finally:
        store.close()

    engine = make_engine(sqlite_url(data))
    try:
        with pytest.raises(RuntimeError, match="holds the bytes of 1 blob"), engine.begin() as c:
            config.attributes["connection"] = c
            command.downgrade(config, "0001")
        head = ScriptDirectory.from_config(config).get_current_head()
        with engine.connect() as connection:  # nothing of the downgrade stayed
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.all() == [(head,)]
    finally:
        engine.dispose()


class Trickle(io.RawIOBase):
    """A raw stream giving at most 1,000 bytes a read, as a pipe or a socket may."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        part = self.data[self.at : self.at + min(len(buffer), 1000)]
        buffer[: len(part)] = part
        self.at += len(part)
        return len(part)


@pytest.mark.parametrize("size", [5_000, INLINE_MAX + 5_000])
def test_a_stream_of_short_reads_is_stored_whole(store: Store, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"end"
    receipt = store.receive(Trickle(data), channel="pipe")  # type: ignore[arg-type]
    assert receipt.size == len(data)
    assert store.blob_bytes(receipt.sha256, receipt.size) == data


def test_a_deadlock_between_two_transactions_is_a_conflict_to_retry_not_an_outage(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two PostgreSQL transactions store the same two contents in opposite order, each
    flushing one before the other: the server breaks the cycle by failing one. That one is a
    StoreConflictError (try again now), not StoreUnavailableError (wait for the database);
    the other commits."""
    store = Store.open(tmp_path / "data", postgres_url)
    empty_tables(store.engine)
    parent = store.receive(b"parent", channel="x").document_id
    first_done = [threading.Event(), threading.Event()]
    outcome: dict[int, str] = {}

    def worker(me: int, first: bytes, second: bytes) -> None:
        try:
            with store.session() as session:
                assert store.get(session, parent).status == "received"
                store.put_blob(session, first)
                write_pending(session)
                first_done[me].set()
                first_done[1 - me].wait(10)
                store.put_blob(session, second)
                write_pending(session)  # waits for the other: one of the two is failed
            outcome[me] = "committed"
        except StoreConflictError:
            outcome[me] = "conflict"
        except Exception as exc:  # what else it was is the failure
            outcome[me] = f"{type(exc).__name__}: {exc}"
        finally:
            first_done[me].set()

    x, y = b"content X " * 10, b"content Y " * 10
    threads = [
        threading.Thread(target=worker, args=(0, x, y)),
        threading.Thread(target=worker, args=(1, y, x)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcome.values()) == ["committed", "conflict"]
        assert set(rows(store)) >= {hashlib.sha256(x).hexdigest(), hashlib.sha256(y).hexdigest()}
    finally:
        store.close()
