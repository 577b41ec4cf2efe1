"""A large file committed in pieces (memory stays flat), resumed after a crash between
pieces with nothing twice; small files committed several at a time, where one that fails
does not take the others with it. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from edigate.app import Gateway
from edigate.pipeline.inbound import PROGRESS_KEY, InboundProcessor
from edigate.store import Document, Status
from edigate.store.schema import AuditEvent
from edigate.x12.acks import parse_acks

from .test_crash import many_orders
from .test_inbound_flow import RETAILER, by_type, docs, erp_orders, out_files

POS = 23
CHUNK = 5


def _file(pos: int, n: int) -> bytes:
    """``pos`` orders in one interchange of its own (ISA13 and PO numbers differ by ``n``)."""
    return many_orders(pos, n).replace(b"000004211", f"{4211 + n:09d}".encode())


def _events(gw: Gateway, doc_id: int, name: str) -> list[AuditEvent]:
    with gw.store.session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.document_id == doc_id, AuditEvent.event == name)
                .order_by(AuditEvent.id)
            )
        )


def _acked_transactions(gw: Gateway) -> list[str]:
    """The ST02s the 997s in ACME's out/ folder answer for (AK2), over all 997s."""
    found = []
    for name, data in out_files(gw, "acme-retail").items():
        if name.startswith("997"):
            for group in parse_acks(data).groups:
                found += [tx.control_number for tx in group.transactions]
    return found


def _outbound_controls(gw: Gateway) -> list[str | None]:
    return [d.interchange_control for d in docs(gw) if d.direction == "out" and d.format == "x12"]


def _fail_on_call(
    monkeypatch: pytest.MonkeyPatch, failing: Callable[[int, Document], bool]
) -> list[int]:
    """Make ``InboundProcessor.commit`` raise when ``failing(call number, doc)`` says so."""
    real = InboundProcessor.commit
    calls: list[int] = []

    def commit(
        self: InboundProcessor, session: Any, doc: Document, plan: Any, given: Any = None
    ) -> None:
        calls.append(doc.id)
        if failing(len(calls), doc):
            raise RuntimeError(f"simulated crash committing document {doc.id}")
        real(self, session, doc, plan, given)

    monkeypatch.setattr(InboundProcessor, "commit", commit)
    return calls


def _due_now(gw: Gateway) -> None:
    with gw.store.session() as session:
        session.execute(update(Document).values(next_attempt_at=None))


def test_a_large_file_is_committed_in_pieces_and_acknowledged_once(gateway: Gateway) -> None:
    gateway.inbound.chunk_transactions = CHUNK
    doc_id = gateway.store.receive(_file(POS, 1), channel="cli").document_id
    gateway.worker("test").run(until_idle=True)

    pieces = _events(gateway, doc_id, "piece_committed")
    assert len(pieces) == POS // CHUNK  # 4 pieces of 5, the last 3 with the file's status
    assert [p.detail["transactions"] for p in pieces] == [CHUNK] * 4
    parent = docs(gateway)[0]
    assert parent.status == "translated" and PROGRESS_KEY not in (parent.meta or {})
    assert _events(gateway, doc_id, "processed")[0].detail == {"translated": POS, "rejected": 0}
    orders = erp_orders(gateway)
    assert len({o["po_number"] for o in orders}) == len(orders) == POS
    assert len(by_type(gateway, "850")) == POS and len(by_type(gateway, "855")) == POS
    (ack,) = by_type(gateway, "997")
    assert sorted(_acked_transactions(gateway)) == [f"{i:04d}" for i in range(1, POS + 1)]
    assert ack.parent_id == doc_id
    controls = _outbound_controls(gateway)
    assert len(controls) == len(set(controls)) == POS + 2  # the 855s, the 997, the TA1


