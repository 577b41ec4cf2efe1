"""An original order whose PO the ERP has already is held, on SQLite and on PostgreSQL: a
partner's resend under a new ISA13, a reprocess after the partner's corrected copy, a PO
twice in one file, a CSV partner's second file; a change order, a test order and a
partner set to ``duplicate_po: deliver`` go through."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.pipeline import repeated_orders
from edigate.pipeline.operations import reprocess
from edigate.store import Document

from .test_concurrent_copies import claim_one_each, process_planned_together
from .test_crash import many_orders
from .test_pieces_and_batches import _fail_on_call

ROOT = Path(__file__).resolve().parents[2]
RETAILER = (ROOT / "samples/x12/850-004010-retailer.edi").read_bytes()
INITECH = (ROOT / "samples/csv/initech-orders.csv").read_bytes()


def receive(gw: Gateway, data: bytes, partner_id: str = "acme-retail", **kw: object) -> int:
    receipt = gw.store.receive(data, channel="cli", partner_id=partner_id, **kw)  # type: ignore[arg-type]
    gw.worker("test").run(until_idle=True)
    return receipt.document_id


def docs(gw: Gateway, doc_type: str) -> list[Document]:
    with gw.store.session() as session:
        query = select(Document).where(Document.doc_type == doc_type).order_by(Document.id)
        return list(session.scalars(query))


def status(gw: Gateway, doc_id: int) -> str:
    with gw.store.session() as session:
        return gw.store.get(session, doc_id).status


def erp_pos(gw: Gateway) -> list[str]:
    folder = gw.erp.outbox / "orders"
    return sorted(json.loads(p.read_text())["po_number"] for p in folder.glob("*.json"))


def renumbered(isa13: int, data: bytes = RETAILER) -> bytes:
    return data.replace(b"000004211", b"%09d" % isa13)


def profile_edit(gw: Gateway, partner: str, old: str, new: str) -> None:
    path = gw.config.config_dir / f"partners/{partner}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    gw._registry.check_every = 0  # see the edit at once


def test_a_reprocess_after_the_partners_corrected_copy_does_not_deliver_twice(
    gateway: Gateway,
) -> None:
    """Our 997 rejects the group (a version not accepted yet); the partner sends it again
    under a new ISA13 once we accept it, and it is delivered; the operator's reprocess of
    the first file then holds its order, naming the delivered one."""
    window = "  duplicate_window_days: 30\n"
    profile_edit(gateway, "acme-retail", window, window + '  accept_versions: ["005010"]\n')
    first = receive(gateway, RETAILER)
    assert status(gateway, first) == "rejected" and erp_pos(gateway) == []
    profile_edit(gateway, "acme-retail", '  accept_versions: ["005010"]\n', "")
    resent = receive(gateway, renumbered(4300))
    assert status(gateway, resent) == "translated" and erp_pos(gateway) == ["4500012345"]

    attempt = reprocess(gateway.store, first).attempt
    gateway.worker("test").run(until_idle=True)
    assert erp_pos(gateway) == ["4500012345"]  # once
    delivered = next(d for d in docs(gateway, "850") if d.parent_id == resent)
    held = next(d for d in docs(gateway, "850") if d.parent_id == attempt)
    assert (held.status, held.duplicate_of_id) == ("duplicate", delivered.id)
    assert status(gateway, attempt) == "duplicate"
    assert len(docs(gateway, "855")) == 1  # no second 855 for it either


def test_a_po_twice_in_one_interchange_reaches_the_erp_once(gateway: Gateway) -> None:
    text = RETAILER.decode()
    body = text[text.index("ST*850") : text.index("GE*")]
    twice = text.replace(
        body, body + body.replace("ST*850*0001", "ST*850*0002").replace("SE*32*0001", "SE*32*0002")
    ).replace("GE*1*", "GE*2*")
    doc_id = receive(gateway, twice.encode())
    assert status(gateway, doc_id) == "translated" and erp_pos(gateway) == ["4500012345"]
    first, second = docs(gateway, "850")
    assert (first.status, second.status) == ("delivered", "duplicate")
    assert "is earlier in this file (ST 0001)" in second.errors[-1]["message"]


def test_a_test_order_and_a_partner_that_reuses_pos_are_not_held(gateway: Gateway) -> None:
    """A test interchange's order is compared with test orders only (it goes to the ERP's
    test folder); with ``duplicate_po: deliver`` a repeated PO is delivered."""
    receive(gateway, RETAILER)
    test = renumbered(4301).replace(b"ACMERETAIL     ", b"ACMETEST       ", 1)
    receive(gateway, test.replace(b"*P*>~", b"*T*>~", 1))
    assert [d.status for d in docs(gateway, "850")] == ["delivered", "delivered"]
    receive(
        gateway,
        renumbered(4302)
        .replace(b"ACMERETAIL     ", b"ACMETEST       ", 1)
        .replace(b"*P*>~", b"*T*>~", 1),
    )
    assert [d.status for d in docs(gateway, "850")][-1] == "duplicate"  # test against test

    profile_edit(
        gateway,
        "acme-retail",
        "  duplicate_window_days: 30\n",
        "  duplicate_window_days: 30\n  duplicate_po: deliver\n",
    )
    receive(gateway, renumbered(4303))
    assert erp_pos(gateway) == ["4500012345", "4500012345"]


def test_a_csv_partners_second_file_with_the_same_po_is_held(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One PO per query: a batch with many orders is read in bounded queries, all counted.
    monkeypatch.setattr(repeated_orders, "_PER_QUERY", 1)
    first = receive(gateway, INITECH, partner_id="initech-csv")
    assert status(gateway, first) == "translated"
    delivered = erp_pos(gateway)
    assert len(delivered) == 2
    again = receive(gateway, INITECH + b"\n", partner_id="initech-csv")  # other bytes
    assert status(gateway, again) == "duplicate"
    assert erp_pos(gateway) == delivered
    held = [d for d in docs(gateway, "order") if d.parent_id == again]
    assert [d.status for d in held] == ["duplicate", "duplicate"]
    assert all("is in the ERP already" in d.errors[-1]["message"] for d in held)


def test_two_workers_with_one_po_in_two_files_at_once_deliver_it_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two interchanges (two ISA13s) with one PO, claimed by two workers and planned before
    either commits: the check in the commit, after taking turns on the PO on PostgreSQL
    (SQLite's write lock orders commits), holds whichever commits second."""
    ids = [
        gateway.store.receive(renumbered(n), channel="sftp", partner_id="acme-retail").document_id
        for n in (4310, 4311)
    ]
    failed = process_planned_together(gateway, monkeypatch, claim_one_each(gateway, ids))
    assert failed == {"A": {}, "B": {}}
    gateway.worker("test").run(until_idle=True)  # deliver the order
    assert erp_pos(gateway) == ["4500012345"]
    assert sorted(status(gateway, i) for i in ids) == ["duplicate", "translated"]


