"""The dispatcher delivers a worker's claimed batch at once: files written and fsynced, one
folder fsync per folder, one transaction for the records, each row fenced by its claim."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from edigate.app import Gateway
from edigate.pipeline.worker import Worker
from edigate.store import PENDING_OUTBOUND, AuditEvent, Direction, Document, Status


def _orders(gateway: Gateway, count: int) -> list[tuple[int, int, int]]:
    """``count`` translated POs of acme-retail, each with an order for the ERP and a 997
    for its pickup folder: (parent, order, 997) ids."""
    store = gateway.store
    made = []
    with store.session() as session:
        for n in range(count):
            po = f"PO-B{n:04d}"
            parent = store.add_document(
                session,
                f"ISA*{n}".encode(),
                direction=Direction.INBOUND,
                status=Status.TRANSLATED,
                channel="cli",
                partner_id="acme-retail",
                doc_type="850",
                po_number=po,
            )
            order = store.add_document(
                session,
                json.dumps({"po_number": po}).encode(),
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel="erp",
                parent=parent,
                doc_type="order",
                po_number=po,
            )
            ack = store.add_document(
                session,
                f"ISA*997*{n}~".encode(),
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel="sftp_pickup",
                parent=parent,
                doc_type="997",
                format="x12",
                interchange_control=f"{n:09d}",
            )
            made.append((parent.id, order.id, ack.id))
    return made


def _claim(gateway: Gateway, worker: str) -> list[int]:
    return gateway.store.claim(worker, PENDING_OUTBOUND, direction=Direction.OUTBOUND, limit=100)


def _statuses(gateway: Gateway) -> dict[int, str]:
    with gateway.store.session() as session:
        return {
            doc_id: status
            for doc_id, status in session.execute(select(Document.id, Document.status))
        }


def test_a_batch_reaches_the_erp_and_the_pickup_with_one_folder_fsync_each(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _orders(gateway, 6)
    ids = _claim(gateway, "w1")
    synced: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append("dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    gateway.dispatcher.process_batch(ids, "w1")  # the worker's call for its claimed batch
    monkeypatch.setattr(os, "fsync", real_fsync)

    assert synced.count("file") == 12  # every file is durable before it is recorded
    assert synced.count("dir") == 2  # the ERP outbox and acme's out/, once each
    statuses = _statuses(gateway)
    for parent, order, ack in made:
        assert (statuses[parent], statuses[order], statuses[ack]) == (
            "delivered",
            "delivered",
            "sent",
        )
    outbox = sorted((gateway.config.erp_root / "outbox/orders").glob("*.json"))
    assert len(outbox) == 6
    pickup = sorted((gateway.config.sftp_root / "acme-retail/out").iterdir())
    assert [p.read_bytes() for p in pickup] == [f"ISA*997*{n}~".encode() for n in range(6)]
    with gateway.store.session() as session:
        events = session.execute(
            select(AuditEvent.document_id, AuditEvent.event, AuditEvent.to_status)
        ).all()
        doc = session.get(Document, made[0][1])
        assert doc is not None and doc.claimed_by is None
        assert doc.meta is not None and doc.meta["delivery"]["path"].endswith(".json")
    delivered = {(d, e, s) for d, e, s in events if e in ("delivered", "delivered_to_erp")}
    assert len(delivered) == 18  # 12 deliveries + 6 parents, each audited once
    assert (made[0][0], "delivered_to_erp", "delivered") in delivered


def test_a_document_whose_claim_was_taken_over_is_not_recorded(gateway: Gateway) -> None:
    made = _orders(gateway, 3)
    ids = _claim(gateway, "w1")
    taken = made[1][1]
    with gateway.store.session() as session:  # w1's lease expired; w2 holds the order now
        session.execute(update(Document).where(Document.id == taken).values(claimed_by="w2"))
    gateway.dispatcher.process_batch(ids, "w1")
    statuses = _statuses(gateway)
    assert statuses[taken] == "created"  # w2 will deliver and record it
    assert statuses[made[1][0]] == "translated"
    assert statuses[made[0][1]] == statuses[made[2][1]] == "delivered"
    gateway.dispatcher.process(taken, "w1")  # w1's call for it does nothing more
    assert _statuses(gateway)[taken] == "created"


def test_a_failing_batch_mate_is_reported_alone(gateway: Gateway) -> None:
    made = _orders(gateway, 3)
    busy = gateway.config.sftp_root / "acme-retail/out"
    busy.mkdir(parents=True)
    name = f"997-{1:09d}-{made[1][2]}.edi"  # the name the second 997 gets, and its fallback
    for taken in (name, name.replace(".edi", f".{made[1][2]}.edi")):
        (busy / taken).write_bytes(b"another document, not picked up yet")
    ids = _claim(gateway, "w1")
    failed = gateway.dispatcher.process_batch(ids, "w1")
    assert list(failed) == [made[1][2]]
    assert "already holds different files" in str(failed[made[1][2]])
    with pytest.raises(Exception, match="already holds different files"):
        gateway.dispatcher.process(made[1][2], "w1")  # the per-document call raises it
    statuses = _statuses(gateway)
    assert statuses[made[1][2]] == "created"  # still claimed: the worker records the attempt
    assert statuses[made[0][2]] == statuses[made[2][2]] == "sent"


def test_the_worker_batch_call_returns_only_failures(gateway: Gateway) -> None:
    made = _orders(gateway, 4)
    ids = _claim(gateway, "w1")
    failed: dict[int, Any] = gateway.dispatcher.process_batch(ids, "w1")
    assert failed == {}
    assert all(_statuses(gateway)[order] == "delivered" for _, order, _ in made)


def test_a_crash_after_writing_redelivers_under_the_same_names(gateway: Gateway) -> None:
    made = _orders(gateway, 2)
    ids = _claim(gateway, "w1")
    real = gateway.dispatcher._record

    def crash(*_args: object) -> None:
        raise RuntimeError("killed between the write and the record")

    gateway.dispatcher._record = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        gateway.dispatcher.process_batch(ids, "w1")
    gateway.dispatcher._record = real  # type: ignore[method-assign]
    outbox = gateway.config.erp_root / "outbox/orders"
    first = sorted(p.name for p in outbox.iterdir())
    assert len(first) == 2 and all(_statuses(gateway)[o] == "created" for _, o, _ in made)
    with gateway.store.session() as session:  # the lease expires; a new worker takes over
        session.execute(update(Document).values(claimed_by=None, claimed_at=None))
    Worker(gateway.store, [gateway.lanes()[2]], name="w2").run(until_idle=True)
    assert sorted(p.name for p in outbox.iterdir()) == first  # replaced, never a second file
    pickup = sorted(p.name for p in (gateway.config.sftp_root / "acme-retail/out").iterdir())
    assert len(pickup) == 2  # the same bytes under the same name count as delivered
    assert all(_statuses(gateway)[a] == "sent" for _, _, a in made)
    assert not [p for p in outbox.iterdir() if p.name.startswith(".")]  # no temp left
    assert Path(outbox).is_dir()