def test_a_crash_between_pieces_resumes_after_the_last_committed_one(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway.inbound.chunk_transactions = CHUNK
    doc_id = gateway.store.receive(_file(POS, 2), channel="cli").document_id
    calls = _fail_on_call(monkeypatch, lambda n, _doc: n == 3)  # dies in the third piece
    gateway.worker("first").run(until_idle=True)
    assert len(calls) == 3
    (parent,) = [d for d in docs(gateway) if d.id == doc_id]
    assert parent.status == "failed" and "simulated crash" in (parent.last_error or "")
    assert parent.meta[PROGRESS_KEY]["transaction"] == 2 * CHUNK  # two pieces are committed
    assert len(by_type(gateway, "850")) == 2 * CHUNK
    assert by_type(gateway, "997") == []  # the 997 goes out once, with the last piece

    monkeypatch.undo()
    _due_now(gateway)
    gateway.worker("second").run(until_idle=True)

    parent = next(d for d in docs(gateway) if d.id == doc_id)
    assert parent.status == "translated" and PROGRESS_KEY not in (parent.meta or {})
    assert _events(gateway, doc_id, "processed")[0].detail == {"translated": POS, "rejected": 0}
    children = by_type(gateway, "850")
    assert sorted(c.transaction_control for c in children) == [
        f"{i:04d}" for i in range(1, POS + 1)
    ]  # each transaction once, though the resumed worker read the file from the start
    orders = erp_orders(gateway)
    assert len({o["po_number"] for o in orders}) == len(orders) == POS
    assert len(by_type(gateway, "997")) == 1
    # The 997 names every transaction, the ones the first worker committed too.
    assert sorted(_acked_transactions(gateway)) == [f"{i:04d}" for i in range(1, POS + 1)]
    controls = _outbound_controls(gateway)
    assert len(controls) == len(set(controls)) == POS + 2


def test_a_resumed_file_acknowledges_a_rejected_transaction_committed_before_the_crash(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway.inbound.chunk_transactions = CHUNK
    data = _file(12, 3).replace(b"BEG*00*SA*4300000002", b"BEG*00*SA*")
    assert data != _file(12, 3)  # the second PO lost its number: rejected
    doc_id = gateway.store.receive(data, channel="cli").document_id
    _fail_on_call(monkeypatch, lambda n, _doc: n == 2)
    gateway.worker("first").run(until_idle=True)
    monkeypatch.undo()
    _due_now(gateway)
    gateway.worker("second").run(until_idle=True)

    parent = next(d for d in docs(gateway) if d.id == doc_id)
    assert _events(gateway, doc_id, "processed")[0].detail == {"translated": 11, "rejected": 1}
    assert [e["code"] for e in parent.errors] == ["transaction_rejected"]
    (ack,) = [v for k, v in out_files(gateway, "acme-retail").items() if k.startswith("997")]
    (group,) = parse_acks(ack).groups
    verdicts = {tx.control_number: tx.status for tx in group.transactions}
    assert verdicts["0002"] == "R" and sum(v == "A" for v in verdicts.values()) == 11


def test_in_a_batch_one_document_that_fails_does_not_take_the_others(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [
        gateway.store.receive(_file(1, n), channel="cli", filename=f"po-{n}.edi").document_id
        for n in range(4)
    ]
    _fail_on_call(monkeypatch, lambda _n, doc: doc.id == ids[1])
    worker = gateway.worker("batch")
    claimed = gateway.store.claim("batch", [Status.RECEIVED], limit=10)
    assert claimed == ids
    failed = gateway.inbound.process_batch(claimed, "batch")
    assert set(failed) == {ids[1]} and "simulated crash" in str(failed[ids[1]])
    by_id = {d.id: d for d in docs(gateway)}
    assert [by_id[i].status for i in ids] == ["translated", "received", "translated", "translated"]
    assert len(by_type(gateway, "997")) == 3

    monkeypatch.undo()
    gateway.store.release(ids[1], "batch")
    worker.run(until_idle=True)
    by_id = {d.id: d for d in docs(gateway)}
    assert [by_id[i].status for i in ids] == ["translated"] * 4
    assert len({o["po_number"] for o in erp_orders(gateway)}) == len(erp_orders(gateway)) == 4
    controls = _outbound_controls(gateway)
    assert len(controls) == len(set(controls)) == 4 * 3  # 855, 997, TA1 per file


def test_in_a_batch_a_document_whose_plan_fails_is_retried_alone(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = gateway.store.receive(RETAILER.read_bytes(), channel="cli").document_id
    bad = gateway.store.receive(_file(2, 7), channel="cli").document_id
    real = InboundProcessor._x12_pieces

    def pieces(self: InboundProcessor, doc: Any, *args: Any) -> Any:
        if doc.id == bad:
            raise ValueError("cannot read this one")
        return real(self, doc, *args)

    monkeypatch.setattr(InboundProcessor, "_x12_pieces", pieces)
    stats = gateway.worker("w").run(until_idle=True)
    by_id = {d.id: d for d in docs(gateway)}
    assert by_id[good].status == "translated"
    assert by_id[bad].status == "failed" and "cannot read this one" in (by_id[bad].last_error or "")
    assert stats.failed == 1


def test_a_batch_commit_skips_a_document_another_worker_took_over(gateway: Gateway) -> None:
    ids = [gateway.store.receive(_file(1, n), channel="cli").document_id for n in range(2)]
    assert gateway.store.claim("slow", [Status.RECEIVED]) == ids
    with gateway.store.session() as session:  # the lease of the second passed to another
        session.execute(update(Document).where(Document.id == ids[1]).values(claimed_by="other"))
    assert gateway.inbound.process_batch(ids, "slow") == {}
    by_id = {d.id: d for d in docs(gateway)}
    assert by_id[ids[0]].status == "translated"
    assert by_id[ids[1]].status == "received" and by_id[ids[1]].claimed_by == "other"
    assert [d.parent_id for d in by_type(gateway, "850")] == [ids[0]]


def test_a_file_repeating_one_of_its_batch_waits_and_is_then_a_duplicate(
    gateway: Gateway,
) -> None:
    same_isa = [gateway.store.receive(many_orders(1, n), channel="cli") for n in (1, 2)]
    same_bytes = [gateway.store.receive(_file(1, 3), channel="cli") for _ in range(2)]
    ids = [r.document_id for r in same_isa + same_bytes]
    assert gateway.store.claim("w", [Status.RECEIVED], limit=10) == ids
    assert gateway.inbound.process_batch(ids, "w") == {}
    by_id = {d.id: d for d in docs(gateway)}
    assert [by_id[i].status for i in ids] == ["translated", "received"] * 2
    assert by_id[ids[1]].claimed_by is None  # given back, not failed
    gateway.worker("w").run(until_idle=True)
    by_id = {d.id: d for d in docs(gateway)}
    assert [by_id[i].status for i in ids] == ["translated", "duplicate"] * 2
    assert len(erp_orders(gateway)) == 2


def test_the_authenticated_partners_reader_limits_bound_its_files(gateway: Gateway) -> None:
    profile = gateway.config.config_dir / "partners" / "acme-retail.yaml"
    profile.write_text(
        profile.read_text() + "limits:\n  max_transaction_segments: 100\n", encoding="utf-8"
    )
    lines = "".join(
        f"PO1*{n}*1*EA*3.25*PE*UP*012345678929*VN*CLP-050~\nPID*F****CLIP, STEEL~\n"
        for n in range(4, 64)
    )
    text = RETAILER.read_text().replace("CTT*3~", lines + "CTT*63~").replace("SE*32*", "SE*152*")
    receipt = gateway.store.receive(text.encode(), channel="sftp", partner_id="acme-retail")
    gateway.worker("w").run(until_idle=True)
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected" and erp_orders(gateway) == []
    assert any("more than 100 segments" in e["message"] for e in child.errors or [])
    # Without the account's partner the reader's own (larger) limits apply.
    other = text.replace("000004211", "000004212").replace("4500012345", "4500012346")
    gateway.store.receive(other.encode(), channel="cli")
    gateway.worker("w").run(until_idle=True)
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012346"]
    assert receipt.document_id < max(d.id for d in docs(gateway))


def test_two_workers_committing_batches_at_once_never_share_a_control_number(
    gateway: Gateway,
) -> None:
    import threading

    for n in range(30):
        gateway.store.receive(_file(1, 10 + n), channel="cli", filename=f"po-{n}.edi")
    workers = [gateway.worker(f"w{i}") for i in range(2)]
    for worker in workers:
        worker.config = worker.config.model_copy(update={"batch": 4})
    threads = [threading.Thread(target=w.run, kwargs={"until_idle": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    gateway.worker("last").run(until_idle=True)  # whatever one left for the other's lease
    orders = erp_orders(gateway)
    assert len({o["po_number"] for o in orders}) == len(orders) == 30
    controls = _outbound_controls(gateway)
    assert len(controls) == len(set(controls)) == 30 * 3
    assert all(w.stats.processed for w in workers)  # both took part


def test_a_repeat_older_than_the_partners_window_is_processed_again(gateway: Gateway) -> None:
    import datetime as dt

    first = gateway.store.receive(_file(1, 40), channel="cli").document_id
    gateway.worker("w").run(until_idle=True)
    with gateway.store.session() as session:  # the first file is 31 days old now
        session.execute(
            update(Document).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        )
    again = gateway.store.receive(_file(1, 40), channel="cli").document_id
    repeat = gateway.store.receive(_file(1, 40), channel="cli").document_id
    gateway.worker("w").run(until_idle=True)
    by_id = {d.id: d for d in docs(gateway)}
    assert by_id[first].status == by_id[again].status == "translated"
    assert by_id[repeat].status == "duplicate" and by_id[repeat].duplicate_of_id == again


_CHILD = """
import sys
from pathlib import Path
from edigate.app import Gateway
from edigate.config import load_config
root = Path(sys.argv[1])
gw = Gateway(load_config(None, environ={}, data_dir=root / "data", config_dir=root / "config"))
gw.inbound.chunk_transactions = 5
worker = gw.worker("child")
worker.config = worker.config.model_copy(update={"lease_seconds": 0.5, "backoff_seconds": 0.01})
worker.run(until_idle=sys.argv[2] == "idle")
"""


def test_kill_9_between_pieces_then_restart_sends_each_order_and_the_997_once(
    tmp_path: Path,
) -> None:
    import os
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from edigate.config import load_config

    from .test_crash import ROOT

    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)
    config = load_config(
        None, environ={}, data_dir=tmp_path / "data", config_dir=tmp_path / "config"
    )
    gw = Gateway(config)
    gw.store.receive(_file(150, 5), channel="cli")
    gw.close()
    rng = random.Random(11)
    # A worker process that commits 5 transactions a piece, killed at random moments: on
    # this machine the first kills land mid-file (after 50 and 125 of the 150 here).
    command = [sys.executable, "-c", _CHILD, str(tmp_path)]
    for _ in range(3):
        proc = subprocess.Popen([*command, "forever"], stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.2, 1.8))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    time.sleep(0.6)  # the killed worker's lease runs out
    done = subprocess.run([*command, "idle"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    gw = Gateway(config)
    try:
        orders = erp_orders(gw)
        assert len({o["po_number"] for o in orders}) == len(orders) == 150
        assert len(by_type(gw, "850")) == 150 and len(by_type(gw, "997")) == 1
        assert sorted(_acked_transactions(gw)) == [f"{i:04d}" for i in range(1, 151)]
        controls = _outbound_controls(gw)
        assert len(controls) == len(set(controls)) == 150 + 2
        assert docs(gw)[0].status == "translated"
    finally:
        gw.close()


def test_a_trailer_error_in_a_large_files_last_piece_is_on_the_file(gateway: Gateway) -> None:
    """GE01 miscounts a group committed in pieces: the 997 rejects the group and the
    file's errors say why, with the GE's segment (the last piece's interchange is a
    continued one; its trailer's findings used to be dropped with it)."""
    gateway.inbound.chunk_transactions = CHUNK
    data = _file(POS, 1)
    assert data.count(b"GE*23*") == 1
    doc_id = gateway.store.receive(data.replace(b"GE*23*", b"GE*24*"), channel="cli").document_id
    gateway.worker("test").run(until_idle=True)
    with gateway.store.session() as session:
        errors = gateway.store.get(session, doc_id).errors
    (ge,) = [e for e in errors if e.get("code") == "AK9-5"]
    assert ge["segment"] == data.count(b"~") - 1 and "GE01" in ge["message"], errors


def test_a_group_naming_other_application_ids_is_read_with_a_warning(gateway: Gateway) -> None:
    """GS02 of another ACME division and GS03 naming someone else: the ISA identified
    acme-retail, so the order is delivered, and the file says what differed and where."""
    data = RETAILER.read_bytes()
    assert data.count(b"GS*PO*ACMERETAIL*EDIGATEDIST*") == 1
    doc_id = gateway.store.receive(
        data.replace(b"GS*PO*ACMERETAIL*EDIGATEDIST*", b"GS*PO*ACMEWEST*SOMEONE*"),
        channel="cli",
        partner_id="acme-retail",
    ).document_id
    gateway.worker("test").run(until_idle=True)
    assert len(erp_orders(gateway)) == 1
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        assert doc.status == "translated"
        warnings = [e for e in doc.errors if e["code"] == "group_party"]
    assert [(w["segment"], w["element"], w["severity"]) for w in warnings] == [
        (2, 2, "warning"),
        (2, 3, "warning"),
    ]
    assert (
        "GS02 'ACMEWEST' is not acme-retail's application sender code 'ACMERETAIL'"
        in (warnings[0]["message"])
    )