def test_two_files_with_one_po_in_one_workers_batch_deliver_it_once(gateway: Gateway) -> None:
    """Both files are committed in one transaction: the batch notes what it commits, as the
    ERP orders it read before writing cannot include them."""
    ids = [
        gateway.store.receive(renumbered(n), channel="sftp", partner_id="acme-retail").document_id
        for n in (4320, 4321)
    ]
    gateway.worker("test").run(until_idle=True)
    assert erp_pos(gateway) == ["4500012345"]
    assert [status(gateway, i) for i in ids] == ["translated", "duplicate"]
    first, second = docs(gateway, "850")
    assert (second.status, second.duplicate_of_id) == ("duplicate", first.id)


def test_a_held_order_is_released_by_a_reprocess_once_the_partner_may_reuse_pos(
    gateway: Gateway,
) -> None:
    """The file holding only a repeated PO is no copy of another file, so a reprocess is
    not refused: run again it is held again, until the onboarding team says this partner
    reuses PO numbers; then the order goes through."""
    receive(gateway, RETAILER)
    held = receive(gateway, renumbered(4330))
    assert status(gateway, held) == "duplicate"
    again = reprocess(gateway.store, held).attempt
    gateway.worker("test").run(until_idle=True)
    assert status(gateway, again) == "duplicate" and erp_pos(gateway) == ["4500012345"]

    window = "  duplicate_window_days: 30\n"
    profile_edit(gateway, "acme-retail", window, window + "  duplicate_po: deliver\n")
    released = reprocess(gateway.store, again).attempt
    gateway.worker("test").run(until_idle=True)
    assert status(gateway, released) == "translated"
    assert erp_pos(gateway) == ["4500012345", "4500012345"]


def _pos(gw: Gateway) -> Counter[str]:
    folder = gw.erp.outbox / "orders"
    return Counter(json.loads(p.read_text())["po_number"] for p in folder.glob("*.json"))


