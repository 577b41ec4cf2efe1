"""Small blobs live in the database, committed with the row that names them; larger ones stay
files. Both are read back through the store, whichever way they were kept."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from edigate.errors import StoreError
from edigate.store import Direction, Status, Store, make_engine
from edigate.store.inline_blobs import INLINE_MAX
from edigate.store.schema import BlobData


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


def test_same_content_twice_is_one_row(store: Store) -> None:
    first = store.receive(b"same bytes", channel="a")
    second = store.receive(b"same bytes", channel="b")
    assert first.sha256 == second.sha256 and first.document_id != second.document_id
    with store.session() as session:
        doc = store.get(session, first.document_id)
        store.add_document(
            session,
            b"same bytes",
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel="erp",
            parent=doc,
        )
    assert rows(store) == {first.sha256: b"same bytes"}


def test_a_rolled_back_transaction_keeps_no_bytes(store: Store) -> None:
    receipt = store.receive(b"parent", channel="a")
    with pytest.raises(RuntimeError), store.session() as session:
        doc = store.get(session, receipt.document_id)
        store.add_document(
            session,
            b"never committed",
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel="erp",
            parent=doc,
        )
        raise RuntimeError("the worker failed")
    assert set(rows(store)) == {receipt.sha256}


def test_a_rolled_back_savepoint_drops_only_its_own_bytes(store: Store) -> None:
    receipt = store.receive(b"parent", channel="a")
    with store.session() as session:
        doc = store.get(session, receipt.document_id)
        kept = store.add_document(
            session,
            b"kept",
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel="erp",
            parent=doc,
        )
        with pytest.raises(RuntimeError), store.savepoint(session):
            store.add_document(
                session,
                b"dropped",
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel="erp",
                parent=doc,
            )
            raise RuntimeError("this document failed")
    assert set(rows(store)) == {receipt.sha256, kept.blob_sha256}
    assert store.content(kept) == b"kept"


def test_blobs_kept_as_files_before_the_database_held_any_are_still_read(store: Store) -> None:
    old = store.blobs.put(b"written by an earlier version")
    assert store.blob_bytes(old.sha256) == b"written by an earlier version"
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(BlobData)) == 0


def test_a_blob_kept_nowhere_is_a_clear_error(store: Store) -> None:
    missing = "ab" * 32
    with pytest.raises(StoreError, match=f"blob {missing} is missing from the database"):
        store.blob_bytes(missing)
