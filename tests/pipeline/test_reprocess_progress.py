"""Reprocessing a large file that died after some of its pieces were committed: the new
attempt resumes after them (no order reaches the ERP twice, each interchange gets one 997
naming each of its transactions once); a file still being retried is refused; --from-start
runs it again from the beginning, and says what goes out again. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest

from edigate.app import Gateway
from edigate.pipeline.inbound import PROGRESS_KEY
from edigate.pipeline.operations import ReprocessRefused, plan_reprocess, reprocess
from edigate.store import Document
from edigate.x12.acks import parse_acks

from .test_inbound_flow import RETAILER, by_type, docs, erp_orders, out_files
from .test_pieces_and_batches import _events, _fail_on_call, _file

CHUNK = 5
FIRST, SECOND = 12, 13  # transactions in the file's two interchanges
TOTAL = FIRST + SECOND


def dead_partial_file(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> int:
    """A two-interchange file that dies in its fourth piece: three pieces are committed
    (the first interchange whole, with its 997, and 3 transactions of the second)."""
    gw.inbound.chunk_transactions = CHUNK
    gw.config.worker.max_attempts = 1
    data = _file(FIRST, 1) + _file(SECOND, 2)
    doc_id = gw.store.receive(data, channel="cli", filename="big.edi").document_id
    _fail_on_call(monkeypatch, lambda n, _doc: n >= 4)
    gw.worker("first").run(until_idle=True)
    monkeypatch.undo()
    return doc_id


def _doc(gw: Gateway, doc_id: int) -> Document:
    return next(d for d in docs(gw) if d.id == doc_id)


def _acks_by_file(gw: Gateway) -> list[list[str]]:
    """For each 997 in ACME's out/ folder, the ST02s its AK2s answer for."""
    found = []
    for name, data in out_files(gw, "acme-retail").items():
        if name.startswith("997"):
            (group,) = parse_acks(data).groups
            found.append(sorted(tx.control_number for tx in group.transactions))
    return sorted(found, key=len)


def _numbers(count: int) -> list[str]:
    return [f"{i:04d}" for i in range(1, count + 1)]