def test_a_reprocess_holds_a_repeat_of_an_order_its_earlier_run_delivered(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ST 1 and ST 10 of one file carry one PO; the file dies after its first piece (ST 1
    delivered), and an operator's reprocess resumes it: ST 10 is held, as the worker's own
    resume holds it. Likewise a finished file's repeat, when a reprocess retries another
    transaction of it. The transaction an earlier run delivered is never counted against
    itself (a --from-start run sends it again on purpose)."""
    gateway.inbound.chunk_transactions = 5
    gateway.config.worker.max_attempts = 1
    data = many_orders(12, 1).replace(b"4100000010", b"4100000001")
    doc_id = gateway.store.receive(data, channel="cli", filename="big.edi").document_id
    _fail_on_call(monkeypatch, lambda n, _doc: n >= 2)
    gateway.worker("first").run(until_idle=True)
    monkeypatch.undo()
    assert _pos(gateway)["4100000001"] == 1
    attempt = reprocess(gateway.store, doc_id)
    assert attempt.resumed is not None
    gateway.worker("second").run(until_idle=True)
    assert _pos(gateway)["4100000001"] == 1 and len(_pos(gateway)) == 11

    # ST 0001 delivered, ST 0002 rejected (SE01), ST 0003 repeats ST 0001's PO: held.
    finished = many_orders(3, 2).replace(b"000004211", b"000004800")
    finished = finished.replace(b"4200000003", b"4200000001").replace(b"SE*32*0002", b"SE*31*0002")
    assert finished.count(b"4200000001") == 2 and finished.count(b"SE*31*0002") == 1
    first = receive(gateway, finished, partner_id=None)  # type: ignore[arg-type]
    before = _pos(gateway)
    assert before["4200000001"] == 1
    again = reprocess(gateway.store, first).attempt  # to retry ST 0002
    gateway.worker("w").run(until_idle=True)
    assert _pos(gateway) == before
    held = [d for d in docs(gateway, "850") if d.parent_id == again]
    assert [(d.transaction_control, d.status) for d in held] == [
        ("0002", "rejected"),
        ("0003", "duplicate"),
    ]


def test_a_batch_committed_again_alone_holds_against_what_was_committed(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A and B share a PO; C fails the batch's transaction, so each is committed again
    alone: B's hold must name A's order as committed then, not the rolled-back row."""
    a, b = (
        gateway.store.receive(renumbered(n), channel="sftp", partner_id="acme-retail").document_id
        for n in (4400, 4401)
    )
    other = many_orders(1, 7).replace(b"000004211", b"000004402")
    c = gateway.store.receive(other, channel="sftp", partner_id="acme-retail").document_id
    failed: list[int] = []
    _fail_on_call(monkeypatch, lambda _n, doc: doc.id == c and not failed and not failed.append(1))
    gateway.worker("w").run(until_idle=True)
    monkeypatch.undo()
    assert failed == [1]
    (first,) = [d for d in docs(gateway, "850") if d.parent_id == a]
    (held,) = [d for d in docs(gateway, "850") if d.parent_id == b]
    assert (first.status, held.status, held.duplicate_of_id) == ("delivered", "duplicate", first.id)
    assert _pos(gateway)["4500012345"] == 1


def test_a_held_csv_order_is_released_without_sending_the_files_others_again(
    gateway: Gateway,
) -> None:
    """The second file repeats IN-26-1001 (held) and brings IN-26-7777 (delivered). Once
    the partner may reuse PO numbers, a reprocess runs only what the first run did not
    deliver: IN-26-1001 goes through, IN-26-7777 is not sent a second time."""
    receive(gateway, INITECH, partner_id="initech-csv")
    assert INITECH.count(b"IN-26-1002") == 1
    second = receive(gateway, INITECH.replace(b"IN-26-1002", b"IN-26-7777"), "initech-csv")
    assert status(gateway, second) == "translated"
    assert _pos(gateway) == Counter({"IN-26-1001": 1, "IN-26-1002": 1, "IN-26-7777": 1})

    profile_edit(gateway, "initech-csv", "ack:\n", "ack:\n  duplicate_po: deliver\n")
    attempt = reprocess(gateway.store, second)
    gateway.worker("test").run(until_idle=True)
    assert _pos(gateway) == Counter({"IN-26-1001": 2, "IN-26-1002": 1, "IN-26-7777": 1})
    assert status(gateway, attempt.attempt) == "translated"
    assert [d.po_number for d in docs(gateway, "order") if d.parent_id == attempt.attempt] == [
        "IN-26-1001"
    ]


def test_a_csv_file_recorded_without_its_orders_places_is_not_run_again(
    gateway: Gateway,
) -> None:
    """Orders recorded before each kept its place in the file cannot be told apart across
    runs: a reprocess of such a file, with orders delivered and one rejected, is refused
    rather than sending the delivered ones again."""
    from sqlalchemy import update

    from edigate.pipeline.operations import ReprocessRefused
    from edigate.pipeline.partner_files import FILE_POSITION_KEY

    bad = INITECH.replace(b"IN-26-1002,03/03/2026", b"IN-26-1002,33/03/2026")
    assert bad != INITECH
    doc_id = receive(gateway, bad, partner_id="initech-csv")
    orders = [d for d in docs(gateway, "order") if d.parent_id == doc_id]
    assert sorted(d.status for d in orders) == ["delivered", "rejected"]
    with gateway.store.session() as session:
        for d in orders:
            old = {k: v for k, v in (d.meta or {}).items() if k != FILE_POSITION_KEY}
            session.execute(update(Document).where(Document.id == d.id).values(meta=old))
    with pytest.raises(ReprocessRefused, match="already put order"):
        reprocess(gateway.store, doc_id)
