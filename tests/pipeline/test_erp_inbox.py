"""The ERP inbox: what the log says of the files it refuses, and files a worker was taking
when it died."""

from __future__ import annotations

import json
import logging

import pytest

from edigate.app import Gateway

from .test_outbound_flow import ACK, INVOICE, acme_order, drop, erp_docs, rejected, run


def test_a_refused_erp_file_is_a_warning_naming_it_and_why(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """``--log-level WARNING`` keeps every file refused (review finding: they were INFO,
    so a log kept at WARNING never showed them); a file taken stays an INFO line."""
    acme_order(gateway)
    no_po = json.loads(INVOICE.read_text())
    del no_po["po_number"]
    wrong = json.loads(ACK.read_text())
    wrong["lines"][0]["quantity"] = "thirty"
    drop(gateway, "invoices", json.dumps(no_po), "no-po.json")
    drop(gateway, "acks", ACK.read_text().replace("4500012345", "4599999999"), "stray.json")
    drop(gateway, "acks", "{\n  ", "broken.json")
    drop(gateway, "acks", json.dumps(wrong), "wrong.json")
    drop(gateway, "acks", ACK, "nobody/ack.json")
    drop(gateway, "acks", ACK, "good.json")
    caplog.set_level(logging.INFO, logger="edigate.erp")
    run(gateway)

    erp_log = [r for r in caplog.records if r.name == "edigate.erp"]
    warnings = {r.getMessage() for r in erp_log if r.levelname == "WARNING"}
    assert warnings == {
        "ERP file invoices/no-po.json rejected, moved to inbox/rejected/invoices-no-po.json: "
        "the invoice has no PO number, so its partner is unknown; expected a po_number, or "
        "the file in invoices/<partner-id>/",
        "ERP file acks/stray.json rejected, moved to inbox/rejected/acks-stray.json: PO "
        "4599999999 was never received from a partner; expected the PO number of an order "
        "we received, or the file in acks/<partner-id>/ to name the partner",
        "ERP file acks/broken.json rejected, moved to inbox/rejected/acks-broken.json: "
        "line 2, column 3: not valid JSON: Expecting property name enclosed in double quotes",
        "ERP file acks/wrong.json rejected, moved to inbox/rejected/acks-wrong.json: "
        "1 problem(s) against the OrderAck model",
        "ERP file acks/nobody/ack.json rejected, moved to inbox/rejected/acks-ack.json: "
        "folder acks/nobody/ names no configured partner; expected one of: acme-retail, "
        "contoso-cxml, globex-dist, initech-csv",
    }
    assert len(rejected(gateway)) == 10  # each file and its .error.txt
    (taken,) = erp_docs(gateway)
    infos = [r.getMessage() for r in erp_log if r.levelname == "INFO"]
    assert infos == [f"ERP file acks/good.json: document {taken.id}"]