def test_reprocess_of_a_dead_file_resumes_after_its_committed_pieces(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = dead_partial_file(gateway, monkeypatch)
    original = _doc(gateway, doc_id)
    assert original.status == "dead"
    progress = (original.meta or {})[PROGRESS_KEY]
    assert (progress["interchange"], progress["transaction"]) == (1, 3)
    assert len(erp_orders(gateway)) == FIRST + 3
    assert _acks_by_file(gateway) == [_numbers(FIRST)]  # the first interchange's, already

    attempt = reprocess(gateway.store, doc_id)
    assert attempt.resumed is not None and attempt.restarted is None
    assert (attempt.resumed.pieces, attempt.resumed.transactions) == (3, FIRST + 3)
    assert attempt.resumed.orders == FIRST + 3
    assert (attempt.resumed.interchange, attempt.resumed.transaction) == (1, 3)
    gateway.worker("second").run(until_idle=True)

    new = _doc(gateway, attempt.attempt)
    assert new.status == "translated" and new.reprocess_of_id == doc_id
    assert PROGRESS_KEY not in (new.meta or {})
    assert (new.meta or {})["resumed_from"] == {"doc": doc_id, "interchange": 1, "transaction": 3}
    # The file's final verdict counts the original's pieces too.
    assert _events(gateway, new.id, "processed")[0].detail == {"translated": TOTAL, "rejected": 0}
    # Each order reached the ERP once: the committed ones were not sent again.
    pos = Counter(o["po_number"] for o in erp_orders(gateway))
    assert len(pos) == TOTAL and set(pos.values()) == {1}
    # Each transaction has one child, under the original or the attempt.
    children = by_type(gateway, "850")
    keys = Counter((c.interchange_control, c.transaction_control) for c in children)
    assert len(keys) == TOTAL and set(keys.values()) == {1}
    assert sum(c.parent_id == new.id for c in children) == SECOND - 3
    assert len(by_type(gateway, "855")) == TOTAL
    # One 997 per interchange, naming every transaction once: the second one built by the
    # attempt from all 13, though the original committed three of them.
    assert _acks_by_file(gateway) == [_numbers(FIRST), _numbers(SECOND)]
    (second_997,) = [d for d in by_type(gateway, "997") if d.parent_id == new.id]
    assert second_997.status == "sent"
    controls = [d.interchange_control for d in docs(gateway) if d.direction == "out"]
    controls = [c for c in controls if c is not None]
    assert len(controls) == len(set(controls))

    # The original's remaining transactions belong to that attempt now: not twice.
    with pytest.raises(ReprocessRefused) as refused:
        reprocess(gateway.store, doc_id)
    message = str(refused.value)
    assert f"document {doc_id}" in message and f"attempt {attempt.attempt}" in message
    assert "3 piece(s)" in message and "--from-start" in message
    # The attempt finished, its orders in the ERP outbox: running it again would send them
    # twice, so only --from-start does.
    with pytest.raises(ReprocessRefused, match="every transaction's order is in the ERP outbox"):
        plan_reprocess(gateway.store, attempt.attempt)
    assert plan_reprocess(gateway.store, attempt.attempt, from_start=True) == (None, 0)


def test_a_file_the_worker_still_retries_is_refused_naming_its_pieces(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway.inbound.chunk_transactions = CHUNK
    doc_id = gateway.store.receive(_file(FIRST, 3), channel="cli").document_id
    _fail_on_call(monkeypatch, lambda n, _doc: n == 3)
    gateway.worker("first").run(until_idle=True)
    assert _doc(gateway, doc_id).status == "failed"  # to be retried, from its progress
    before = len(docs(gateway))

    for from_start in (False, True):
        with pytest.raises(ReprocessRefused) as refused:
            reprocess(gateway.store, doc_id, from_start=from_start)
        message = str(refused.value)
        assert f"document {doc_id} is failed" in message
        assert "2 piece(s)" in message and "10 order(s)" in message
        assert "resumes it" in message
    assert len(docs(gateway)) == before  # nothing was queued


def test_from_start_runs_the_whole_file_again_and_records_what_goes_again(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = dead_partial_file(gateway, monkeypatch)
    attempt = reprocess(gateway.store, doc_id, from_start=True)
    assert attempt.resumed is None and attempt.restarted is not None
    assert attempt.restarted.orders == FIRST + 3
    assert len(attempt.sent_again) == FIRST + 3 and all(s.to_erp for s in attempt.sent_again)
    (event,) = _events(gateway, doc_id, "reprocessed")
    assert (event.detail or {})["from_start"]["orders"] == FIRST + 3
    gateway.worker("second").run(until_idle=True)

    new = _doc(gateway, attempt.attempt)
    assert new.status == "translated"
    assert _events(gateway, new.id, "processed")[0].detail == {"translated": TOTAL, "rejected": 0}
    pos = Counter(o["po_number"] for o in erp_orders(gateway))
    assert len(pos) == TOTAL
    assert sum(n == 2 for n in pos.values()) == FIRST + 3  # what the operator asked for


def test_a_dead_file_without_committed_pieces_runs_from_the_start(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway.config.worker.max_attempts = 1
    doc_id = gateway.store.receive(RETAILER.read_bytes(), channel="cli").document_id
    _fail_on_call(monkeypatch, lambda _n, _doc: True)
    gateway.worker("first").run(until_idle=True)
    monkeypatch.undo()
    assert _doc(gateway, doc_id).status == "dead"
    assert plan_reprocess(gateway.store, doc_id) == (None, 0)
    attempt = reprocess(gateway.store, doc_id)
    assert attempt.resumed is None
    gateway.worker("second").run(until_idle=True)
    assert _doc(gateway, attempt.attempt).status == "translated"
    assert len(erp_orders(gateway)) == 1


def test_an_attempt_that_dies_before_its_first_piece_is_resumed_from_the_same_place(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc_id = dead_partial_file(gateway, monkeypatch)
    first = reprocess(gateway.store, doc_id)
    _fail_on_call(monkeypatch, lambda _n, _doc: True)
    gateway.worker("second").run(until_idle=True)
    monkeypatch.undo()
    assert _doc(gateway, first.attempt).status == "dead"

    again, skipped = plan_reprocess(gateway.store, first.attempt)
    assert again is not None and skipped == 0 and (again.interchange, again.transaction) == (1, 3)
    assert again.pieces == 0 and again.resumed_from == doc_id
    assert f"after the pieces of document {doc_id}" in again.describe()
    second = reprocess(gateway.store, first.attempt)
    gateway.worker("third").run(until_idle=True)

    assert _doc(gateway, second.attempt).status == "translated"
    pos = Counter(o["po_number"] for o in erp_orders(gateway))
    assert len(pos) == TOTAL and set(pos.values()) == {1}
    assert _acks_by_file(gateway) == [_numbers(FIRST), _numbers(SECOND)]
