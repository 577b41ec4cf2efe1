"""The outbound flow end to end, on SQLite and on PostgreSQL: the ERP drops an OrderAck,
Shipment or Invoice in its inbox; ACME finds an 855, 856 or 810 in its out/ folder, in its
own item IDs and units, validated, with control numbers nobody else has."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from edigate.app import Gateway
from edigate.formats.safexml import safe_parser
from edigate.pipeline.erp import ErpFolder
from edigate.pipeline.operations import ReprocessRefused, Sent, reprocess, sent_before
from edigate.store import Document
from edigate.x12 import TransactionSet, X12Reader, validate_transaction

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"
ERP = ROOT / "samples/erp"
ACK = ERP / "order-ack-4500012345.json"
SHIPMENT = ERP / "shipment-4500012345.json"
INVOICE = ERP / "invoice-4500012345.json"


def run(gw: Gateway) -> None:
    gw.worker("test").run(until_idle=True)


def acme_order(gw: Gateway) -> None:
    """ACME's 850 for PO 4500012345 arrives; the ERP gets the order."""
    gw.store.receive(RETAILER.read_bytes(), channel="sftp", partner_id="acme-retail")
    run(gw)


def drop(
    gw: Gateway, kind: str, source: Path | str, name: str | None = None, *, fresh: bool = False
) -> Path:
    """The ERP writes a file into its inbox (a path, or JSON text), a minute ago unless
    ``fresh`` (a file that does not parse is given time to be finished when it is new)."""
    target = gw.erp.inbox / kind / (name or (source.name if isinstance(source, Path) else "x"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copy(source, target)
    else:
        target.write_text(source)
    if not fresh:
        written = time.time() - 60
        os.utime(target, (written, written))
    return target


def docs(gw: Gateway) -> list[Document]:
    with gw.store.session() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def erp_docs(gw: Gateway) -> list[Document]:
    return [d for d in docs(gw) if d.channel == "erp" and d.direction == "in"]


def sent(gw: Gateway, doc_type: str) -> list[Document]:
    return [d for d in docs(gw) if d.direction == "out" and d.doc_type == doc_type]


def out_file(gw: Gateway, doc: Document) -> bytes:
    (path,) = (gw.config.sftp_root / "acme-retail/out").glob(f"*-{doc.id}.edi")
    return path.read_bytes()


def transaction(data: bytes) -> TransactionSet:
    (tx,) = [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]
    return tx


def rejected(gw: Gateway) -> dict[str, str]:
    folder = gw.erp.inbox / "rejected"
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_an_erp_ack_reaches_acme_as_an_855_in_its_own_ids_units_and_prices(
    gateway: Gateway,
) -> None:
    acme_order(gateway)
    dropped = drop(gateway, "acks", ACK)
    run(gateway)

    (erp,) = erp_docs(gateway)
    assert (erp.status, erp.partner_id, erp.po_number) == (
        "translated",
        "acme-retail",
        "4500012345",
    )
    assert not dropped.exists()
    (kept,) = (gateway.erp.inbox / "processed").iterdir()
    assert kept.name == f"{erp.id}-{ACK.name}" and kept.read_bytes() == ACK.read_bytes()

    auto, ours = sent(gateway, "855")  # the automatic 855, then the ERP's
    assert ours.parent_id == erp.id and ours.status == "sent"
    data = out_file(gateway, ours)
    # ACME had the automatic 855 for this PO already: the ERP's is its replacement.
    assert b"BAK*05*AC*4500012345*20261120****SO-26-55120*20261121~" in data
    assert [e["code"] for e in erp.errors if e["severity"] == "warning"] == ["erp.replaces"]
    assert f"document {auto.id}" in erp.errors[0]["message"]
    assert b"PO1*1*10*CA*54*PE*UP*012345678905*VN*WID-100*IN*A-100200~" in data
    assert b"ACK*IA*4*CA*068*20261126~ACK*IB*6*CA*068*20261210~" in data.replace(b"\n", b"")
    # 30 EA at 16.0833 goes back as ACME's own 5 CA at 96.50 (not 96.4998).
    assert b"PO1*2*5*CA*96.5*PE*UP*012345678912*VN*GAD-200*IN*A-100300~" in data
    assert b"PO1*3*24*EA*3.25*PE*" in data
    assert b"N1*ST*ACME DC NORTH*92*0420~" in data and b"DC-JOLIET" not in data
    assert b"*ZZ*EDIGATEDIST    *ZZ*ACMERETAIL     *" in data
    tx = transaction(data)
    assert validate_transaction(tx) == []
    # The document records the numbers the partner's 997 will name.
    assert (ours.group_control, ours.transaction_control) == (
        tx.group.control_number if tx.group else None,
        tx.control_number,
    )
    outbound = [d for d in docs(gateway) if d.direction == "out" and d.format == "x12"]
    # 855, 997, TA1 (no group), 855: each its own ISA13; GS06 and ST02 never repeat.
    for column, count in (
        ("interchange_control", 4),
        ("group_control", 3),
        ("transaction_control", 3),
    ):
        values = [getattr(d, column) for d in outbound if getattr(d, column)]
        assert len(values) == len(set(values)) == count, column
    assert auto.interchange_control != ours.interchange_control


def test_a_shipment_becomes_a_validated_856_with_its_hierarchy(gateway: Gateway) -> None:
    acme_order(gateway)
    drop(gateway, "shipments", SHIPMENT)
    run(gateway)
    (erp,) = erp_docs(gateway)
    (asn,) = sent(gateway, "856")
    assert erp.status == "translated" and asn.shipment_id == "ASN-26-004431"
    tx = transaction(out_file(gateway, asn))
    assert validate_transaction(tx) == []
    levels = [tuple(s[1:5]) for s in tx.segments if s[0] == "HL"]
    assert levels == [
        ("1", "", "S", "1"),
        ("2", "1", "O", "1"),
        ("3", "2", "P", "1"),
        ("4", "3", "I", "0"),
        ("5", "3", "I", "0"),
        ("6", "2", "P", "1"),
        ("7", "6", "I", "0"),
    ]
    shipped = [s[1:4] for s in tx.segments if s[0] == "SN1"]
    assert shipped == [["1", "4", "CA"], ["3", "24", "EA"], ["2", "5", "CA"]]
    assert ["LIN", "1", "UP", "012345678905", "VN", "WID-100", "IN", "A-100200"] in tx.segments
    assert ["CTT", "7", "33"] in tx.segments


def items_under_the_order(**changes: object) -> str:
    """The ERP's sample shipment as Shipment, Order, Item (BSN05 0004): no cartons."""
    data = json.loads(SHIPMENT.read_text())
    (order,) = data["orders"]
    order["items"] = [i for p in order.pop("packs") for i in p["items"]]
    data.update(shipment_id="ASN-26-004432", structure_code="0004", lading_quantity=2)
    data.update(changes)
    return json.dumps(data, indent=2)


def test_a_shipment_without_cartons_becomes_an_s_o_i_856(gateway: Gateway) -> None:
    """Drop ship: the items hang on the order (HL I under HL O), mapped to ACME's terms."""
    acme_order(gateway)
    drop(gateway, "shipments", items_under_the_order(), "drop-ship.json")
    run(gateway)
    (erp,) = erp_docs(gateway)
    (asn,) = sent(gateway, "856")
    assert erp.status == "translated" and asn.shipment_id == "ASN-26-004432"
    tx = transaction(out_file(gateway, asn))
    assert validate_transaction(tx) == []
    assert next(s for s in tx.segments if s[0] == "BSN")[5] == "0004"
    levels = [tuple(s[1:5]) for s in tx.segments if s[0] == "HL"]
    assert levels == [
        ("1", "", "S", "1"),
        ("2", "1", "O", "1"),
        ("3", "2", "I", "0"),
        ("4", "2", "I", "0"),
        ("5", "2", "I", "0"),
    ]
    shipped = [s[1:4] for s in tx.segments if s[0] == "SN1"]
    assert shipped == [["1", "4", "CA"], ["3", "24", "EA"], ["2", "5", "CA"]]
    assert ["LIN", "1", "UP", "012345678905", "VN", "WID-100", "IN", "A-100200"] in tx.segments
    assert ["TD1", "CTN25", "2", "", "", "", "G", "112.6", "LB"] in tx.segments
    assert ["CTT", "5", "33"] in tx.segments
    assert not any(s[0] == "MAN" for s in tx.segments)  # no cartons, no SSCCs


def test_a_shipment_without_cartons_or_a_lading_quantity_is_rejected(gateway: Gateway) -> None:
    acme_order(gateway)
    drop(gateway, "shipments", items_under_the_order(lading_quantity=None), "no-count.json")
    run(gateway)
    assert sent(gateway, "856") == []
    (doc,) = erp_docs(gateway)
    assert doc.status == "rejected"
    report = rejected(gateway)["shipments-no-count.json.error.txt"]
    assert "give lading_quantity (TD102, the pieces the carrier handles)" in report


def test_an_invoice_becomes_an_810_with_its_total(gateway: Gateway) -> None:
    acme_order(gateway)
    drop(gateway, "invoices", INVOICE)
    run(gateway)
    (invoice,) = sent(gateway, "810")
    assert invoice.invoice_number == "INV-26-009230" and invoice.po_number == "4500012345"
    tx = transaction(out_file(gateway, invoice))
    assert validate_transaction(tx) == []
    lines = [s[1:6] for s in tx.segments if s[0] == "IT1"]
    assert lines == [
        ["1", "4", "CA", "54", "PE"],
        ["2", "5", "CA", "96.5", "PE"],
        ["3", "24", "EA", "3.25", "PE"],
    ]
    assert ["TDS", "77650"] in tx.segments  # 216.00 + 482.50 + 78.00, in cents


@pytest.mark.parametrize(
    ("kind", "source", "doc_type", "what"),
    [
        ("invoices", INVOICE, "810", "invoice INV-26-009230"),
        ("shipments", SHIPMENT, "856", "ship notice"),
    ],
)
def test_an_invoice_or_asn_number_sent_already_is_held_unless_it_replaces(
    gateway: Gateway, kind: str, source: Path, doc_type: str, what: str
) -> None:
    """The ERP drops the same invoice again under another name: a second original 810 with
    a known number would be refused by the retailer's AP, or paid twice. It is held as a
    duplicate, saying how to send it again; a replacement (purpose 05) goes out."""
    acme_order(gateway)
    drop(gateway, kind, source)
    drop(gateway, kind, source, name="again.json")
    run(gateway)
    (first,) = sent(gateway, doc_type)
    held = [d for d in erp_docs(gateway) if d.status == "duplicate"]
    assert len(held) == 1, [(d.filename, d.status) for d in erp_docs(gateway)]
    (error,) = [e for e in held[0].errors if e["code"] == "erp.duplicate"]
    assert what in error["message"] and f"edigate resend {first.id}" in error["message"]

    data = json.loads(source.read_text())
    data["purpose_code"] = "05"
    drop(gateway, kind, json.dumps(data), name="replacement.json")
    run(gateway)
    assert len(sent(gateway, doc_type)) == 2


def test_an_invoice_number_sent_already_on_another_po_is_held_too(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """An invoice number is the partner's AP's key whichever PO it bills: the ERP reusing
    INV-26-009230 for another order is held, and the error names the earlier PO. The hold
    is a WARNING with its reason, as a rejection is: nothing goes out until someone acts."""
    acme_order(gateway)
    drop(gateway, "invoices", INVOICE)
    other_po = json.loads(INVOICE.read_text())
    other_po["po_number"] = "4500099999"
    # Another PO than any ACME sent: the folder names the partner.
    drop(gateway, "invoices/acme-retail", json.dumps(other_po), name="other-po.json")
    with caplog.at_level(logging.WARNING, logger="edigate.documents"):
        run(gateway)
    [held_line] = [r.getMessage() for r in caplog.records if "->duplicate" in r.getMessage()]
    assert 'reason="invoice INV-26-009230 was already sent to acme-retail' in held_line
    (first,) = sent(gateway, "810")
    assert first.po_number == "4500012345"
    (held,) = [d for d in erp_docs(gateway) if d.status == "duplicate"]
    (error,) = [e for e in held.errors if e["code"] == "erp.duplicate"]
    assert f"as document {first.id} (" in error["message"]
    assert "for PO 4500012345" in error["message"]

    other_po["invoice_number"] = "INV-26-009231"
    drop(gateway, "invoices/acme-retail", json.dumps(other_po), name="renumbered.json")
    run(gateway)
    assert sorted(d.invoice_number for d in sent(gateway, "810")) == [
        "INV-26-009230",
        "INV-26-009231",
    ]


def test_a_csv_partners_invoice_number_sent_already_is_held_too(gateway: Gateway) -> None:
    """The duplicate guard is not X12's alone: Initech gets its invoices as CSV files."""
    csv_order = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    gateway.store.receive(csv_order, channel="sftp", partner_id="initech-csv")
    run(gateway)
    invoice = json.loads(INVOICE.read_text())
    invoice.update(
        po_number="IN-26-1001",
        po_date="2026-03-02",
        lines=[
            {
                "line_number": "1",
                "identifiers": [{"qualifier": "BP", "value": "INI-1001"}],
                "quantity": "24",
                "unit": "EA",
                "unit_price": "4.50",
            }
        ],
        total_amount="108.00",
    )
    drop(gateway, "invoices", json.dumps(invoice), name="first.json")
    drop(gateway, "invoices", json.dumps(invoice), name="again.json")
    run(gateway)
    assert len(sent(gateway, "invoice")) == 1, rejected(gateway)
    (held,) = [d for d in erp_docs(gateway) if d.status == "duplicate"]
    assert any(e["code"] == "erp.duplicate" for e in held.errors)


def test_two_workers_with_the_same_invoice_at_once_send_it_once(gateway: Gateway) -> None:
    """Two workers (on PostgreSQL, two hosts) commit the same invoice number at the same
    moment: the second one's check waits for the first one's commit and holds its copy."""
    import threading

    acme_order(gateway)
    first, second = _twice_for_two_workers(gateway, "invoices", INVOICE)
    store, outbound = gateway.store, gateway.outbound
    plan = outbound.plan(outbound.received(first))
    b_done = threading.Event()
    b = threading.Thread(target=lambda: (outbound.process(second, "b"), b_done.set()))
    with store.claimed(first, "a") as held:
        assert held is not None
        outbound.commit(*held, plan)  # checked and added, not committed yet
        b.start()
        # Worker b's commit must wait for this one (it would otherwise send a second 810).
        assert not b_done.wait(timeout=1.0)
    b.join(timeout=60)
    assert b_done.is_set()
    assert len(sent(gateway, "810")) == 1
    statuses = {d.id: d.status for d in erp_docs(gateway)}
    assert statuses[second] == "duplicate", statuses


def test_two_workers_with_an_855_for_one_po_at_once_send_one_original(
    gateway: Gateway,
) -> None:
    """ACME takes its 855s from the ERP; two acks for one PO reach two workers at once.
    Both were planned as originals; the one committed second goes out as the replacement
    (BAK01 05), or the buyer's system would see two originals for one PO."""
    import threading

    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    profile.write_text(profile.read_text().replace('"855": auto ', '"855": erp  '))
    gateway._registry.check_every = 0
    acme_order(gateway)
    assert sent(gateway, "855") == []  # no automatic 855 for this partner
    first, second = _twice_for_two_workers(gateway, "acks", ACK)
    store, outbound = gateway.store, gateway.outbound
    plans = [outbound.plan(outbound.received(doc_id)) for doc_id in (first, second)]
    assert all(p.body is not None and p.body[0][1] == "00" for p in plans)  # both originals
    b_done = threading.Event()

    def worker_b() -> None:
        with store.claimed(second, "b") as held:
            assert held is not None
            outbound.commit(*held, plans[1])
        b_done.set()

    b = threading.Thread(target=worker_b)
    with store.claimed(first, "a") as held:
        assert held is not None
        outbound.commit(*held, plans[0])
        b.start()
        assert not b_done.wait(timeout=1.0)  # b waits for a's commit
    b.join(timeout=60)
    assert b_done.is_set()
    run(gateway)  # deliver both to ACME's out folder
    purposes = sorted(out_file(gateway, d).split(b"BAK*")[1][:2] for d in sent(gateway, "855"))
    assert purposes == [b"00", b"05"]
    (replacement,) = [d for d in erp_docs(gateway) if d.id == second]
    assert any(e["code"] == "erp.replaces" for e in replacement.errors)


def _twice_for_two_workers(gw: Gateway, kind: str, source: Path) -> tuple[int, int]:
    """The ERP drops ``source`` twice; worker "a" claims the first copy, "b" the second."""
    from edigate.store import PENDING_INBOUND
    from edigate.store.statuses import ERP_CHANNEL

    drop(gw, kind, source)
    drop(gw, kind, source, name="again.json")
    assert gw.erp_inbox.poll() == 2
    (first,) = gw.store.claim("a", PENDING_INBOUND, limit=1, channels=(ERP_CHANNEL,))
    (second,) = gw.store.claim("b", PENDING_INBOUND, limit=1, channels=(ERP_CHANNEL,))
    return first, second


def test_a_partner_in_testing_gets_what_the_erp_sends_as_test_interchanges(
    gateway: Gateway,
) -> None:
    acme_order(gateway)
    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    profile.write_text(profile.read_text().replace("  usage: P ", "  usage: T "))
    gateway._registry.check_every = 0  # see the edit at once
    drop(gateway, "invoices", INVOICE)
    run(gateway)
    (invoice,) = sent(gateway, "810")
    data = out_file(gateway, invoice)
    isa = data.split(b"~")[0].split(b"*")
    assert isa[15] == b"T"
    assert isa[8].strip() == b"ACMETEST"  # their test identity, from the profile
    assert b"GS*IN*EDIGATEDIST*ACMETEST*" in data


def test_a_test_order_reaches_the_erps_test_folder_and_its_answers_go_out_as_tests(
    gateway: Gateway,
) -> None:
    """ACME's test interchange (ISA15 T, its test identity): the order goes to
    outbox/orders-test/, never where the ERP's production import reads, and the ERP's
    invoice for that PO goes back as a test interchange, though the profile says P."""
    test_850 = RETAILER.read_bytes().replace(b"ACMERETAIL     ", b"ACMETEST       ", 1)
    test_850 = test_850.replace(b"*P*>~", b"*T*>~", 1).replace(b"000004211", b"000009211")
    gateway.store.receive(test_850, channel="sftp", partner_id="acme-retail")
    run(gateway)
    outbox = gateway.erp.outbox
    assert [p.parent.name for p in outbox.rglob("*.json")] == ["orders-test"]
    drop(gateway, "invoices", INVOICE)
    run(gateway)
    (invoice,) = sent(gateway, "810")
    isa = out_file(gateway, invoice).split(b"~")[0].split(b"*")
    assert (isa[15], isa[8].strip()) == (b"T", b"ACMETEST")

    acme_order(gateway)  # the same PO in production: the answers are production's again
    assert sorted(p.parent.name for p in outbox.rglob("*.json")) == ["orders", "orders-test"]
    drop(gateway, "invoices", INVOICE.read_text().replace("INV-", "INV-P-"), "again.json")
    run(gateway)
    second = sent(gateway, "810")[-1]
    isa = out_file(gateway, second).split(b"~")[0].split(b"*")
    assert (isa[15], isa[8].strip()) == (b"P", b"ACMERETAIL")

    # A later test change of that production PO does not turn its answers into tests.
    change = test_850.replace(b"000009211", b"000009212").replace(b"BEG*00*", b"BEG*04*")
    gateway.store.receive(change, channel="sftp", partner_id="acme-retail")
    run(gateway)
    assert len(list((outbox / "orders-test").iterdir())) == 2
    drop(gateway, "invoices", INVOICE.read_text().replace("INV-", "INV-Q-"), "third.json")
    run(gateway)
    third = sent(gateway, "810")[-1]
    isa = out_file(gateway, third).split(b"~")[0].split(b"*")
    assert (isa[15], isa[8].strip()) == (b"P", b"ACMERETAIL")


def test_an_invoice_number_sent_in_a_test_interchange_is_free_in_production(
    gateway: Gateway,
) -> None:
    """The partner's test system and its production one know different invoices: a
    production invoice whose number went out in a test interchange was held as its
    duplicate (review finding). Tests are compared with tests, production with production."""
    test_850 = RETAILER.read_bytes().replace(b"ACMERETAIL     ", b"ACMETEST       ", 1)
    test_850 = test_850.replace(b"*P*>~", b"*T*>~", 1).replace(b"000004211", b"000009211")
    test_850 = test_850.replace(b"4500012345", b"4500077778")
    gateway.store.receive(test_850, channel="sftp", partner_id="acme-retail")
    acme_order(gateway)
    test_invoice = INVOICE.read_text().replace("4500012345", "4500077778")
    drop(gateway, "invoices", test_invoice, "test.json")
    run(gateway)
    drop(gateway, "invoices", INVOICE, "production.json")
    run(gateway)
    held = [(d.filename, d.errors) for d in erp_docs(gateway) if d.status != "translated"]
    assert held == []
    test, production = sent(gateway, "810")
    assert test.invoice_number == production.invoice_number == "INV-26-009230"
    assert out_file(gateway, test).split(b"~")[0].split(b"*")[15] == b"T"
    assert out_file(gateway, production).split(b"~")[0].split(b"*")[15] == b"P"

    # Each is still a duplicate of its own kind.
    drop(gateway, "invoices", test_invoice, "test-again.json")
    drop(gateway, "invoices", INVOICE, "production-again.json")
    run(gateway)
    assert len(sent(gateway, "810")) == 2
    held_by = {
        d.filename: next(e["message"] for e in d.errors if e["code"] == "erp.duplicate")
        for d in erp_docs(gateway)
        if d.status == "duplicate"
    }
    assert f"as document {test.id} (" in held_by["test-again.json"]
    assert f"as document {production.id} (" in held_by["production-again.json"]


def test_bad_erp_files_are_rejected_with_where_and_what_and_never_lost(
    gateway: Gateway,
) -> None:
    acme_order(gateway)
    broken = '{\n  "po_number": "4500012345",\n  "lines": [\n'
    drop(gateway, "acks", broken, "broken.json")
    wrong = json.loads(ACK.read_text())
    wrong["lines"][1]["quantity"] = "thirty"
    del wrong["po_date"]
    drop(gateway, "acks", json.dumps(wrong, indent=2), "wrong.json")
    drop(gateway, "shipments", INVOICE, "misfiled.json")
    run(gateway)

    assert erp_docs(gateway) == []
    found = rejected(gateway)
    assert sorted(found) == [
        "acks-broken.json",
        "acks-broken.json.error.txt",
        "acks-wrong.json",
        "acks-wrong.json.error.txt",
        "shipments-misfiled.json",
        "shipments-misfiled.json.error.txt",
    ]
    assert found["acks-broken.json"] == broken  # the ERP's bytes, kept as they were
    assert found["acks-broken.json.error.txt"].startswith("acks/broken.json: line 4, column 1:")
    error = found["acks-wrong.json.error.txt"]
    assert "acks/wrong.json: 2 problem(s)" in error
    assert "line 1, column 1: po_date: Field required" in error
    line = json.dumps(wrong, indent=2).splitlines().index('      "quantity": "thirty",') + 1
    assert f"line {line}, column 19: lines[1].quantity:" in error and '"thirty"' in error
    misfiled = found["shipments-misfiled.json.error.txt"]
    assert "document_type 'invoice' in shipments/; expected 'shipment'" in misfiled
    assert "belongs in invoices/" in misfiled


def test_an_invoice_tax_finer_than_a_cent_is_rejected_naming_its_path(gateway: Gateway) -> None:
    acme_order(gateway)
    data = json.loads(INVOICE.read_text())
    data["taxes"] = [{"type_code": "LS", "amount": "0.004"}]
    del data["total_amount"]
    drop(gateway, "invoices", json.dumps(data, indent=2), "sub-cent.json")
    run(gateway)
    assert sent(gateway, "810") == []
    error = rejected(gateway)["invoices-sub-cent.json.error.txt"]
    assert "taxes[0].amount: Value error, tax amount 0.004 has more than 2 decimals; " in error
    assert "expected an amount to the cent" in error


def test_a_file_json_cannot_read_is_rejected_and_the_files_after_it_are_taken(
    gateway: Gateway,
) -> None:
    """Arrays nested 200,000 deep made json raise RecursionError, which the inbox let
    through: the round stopped at that file every time, and the good ack beside it was
    never taken (review finding)."""
    acme_order(gateway)
    drop(gateway, "acks", "[" * 200_000 + "]" * 200_000, "a-deep.json")
    drop(gateway, "acks", "[1e999999999999999999]", "b-huge.json")
    drop(gateway, "acks", ACK, "c-ack.json")
    run(gateway)
    found = rejected(gateway)
    assert found["acks-a-deep.json.error.txt"].strip() == (
        "acks/a-deep.json: nested too deeply to read; expected one order-ack as a JSON object"
    )
    assert "acks/b-huge.json: " in found["acks-b-huge.json.error.txt"]
    (erp,) = erp_docs(gateway)
    assert erp.filename == "c-ack.json"
    assert len(sent(gateway, "855")) == 2  # the auto-855 of the order, then the ERP's


def test_an_unknown_po_is_rejected_unless_a_partner_folder_names_the_partner(
    gateway: Gateway,
) -> None:
    other = ACK.read_text().replace("4500012345", "4599999999")
    drop(gateway, "acks", other, "stray.json")
    drop(gateway, "acks", other, "nobody/stray.json")
    run(gateway)
    found = rejected(gateway)
    assert "PO 4599999999 was never received from a partner" in found["acks-stray.json.error.txt"]
    assert "acks/<partner-id>/" in found["acks-stray.json.error.txt"]
    # The same name from a subfolder is kept beside the first, never over it.
    nobody = found["acks-stray.1.json.error.txt"]
    assert nobody.startswith("acks/nobody/stray.json: folder acks/nobody/ names no configured")
    assert "expected one of: acme-retail, " in nobody

    drop(gateway, "acks", other, "acme-retail/po.json")
    run(gateway)
    (erp,) = erp_docs(gateway)
    assert erp.partner_id == "acme-retail" and erp.meta["partner_from"] == "folder"
    (ack,) = sent(gateway, "855")
    data = out_file(gateway, ack)
    # No order to echo: ACME's IDs from the SKU table (VN first), our own unit kept.
    assert b"PO1*1*120*EA*4.5**VN*WID-100*UP*012345678905~" in data
    assert validate_transaction(transaction(data)) == []


def test_a_po_of_another_partner_in_a_partner_folder_is_refused(gateway: Gateway) -> None:
    acme_order(gateway)
    drop(gateway, "acks", ACK, "globex-dist/ack.json")
    run(gateway)
    (error,) = [v for k, v in rejected(gateway).items() if k.endswith(".error.txt")]
    assert "in the folder of globex-dist, but PO 4500012345 was ordered by acme-retail" in error
    assert erp_docs(gateway) == []


def test_an_856_our_validator_refuses_is_rejected_then_reprocessed(gateway: Gateway) -> None:
    mapfile = gateway.config.config_dir / "maps/acme-retail.yaml"
    good = mapfile.read_text()
    strict = good.replace(
        "validation:                        # ACME's own X12 rules on top of the standard\n",
        "validation:\n"
        '  "856":\n'
        "    require:\n"
        "      - {segment: REF, loop: HL, when: {REF01: IA}}  # their vendor number, every level\n",
    )
    assert strict != good
    mapfile.write_text(strict)
    gateway._registry.check_every = 0  # see the edits at once
    acme_order(gateway)
    drop(gateway, "shipments", SHIPMENT)
    run(gateway)

    (erp,) = erp_docs(gateway)
    assert erp.status == "rejected" and sent(gateway, "856") == []
    codes = [e["code"] for e in erp.errors]
    assert "x12.invalid" in codes
    assert any(e["severity"] == "error" and "REF" in e["message"] for e in erp.errors[:-1])

    mapfile.write_text(good)  # ACME drops the demand (or the ERP adds the REF)
    attempt = reprocess(gateway.store, erp.id)
    run(gateway)
    with gateway.store.session() as session:
        again = gateway.store.get(session, attempt.attempt)
        assert again.status == "translated" and again.reprocess_of_id == erp.id
        assert gateway.store.get(session, erp.id).status == "rejected"
    (asn,) = sent(gateway, "856")
    assert asn.parent_id == attempt.attempt


def test_an_erp_answer_that_went_out_is_not_reprocessed_into_another(gateway: Gateway) -> None:
    """Reprocessing the ERP's ack after its 855 was sent made a third 855 for the PO, and
    a shipment's attempt ended as a duplicate (review finding): refused, pointing to
    resend; --from-start still builds it anew."""
    acme_order(gateway)
    drop(gateway, "acks", ACK)
    run(gateway)
    (erp,) = erp_docs(gateway)
    answers = sent(gateway, "855")
    assert len(answers) == 2
    made = answers[-1]
    with pytest.raises(ReprocessRefused) as refused:
        reprocess(gateway.store, erp.id)
    assert str(refused.value) == (
        f"document {erp.id}: its 855 for the partner is document {made.id} ({made.status}); "
        f"running it again would send another. To send that one again: 'edigate resend "
        f"{made.id}'; to build it anew from the ERP's file: --from-start"
    )
    assert len(sent(gateway, "855")) == 2
    # What a run from the start sends the partner again: that 855.
    again = [Sent(made.id, "855", "4500012345", to_erp=False)]
    assert sent_before(gateway.store, erp.id) == again
    attempt = reprocess(gateway.store, erp.id, from_start=True)
    assert list(attempt.sent_again) == again
    run(gateway)
    assert [d.parent_id for d in sent(gateway, "855")][-1] == attempt.attempt
    # The attempt is the same ERP file: found by its type and PO as the original is.
    (_, again) = erp_docs(gateway)
    assert again.id == attempt.attempt and erp.po_number == "4500012345"
    assert (again.doc_type, again.po_number) == (erp.doc_type, erp.po_number)


def test_a_file_stored_before_a_crash_is_not_stored_twice(gateway: Gateway) -> None:
    acme_order(gateway)
    drop(gateway, "acks", ACK)
    run(gateway)
    drop(gateway, "acks", ACK)  # as if the move to processed/ had never happened
    run(gateway)
    (erp,) = erp_docs(gateway)
    assert len(sent(gateway, "855")) == 2  # the automatic one and the ERP's, once
    assert {p.name for p in (gateway.erp.inbox / "processed").iterdir()} == {
        f"{erp.id}-{ACK.name}",
        f"{erp.id}-order-ack-4500012345.1.json",
    }


def test_a_claimed_file_is_taken_by_one_poller_and_given_back_if_it_dies(tmp_path: Path) -> None:
    erp = ErpFolder(tmp_path / "erp")
    path = erp.inbox / "acks" / "a.json"
    path.write_text("{}")
    (item,) = erp.pending()
    first = erp.claim(item)
    assert first is not None and first.name == "a.json" and not path.exists()
    assert erp.claim(item) is None  # a second poller lost the race
    assert list(erp.pending()) == []
    assert erp.release_stale(300) == 0  # still fresh
    assert erp.release_stale(300, now=first.path.stat().st_mtime + 10**10) == 1
    assert [p.path for p in erp.pending()] == [path]


def test_an_erp_855_is_an_original_first_and_a_replacement_after(gateway: Gateway) -> None:
    """Without automatic 855s, the ERP's first 855 for a PO is the original (BAK01 00); a
    second one for the same PO replaces it (BAK01 05), as the buyer's system expects."""
    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    profile.write_text(profile.read_text().replace('"855": auto', '"855": erp'))
    gateway._registry.check_every = 0
    acme_order(gateway)
    assert sent(gateway, "855") == []
    drop(gateway, "acks", ACK)
    run(gateway)
    drop(gateway, "acks", ACK, name="again.json")
    run(gateway)
    first, second = sent(gateway, "855")
    assert b"BAK*00*AC*4500012345*" in out_file(gateway, first)
    assert b"BAK*05*AC*4500012345*" in out_file(gateway, second)


CONTOSO_PAYLOAD = "1772467200.4417.20260302@network.contoso.example"


def contoso_ack(po_number: str) -> str:
    """The ERP's confirmation of Contoso's sample order, as ERPs write it: no cXML
    payloadID (reference ZZ) of the OrderRequest it answers."""
    return json.dumps(
        {
            "document_type": "order-ack",
            "ack_type": "accepted",
            "po_number": po_number,
            "po_date": "2026-03-02",
            "ack_date": "2026-03-03",
            "lines": [
                {"line_number": "1", "sku": "WID-100-BLU", "quantity": "60", "unit": "EA"},
                {"line_number": "2", "sku": "GAD-200-SS", "quantity": "12", "unit": "EA"},
                {"line_number": "3", "sku": "CLP-050-ST", "quantity": "30", "unit": "EA"},
            ],
        }
    )


def test_a_cxml_confirmation_names_the_order_request_the_erp_did_not(gateway: Gateway) -> None:
    """Contoso matches a ConfirmationRequest to its order by the OrderRequest's payloadID.
    The ERP's ack leaves it out: it is taken from the order the ERP received. With no such
    order (a partner folder names Contoso) there is none to name, and nothing is sent."""
    order = (ROOT / "samples/xml/contoso-orderrequest.xml").read_bytes()
    gateway.store.receive(order, channel="sftp", partner_id="contoso-cxml")
    run(gateway)
    out = gateway.config.sftp_root / "contoso-cxml/out"
    before = set(out.iterdir())
    drop(gateway, "acks", contoso_ack("CT-2026-0417"), "contoso.json")
    run(gateway)

    (erp,) = erp_docs(gateway)
    assert erp.status == "translated", erp.errors
    # Contoso had its automatic confirmation: the ERP's is its replacement, and says so.
    assert [e["code"] for e in erp.errors] == ["erp.replaces"], erp.errors
    (answer,) = set(out.iterdir()) - before
    root = etree.fromstring(answer.read_bytes(), safe_parser())
    reference = root.find("Request/ConfirmationRequest/OrderReference")
    assert reference is not None and reference.get("orderID") == "CT-2026-0417"
    assert reference.find("DocumentReference").get("payloadID") == CONTOSO_PAYLOAD  # type: ignore[union-attr]

    drop(gateway, "acks", contoso_ack("CT-2026-0999"), "contoso-cxml/unknown.json")
    run(gateway)
    stray = next(d for d in erp_docs(gateway) if d.po_number == "CT-2026-0999")
    assert stray.status == "rejected"
    message = " ".join(e["message"] for e in stray.errors)
    assert "ConfirmationRequest.xml.j2:" in message
    assert (
        "the payloadID (reference ZZ) of the OrderRequest of PO CT-2026-0999: none given" in message
    )
    assert set(out.iterdir()) - before == {answer}


def test_a_folder_partner_gets_its_answers_in_its_folder_under_the_config_folder(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``outbound: {type: folder, path: out/acme}`` is relative to the config folder, like
    every profile path, whatever folder the gateway was started from; the files go
    straight into it (a folder named per partner already)."""
    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    text = profile.read_text()
    assert "type: sftp_pickup        # we leave files in their SFTP root under out/" in text
    pickup = "  type: sftp_pickup        # we leave files in their SFTP root under out/\n"
    profile.write_text(
        text.replace(pickup, "").replace("  folder: out\n", "  type: folder\n  path: out/acme\n")
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    acme_order(gateway)
    folder = gateway.config.config_dir / "out/acme"
    written = sorted(p.name.split("-")[0] for p in folder.iterdir())
    assert written == ["855", "997", "ta1"]  # the sample asks for a TA1 (ISA14 1)
    answers = sent(gateway, "855") + sent(gateway, "997") + sent(gateway, "TA1")
    assert [d.status for d in answers] == ["sent"] * 3
    assert list(elsewhere.iterdir()) == []


def test_an_erp_file_caught_half_written_is_taken_once_finished(gateway: Gateway) -> None:
    """An ERP that writes in place (no temporary name and rename): a poll that finds the
    file half written leaves it for a later round instead of rejecting the ERP's document
    (scale-out review: it landed in rejected/, the 856 never went)."""
    acme_order(gateway)
    whole = SHIPMENT.read_text()
    target = drop(gateway, "shipments", whole[: len(whole) // 2], "slow-1.json", fresh=True)
    run(gateway)
    assert erp_docs(gateway) == [] and rejected(gateway) == {}
    assert target.read_text() == whole[: len(whole) // 2]  # still in the inbox, unclaimed
    target.write_text(whole)  # the ERP finishes writing it
    run(gateway)
    (doc,) = erp_docs(gateway)
    assert doc.status == "translated" and rejected(gateway) == {}
    # A file that still does not parse once it is no longer new is rejected, as before.
    stale = drop(gateway, "shipments", "{", "stale.json")
    run(gateway)
    assert "stale.json" not in {p.name for p in stale.parent.iterdir()}
    assert "shipments-stale.json" in rejected(gateway)


def test_an_erp_file_the_worker_refuses_moves_on_to_rejected_with_its_reason(
    gateway: Gateway,
) -> None:
    """The file parsed, so it was stored and moved to processed/; then the map refused it
    (125 EA is no whole number of cases): it moves on to rejected/ with an .error.txt, as a
    file refused on arrival does, so the ERP is not left to think it was sent."""
    acme_order(gateway)
    data = json.loads(ACK.read_text())
    data["lines"][0]["quantity"] = "125"
    data["lines"][0]["statuses"] = [{"status": "accepted", "quantity": "125", "unit": "EA"}]
    drop(gateway, "acks", json.dumps(data), "ack-125.json")
    run(gateway)
    (doc,) = erp_docs(gateway)
    assert doc.status == "rejected"
    assert list((gateway.erp.inbox / "processed").iterdir()) == []
    reasons = rejected(gateway)
    assert sorted(reasons) == ["acks-ack-125.json", "acks-ack-125.json.error.txt"]
    report = reasons["acks-ack-125.json.error.txt"]
    assert report.startswith(f"document {doc.id}: ")
    assert "125 EA is not a whole number of CA (12 EA each)" in report
    assert json.loads(reasons["acks-ack-125.json"]) == data  # the ERP's own bytes, kept

    # Reprocessed and refused again: a report of the attempt's own beside the first.
    attempt = reprocess(gateway.store, doc.id).attempt
    run(gateway)
    reasons = rejected(gateway)
    assert sorted(reasons) == [
        f"acks-{attempt}-ack-125.json.error.txt",
        "acks-ack-125.json",
        "acks-ack-125.json.error.txt",
    ]
    assert reasons[f"acks-{attempt}-ack-125.json.error.txt"].startswith(f"document {attempt}: ")
    assert reasons["acks-ack-125.json.error.txt"] == report  # the first report is kept

    # The ERP puts the refused file back as it was (its cause fixed elsewhere): a new try,
    # stored and run, not taken for the stored-then-crashed copy of the first document.
    rejected_file = gateway.erp.inbox / "rejected/acks-ack-125.json"
    rejected_file.rename(gateway.erp.inbox / "acks/ack-125.json")
    run(gateway)
    again = [d for d in erp_docs(gateway) if d.id not in (doc.id, attempt)]
    assert [(d.filename, d.reprocess_of_id) for d in again] == [("ack-125.json", None)]
    assert (
        gateway.store.blob_bytes(again[0].blob_sha256, again[0].size) == json.dumps(data).encode()
    )
