"""One log line per thing that happens to a document, once it is committed, each naming
the partner, the type, the channel and the file's correlation ID: operations can follow a
partner's file from receipt to every acknowledgement and order in the logs alone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edigate.app import Gateway
from edigate.store import Document, Status

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "edigate.documents"]


def test_a_files_way_is_logged_under_its_correlation_id(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edigate.documents")
    receipt = gateway.store.receive(
        RETAILER.read_bytes(), channel="sftp", partner_id="acme-retail", filename="po.edi"
    )
    gateway.worker("test").run(until_idle=True)
    lines = _lines(caplog)
    tagged = [line for line in lines if f"correlation={receipt.correlation_id}" in line]
    assert tagged == lines, "every line names the file's correlation ID"
    first = f"received document={receipt.document_id} status=received file=po.edi"
    assert lines[0].startswith(first)
    assert "channel=sftp" in lines[0] and "partner=acme-retail" in lines[0]
    processed = [line for line in lines if line.startswith("processed ")]
    assert processed == [
        f"processed document={receipt.document_id} status=received->translated "
        f"partner=acme-retail channel=sftp file=po.edi "
        f"correlation={receipt.correlation_id} translated=1 rejected=0"
    ]
    sent = [line for line in lines if line.startswith("delivered ")]
    assert any("type=order channel=erp po=4500012345" in line for line in sent), sent
    assert any("type=997 channel=sftp_pickup" in line for line in sent), sent
    assert any("type=855 channel=sftp_pickup po=4500012345" in line for line in sent), sent
    (to_erp,) = [line for line in lines if line.startswith("delivered_to_erp ")]
    assert "status=translated->delivered" in to_erp and "po=4500012345" in to_erp
    created = [line for line in lines if line.startswith("created ")]
    made = {part for line in created for part in line.split() if part.startswith("type=")}
    assert {"type=850", "type=order", "type=997", "type=855"} <= made, created
    assert all(f"parent={receipt.document_id}" in line for line in created[:1]), created
    assert not [line for line in lines if "=None" in line]


def test_nothing_is_logged_for_a_transaction_that_rolls_back(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edigate.documents")
    receipt = gateway.store.receive(b"ISA*hello", channel="cli", filename="x.edi")
    caplog.clear()
    with pytest.raises(RuntimeError), gateway.store.session() as session:
        doc = gateway.store.get(session, receipt.document_id)
        gateway.store.transition(session, doc, Status.REJECTED, "processed")
        raise RuntimeError("the commit never happens")
    assert _lines(caplog) == []
    with gateway.store.session() as session:
        doc = gateway.store.get(session, receipt.document_id)
        assert isinstance(doc, Document) and doc.status == Status.RECEIVED.value
        gateway.store.transition(session, doc, Status.REJECTED, "processed")
    assert _lines(caplog) == [
        f"processed document={receipt.document_id} status=received->rejected channel=cli "
        f"file=x.edi correlation={receipt.correlation_id}"
    ]


def test_a_failed_attempt_is_a_warning(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edigate.documents")
    receipt = gateway.store.receive(b"ISA*hello", channel="cli", filename="x.edi")
    (claimed,) = gateway.store.claim("w", (Status.RECEIVED,), limit=1)
    assert claimed == receipt.document_id
    gateway.store.fail(receipt.document_id, "w", "OSError: disk full", max_attempts=1)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("attempt_failed")]
    assert record.levelno == logging.WARNING
    assert "status=received->dead" in record.getMessage()
    assert "error='OSError: disk full'" in record.getMessage()


def test_a_rejected_file_is_a_warning_that_says_why(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A log kept at WARNING showed no trace of a refused file, and its INFO line said
    rejected=0 with no reason (operations walkthrough)."""
    caplog.set_level(logging.WARNING, logger="edigate.documents")
    text = b"Hello. This is not an EDI file at all.\nRegards. Bob\n"
    receipt = gateway.store.receive(text, channel="folder", filename="notedi.txt")
    gateway.worker("test").run(until_idle=True)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("processed ")]
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert f"document={receipt.document_id} status=received->rejected" in line
    assert "reason=" in line and "expected an X12 interchange" in line, line


def test_a_failing_log_handler_does_not_undo_a_committed_receive(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The line is written after the commit: a handler that breaks must not make the
    channel tell the sender the file was refused (it would send it again)."""
    caplog.set_level(logging.INFO, logger="edigate.documents")

    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.name == "edigate.documents" and record.getMessage().startswith("received"):
                raise OSError("log disk full")
            return True

    broken = Broken()
    logging.getLogger("edigate.documents").addFilter(broken)
    try:
        receipt = gateway.store.receive(b"ISA*hello", channel="cli", filename="x.edi")
    finally:
        logging.getLogger("edigate.documents").removeFilter(broken)
    with gateway.store.reading() as session:
        assert gateway.store.get(session, receipt.document_id).status == Status.RECEIVED.value
    assert any("could not log received of document" in r.getMessage() for r in caplog.records)
