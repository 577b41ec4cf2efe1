"""The ERP inbox: what the log says of the files it refuses, and files a worker was taking
when it died."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from edigate.app import Gateway
from edigate.pipeline.claims import release_gateway_files
from edigate.pipeline.erp import ErpFolder
from edigate.pipeline.name_locks import name_lock

from .test_crash import ROOT, edigate
from .test_outbound_flow import (
    ACK,
    INVOICE,
    RETAILER,
    acme_order,
    drop,
    erp_docs,
    rejected,
    run,
)


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


def test_a_worker_restarted_under_its_name_takes_back_the_erp_files_it_was_taking(
    tmp_path: Path,
) -> None:
    """``edigate worker --name wk`` killed while it held ERP files: ``edigate worker --name
    wk`` started again sends them at once, not after the claim timeout (review finding:
    one invoice of 200 stayed hidden for 5 minutes). Another worker's files stay its own."""
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)
    subprocess.run(edigate(tmp_path, "receive", str(RETAILER)), check=True, timeout=120)
    erp = ErpFolder(tmp_path / "data/erp")
    invoice = json.loads(INVOICE.read_text())
    for n in range(4):
        invoice["invoice_number"] = f"INV-{n}"
        (erp.inbox / "invoices" / f"inv-{n}.json").write_text(json.dumps(invoice))
    # What the killed worker (and two others) left: files hidden under their claims.
    holders = {"inv-0.json": "wk", "inv-1.json": "wk", "inv-2.json": "wk2", "inv-3.json": None}
    for item in list(erp.pending()):
        assert erp.claim(item, holders[item.name]) is not None

    done = subprocess.run(
        edigate(tmp_path, "worker", "--name", "wk", "--until-idle"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    taken = sorted(p.name.partition("-")[2] for p in (erp.inbox / "processed").iterdir())
    assert taken == ["inv-0.json", "inv-1.json"]
    out = tmp_path / "data/sftp/acme-retail/out"
    invoices = [p for p in out.iterdir() if b"BIG*" in p.read_bytes()]
    assert len(invoices) == 2
    assert erp.takers() == {"wk2"} and list(erp.pending()) == []


def test_serve_takes_back_the_erp_files_of_the_names_no_live_process_holds(
    gateway: Gateway,
) -> None:
    """serve --name gw: what gw and gw/1 ... left (any worker count before) comes back at
    once, except what a live gw/1 (a killed serve's worker finishing its batch) holds."""
    erp = gateway.erp
    for n, taker in enumerate(["gw", "gw/1", "gw/2", "gw2/1", "gwx"]):
        (erp.inbox / "acks" / f"{n}-{taker.replace('/', '_')}.json").write_text("{}")
    for item in list(erp.pending()):
        erp.claim(item, item.name.partition("-")[2].removesuffix(".json").replace("_", "/"))
    alive = name_lock(gateway.store, "gw/1")
    assert alive.try_acquire()
    try:
        assert release_gateway_files(gateway.store, erp, "gw") == 2
    finally:
        alive.release()
    assert [p.name for p in erp.pending()] == ["0-gw.json", "2-gw_2.json"]
    assert erp.takers() == {"gw/1", "gw2/1", "gwx"}
    assert name_lock(gateway.store, "gw/2").try_acquire()  # none left held
