"""Committing several documents at once: one fenced transaction, blobs made durable as a
group before the commit, control numbers counted in memory and written once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.errors import StoreError
from edigate.store import BlobStore, Direction, Status, Store
from edigate.store.schema import ControlSequence


def _received(store: Store, count: int) -> list[int]:
    return [store.receive(f"doc {n}".encode(), channel="cli").document_id for n in range(count)]


def _sequence(store: Store, partner: str, kind: str) -> int | None:
    with store.session() as session:
        return session.scalar(
            select(ControlSequence.value).where(
                ControlSequence.partner_id == partner, ControlSequence.kind == kind
            )
        )


def test_claimed_many_holds_only_what_this_worker_still_claims(store: Store) -> None:
    ids = _received(store, 3)
    assert store.claim("me", [Status.RECEIVED], limit=2) == ids[:2]
    assert store.claim("other", [Status.RECEIVED]) == ids[2:]
    with store.claimed_many(ids, "me") as (session, held):
        assert sorted(held) == ids[:2]
        for doc in held.values():
            store.transition(session, doc, Status.TRANSLATED, "processed")
    with store.session() as session:
        statuses = [store.get(session, i).status for i in ids]
    assert statuses == ["translated", "translated", "received"]


def test_numbers_counted_in_memory_follow_on_and_are_written_at_commit(store: Store) -> None:
    with store.session() as session:
        assert store.next_control_number(session, "acme", "isa") == 1
    ids = _received(store, 1)
    store.claim("me", [Status.RECEIVED])
    with store.claimed_many(ids, "me") as (session, _held):
        taken = [store.next_control_number(session, "acme", "isa") for _ in range(3)]
        block = store.reserve_control_numbers(session, "acme", "st", 4)
        after = store.next_control_number(session, "acme", "st")
    assert (taken, block, after) == ([2, 3, 4], 1, 5)
    assert (_sequence(store, "acme", "isa"), _sequence(store, "acme", "st")) == (4, 5)
    with store.session() as session:
        assert store.next_control_number(session, "acme", "isa") == 5


def test_a_failed_batch_commit_writes_no_numbers(store: Store) -> None:
    ids = _received(store, 1)
    store.claim("me", [Status.RECEIVED])
    with pytest.raises(RuntimeError), store.claimed_many(ids, "me") as (session, _held):
        store.next_control_number(session, "acme", "gs")
        store.next_control_number(session, "acme", "gs")
        raise RuntimeError("crash before commit")
    with store.session() as session:
        assert store.next_control_number(session, "acme", "gs") == 1


def test_a_blob_group_is_durable_when_it_closes_and_gone_if_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    with blobs.group():
        first = blobs.put(b"first")
        again = blobs.put(b"first")
        second = blobs.put(b"second")
        assert synced == [] and not blobs.exists(first.sha256)  # nothing final yet
    assert first == again and blobs.get(first.sha256) == b"first"
    assert blobs.get(second.sha256) == b"second"
    # Two files, then each folder once: their two new folders, and the parents those were
    # made in (the root, each new ``ab/``) for the new folders' names.
    assert len(synced) == 2 + 2 + 3
    with pytest.raises(RuntimeError), blobs.group():
        lost = blobs.put(b"never named by a row")
        raise RuntimeError("the transaction failed")
    assert not blobs.exists(lost.sha256)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_outside_a_group_a_put_is_durable_at_once(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    ref = blobs.put(b"now")
    assert blobs.get(ref.sha256) == b"now"
    with pytest.raises(StoreError):
        blobs.get("0" * 64)


def test_receive_wakes_a_waiting_worker(store: Store) -> None:
    store.wakeup.clear()
    assert not store.wakeup.is_set()
    store.receive(b"wake up", channel="cli")
    assert store.wakeup.is_set()


def test_documents_added_in_a_batch_commit_keep_their_blobs(store: Store) -> None:
    ids = _received(store, 2)
    store.claim("me", [Status.RECEIVED])
    with store.claimed_many(ids, "me") as (session, held), store.blobs.group():
        outs = [
            store.add_document(
                session,
                f"order {doc.id}".encode(),
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel="erp",
                parent=doc,
            )
            for doc in held.values()
        ]
    assert [store.blob_bytes(o.blob_sha256) for o in outs] == [b"order %d" % i for i in ids]


def test_a_reading_transaction_does_not_wait_for_a_writer(store: Store) -> None:
    ids = _received(store, 1)
    with store.session() as writer:  # holds SQLite's write lock until it ends
        store.get(writer, ids[0]).filename = "renamed"
        writer.flush()
        with store.reading() as reader:
            assert store.get(reader, ids[0]).filename is None  # the last committed state
    with store.reading() as reader:
        assert store.get(reader, ids[0]).filename == "renamed"
