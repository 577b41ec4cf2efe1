"""Two copies of one interchange, claimed by two workers at once, planned before either
commits: the duplicate check at planning cannot see the other, so the commit asks again
(after taking turns on the interchange on PostgreSQL). One copy reaches the ERP; the other
is planned again and found a duplicate."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from edigate.app import Gateway
from edigate.pipeline import inbound
from edigate.store import PENDING_INBOUND, Direction, Document

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"


def test_two_copies_planned_at_once_reach_the_erp_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = RETAILER.read_bytes()
    copies = [  # an AS2 retry, an SFTP re-upload: the same interchange twice
        gateway.store.receive(data, channel="sftp", partner_id="acme-retail").document_id
        for _ in range(2)
    ]
    claims = claim_one_each(gateway, copies)
    failed = process_planned_together(gateway, monkeypatch, claims)
    assert failed == {"A": {}, "B": {}}  # nothing failed: the later one was released

    gateway.worker("test").run(until_idle=True)  # the released copy is planned again
    assert_one_processed_the_other_its_duplicate(gateway, copies)
    orders = list((gateway.erp.outbox / "orders").glob("*.json"))
    assert len(orders) == 1, orders


def test_two_copies_of_a_csv_file_planned_at_once_reach_the_erp_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV file has no ISA13: its copies are the same bytes, asked again in the commit
    (scale-out review: with duplicate_po: deliver, 20 of 60 POs reached the ERP twice)."""
    profile = gateway.config.config_dir / "partners/initech-csv.yaml"
    text = profile.read_text()
    assert "\nack:\n" in text
    profile.write_text(text.replace("\nack:\n", "\nack:\n  duplicate_po: deliver\n"))
    gateway._registry.check_every = 0
    data = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    copies = [
        gateway.store.receive(data, channel="sftp", partner_id="initech-csv").document_id
        for _ in range(2)
    ]
    failed = process_planned_together(gateway, monkeypatch, claim_one_each(gateway, copies))
    assert failed == {"A": {}, "B": {}}
    gateway.worker("test").run(until_idle=True)
    assert_one_processed_the_other_its_duplicate(gateway, copies)
    assert len(list((gateway.erp.outbox / "orders").glob("*.json"))) == 2  # its two POs


def test_the_commits_content_check_is_one_query_per_batch_not_per_file(
    gateway: Gateway,
) -> None:
    """The re-check in the commit asks about every CSV file of the batch at once: a query
    per file, under SQLite's write lock, cost the review's 40 files 40 statements."""
    data = (ROOT / "samples/csv/initech-orders.csv").read_text()
    asked: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "documents.blob_sha256" in statement and "documents.status IN" in statement:
            asked.append(statement)

    queries = {}
    event.listen(gateway.store.engine, "before_cursor_execute", count)
    try:
        for files in (4, 12):
            asked.clear()
            for n in range(files):
                text = data.replace("IN-26-", f"Q{files}-{n}-")
                gateway.store.receive(text.encode(), channel="sftp", partner_id="initech-csv")
            gateway.worker("test").run(until_idle=True)
            queries[files] = len(asked)
    finally:
        event.remove(gateway.store.engine, "before_cursor_execute", count)
    assert queries[4] == queries[12], queries  # per batch, however many files
    assert len(list((gateway.erp.outbox / "orders").glob("*.json"))) == 2 * (4 + 12)


def assert_one_processed_the_other_its_duplicate(gateway: Gateway, copies: list[int]) -> None:
    with gateway.store.reading() as session:
        files = {
            d.id: (d.status, d.duplicate_of_id)
            for d in session.scalars(select(Document).where(Document.id.in_(copies)))
        }
    (first,) = [i for i, (status, _) in files.items() if status == "translated"]
    (second,) = [i for i in copies if i != first]
    assert files[second] == ("duplicate", first), files


def claim_one_each(gateway: Gateway, ids: list[int]) -> dict[str, list[int]]:
    """Workers "A" and "B" claim one of ``ids`` each."""
    claims = {
        name: gateway.store.claim(name, PENDING_INBOUND, direction=Direction.INBOUND, limit=1)
        for name in ("A", "B")
    }
    assert sorted(i for found in claims.values() for i in found) == ids  # one each
    return claims


def process_planned_together(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, claims: dict[str, list[int]]
) -> dict[str, Any]:
    """Each worker processes its claim in a thread of its own; neither commits before both
    have planned (so neither's planning saw the other's commit). Returns what each failed."""
    both_planned = threading.Barrier(2, timeout=10)
    commit = inbound.InboundProcessor._commit_pieces

    def after_both_planned(self: Any, items: Any, worker: str) -> Any:
        both_planned.wait()  # each worker's duplicate check ran before either commits
        return commit(self, items, worker)

    monkeypatch.setattr(inbound.InboundProcessor, "_commit_pieces", after_both_planned)
    failed: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=lambda n=name, f=found: failed.update({n: gateway.inbound.process_batch(f, n)})
        )
        for name, found in claims.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    monkeypatch.setattr(inbound.InboundProcessor, "_commit_pieces", commit)
    return failed
