"""The inbound flow end to end, on SQLite and on PostgreSQL: a partner's file in, the
canonical order in the ERP outbox, the 997/999 and 855 ready in the partner's out/ folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.pipeline.operations import ReprocessRefused
from edigate.store import Document, Status
from edigate.store.queries import location
from edigate.x12.acks import parse_acks

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"
DISTRIBUTOR = ROOT / "samples/x12/850-005010-distributor.edi"


def receive(gw: Gateway, data: bytes, **kwargs: object) -> int:
    receipt = gw.store.receive(data, channel=kwargs.pop("channel", "cli"), **kwargs)  # type: ignore[arg-type]
    gw.worker("test").run(until_idle=True)
    return receipt.document_id


def docs(gw: Gateway) -> list[Document]:
    with gw.store.session() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def by_type(gw: Gateway, doc_type: str) -> list[Document]:
    return [d for d in docs(gw) if d.doc_type == doc_type]


def out_files(gw: Gateway, partner: str) -> dict[str, bytes]:
    folder = gw.config.sftp_root / partner / "out"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.is_dir() else {}


def erp_orders(gw: Gateway) -> list[dict]:
    folder = gw.erp.outbox / "orders"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def globex_850() -> bytes:
    """The 005010 sample as Globex sends it (fixed-width ISA IDs swapped)."""
    data = DISTRIBUTOR.read_text()
    data = data.replace("ZZ*NORTHWINDSUP   *", "ZZ*GLOBEXDIST     *")
    return data.replace("GS*PO*NORTHWINDSUP*", "GS*PO*GLOBEXDIST*").encode()


def test_retailer_order_reaches_the_erp_and_the_acks_wait_for_pickup(gateway: Gateway) -> None:
    doc_id = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail", filename="po.edi")

    parent, child = docs(gateway)[:2]
    assert parent.id == doc_id and parent.status == "translated"
    assert (child.doc_type, child.status, child.po_number) == ("850", "delivered", "4500012345")
    assert child.parent_id == parent.id and child.blob_sha256 == parent.blob_sha256

    (order,) = erp_orders(gateway)
    assert order["po_number"] == "4500012345"
    assert [line["sku"] for line in order["lines"]] == ["WID-100-BLU", "GAD-200-SS", "CLP-050-ST"]
    assert order["lines"][0]["quantity"] == "120" and order["lines"][0]["unit"] == "EA"
    assert order["lines"][0]["as_sent"] == {"quantity": "10", "unit": "CA", "unit_price": "54.00"}

    files = out_files(gateway, "acme-retail")
    kinds = sorted(name.split("-")[0] for name in files)
    assert kinds == ["855", "997", "ta1"]  # the sample asks for a TA1 (ISA14 = 1)
    ack = next(v for k, v in files.items() if k.startswith("997"))
    (group,) = parse_acks(ack).groups
    assert (group.functional_id, group.control_number, group.status) == ("PO", "4211", "A")
    po_ack = next(v for k, v in files.items() if k.startswith("855"))
    assert b"BAK*00*AD*4500012345" in po_ack and po_ack.count(b"ACK*IA*") == 3
    # Our envelope toward ACME: sender and receiver from its profile.
    assert b"*ZZ*EDIGATEDIST    *ZZ*ACMERETAIL     *" in ack
    # Every outbound document is delivered and has its own interchange control number.
    outbound = [d for d in docs(gateway) if d.direction == "out"]
    assert {d.status for d in outbound} == {"sent", "delivered"}
    controls = [d.interchange_control for d in outbound if d.format == "x12"]
    assert len(controls) == len(set(controls)) == 3


def test_distributor_gets_a_999_and_no_automatic_855(gateway: Gateway) -> None:
    # Globex delivers by sftp_push to its own server; keep it in the store for this test.
    receive(gateway, globex_850(), filename="globex.edi")
    (child,) = by_type(gateway, "850")
    assert child.status == "delivered" and child.partner_id == "globex-dist"
    (ack,) = by_type(gateway, "999")
    assert by_type(gateway, "855") == []  # its 855 comes from the ERP
    with gateway.store.session() as session:
        data = gateway.store.content(gateway.store.get(session, ack.id))
    assert b"GS*FA*EDIGATEDIST*GLOBEXDIST*" in data and b"*005010X231A1~" in data
    assert b"IK5*A" in data


def test_the_same_interchange_twice_is_a_duplicate_and_reaches_the_erp_once(
    gateway: Gateway,
) -> None:
    first = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    second = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    with gateway.store.session() as session:
        again = gateway.store.get(session, second)
        assert again.status == "duplicate" and again.duplicate_of_id == first
        assert "already processed" in again.errors[0]["message"]
    assert len(erp_orders(gateway)) == 1
    # A new interchange (new ISA13) with the same PO is not a duplicate of the file, but
    # its original order is one the ERP has: held, naming the order it repeats.
    renumbered = RETAILER.read_bytes().replace(b"000004211", b"000004212")
    third = receive(gateway, renumbered, partner_id="acme-retail")
    (delivered, held) = by_type(gateway, "850")
    with gateway.store.session() as session:
        doc = gateway.store.get(session, third)
        assert (doc.status, doc.duplicate_of_id) == ("duplicate", None)  # no copy of one file
    assert (held.status, held.parent_id, held.duplicate_of_id) == ("duplicate", third, delivered.id)
    (error,) = [e for e in held.errors if e["code"] == "duplicate_po"]
    assert (
        f"PO 4500012345 of acme-retail is in the ERP already (document {delivered.id}"
        in (error["message"])
    )
    assert len(erp_orders(gateway)) == 1 and len(by_type(gateway, "855")) == 1
    (ack,) = _acks_sent(gateway, "997")[-1:]
    assert "AK5*A" in ack  # received sound: the 997 accepts it all the same
    # A change order (BEG01 04) repeats its PO on purpose: delivered.
    change = renumbered.replace(b"000004212", b"000004213").replace(b"BEG*00*", b"BEG*04*")
    fourth = receive(gateway, change, partner_id="acme-retail")
    with gateway.store.session() as session:
        assert gateway.store.get(session, fourth).status == "translated"
    assert len(erp_orders(gateway)) == 2


def test_a_duplicate_is_not_reprocessed_and_an_attempt_still_sees_other_files(
    gateway: Gateway,
) -> None:
    """Reprocessing a duplicate would hand the ERP its order a second time: refused, naming
    the file it repeats. A file holding a duplicate interchange and a rejected one, run
    again, holds the duplicate again: an attempt skips only its own file's runs."""
    from edigate.pipeline.operations import reprocess

    first = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    second = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    with pytest.raises(
        ReprocessRefused,
        match=f"document {second} is a duplicate: the same bytes were processed as document "
        f"{first}; reprocess {first}",
    ):
        reprocess(gateway.store, second)
    # The same ISA13 with other content: the refusal says so, and what the partner does.
    reused = receive(
        gateway,
        RETAILER.read_bytes().replace(b"4500012345", b"4500099999"),
        partner_id="acme-retail",
    )
    with pytest.raises(ReprocessRefused, match=r"control number \(ISA13\) was processed in"):
        reprocess(gateway.store, reused)

    bad_date = RETAILER.read_bytes().replace(b"000004211", b"000004213")
    bad_date = bad_date.replace(b"4500012345**20261120", b"4500012999**20261399")
    mixed = receive(gateway, RETAILER.read_bytes() + bad_date, partner_id="acme-retail")
    with gateway.store.session() as session:
        assert gateway.store.get(session, mixed).status == "rejected"
    attempt = reprocess(gateway.store, mixed)
    gateway.worker("test").run(until_idle=True)
    with gateway.store.session() as session:
        again = gateway.store.get(session, attempt.attempt)
        assert again.status == "rejected"
        assert any(
            e.get("code") == "duplicate_interchange" and f"(document {first})" in e["message"]
            for e in again.errors
        ), again.errors
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]


def test_one_bad_transaction_rejects_only_itself(gateway: Gateway) -> None:
    text_ = RETAILER.read_text()
    good = text_[text_.index("ST*850") : text_.index("GE*")]
    bad = (
        good.replace("ST*850*0001", "ST*850*0002")
        .replace("SE*32*0001", "SE*32*0002")
        .replace("4500012345**20261120", "4500012999**20261399")
    )
    data = text_.replace("GE*1*", bad + "GE*2*").encode()
    receive(gateway, data, partner_id="acme-retail")
    first, second = by_type(gateway, "850")
    assert (first.status, second.status) == ("delivered", "rejected")
    assert any(e.get("code") == "AK4-8" for e in second.errors)  # the bad BEG05 date
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]
    ack = next(v for k, v in out_files(gateway, "acme-retail").items() if k.startswith("997"))
    (group,) = parse_acks(ack).groups
    assert group.status == "P"
    assert [(t.control_number, t.status) for t in group.transactions] == [
        ("0001", "A"),
        ("0002", "R"),
    ]


def refuse_wid100(gw: Gateway) -> Callable[[], None]:
    """ACME's map refuses the sample's WID-100 line, and with it the order (its SKU row
    gone, ``unknown: reject_order``); returns the onboarding team's fix (the row back)."""
    skus = gw.config.config_dir / "maps/acme-retail-skus.csv"
    good = skus.read_text()
    skus.write_text("\n".join(ln for ln in good.splitlines() if "WID-100" not in ln) + "\n")
    mapfile = gw.config.config_dir / "maps/acme-retail.yaml"
    mapfile.write_text(mapfile.read_text().replace("unknown: reject_line", "unknown: reject_order"))
    gw._registry.check_every = 0  # see the edits at once

    def fix() -> None:
        skus.write_text(good)

    return fix


def test_a_broken_map_rejects_then_reprocess_after_the_fix_translates(
    gateway: Gateway,
) -> None:
    from edigate.pipeline.operations import reprocess

    fix_map = refuse_wid100(gateway)

    doc_id = receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected"
    assert any("WID-100" in e["message"] for e in child.errors)
    with gateway.store.session() as session:
        assert gateway.store.get(session, doc_id).status == "rejected"
    assert erp_orders(gateway) == []
    rejection = next(v for k, v in out_files(gateway, "acme-retail").items() if k.startswith("855"))
    assert b"BAK*00*RJ*4500012345" in rejection

    fix_map()  # the onboarding team fixes the map
    attempt = reprocess(gateway.store, doc_id)
    gateway.worker("test").run(until_idle=True)
    with gateway.store.session() as session:
        new = gateway.store.get(session, attempt.attempt)
        assert new.status == "translated" and new.reprocess_of_id == doc_id
        assert gateway.store.get(session, doc_id).status == "rejected"  # history kept
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]
    # The partner has our RJ for this PO: the acceptance replaces it (BAK01 05), as a
    # second original would be a duplicate to its system.
    answers = sorted(v for k, v in out_files(gateway, "acme-retail").items() if k.startswith("855"))
    assert len(answers) == 2
    assert sum(b"BAK*00*RJ*4500012345" in a for a in answers) == 1
    assert sum(b"BAK*05*AD*4500012345" in a for a in answers) == 1
    (_, accepted) = [c for c in by_type(gateway, "850")]
    assert any(e["code"] == "855.replaces" for e in accepted.errors), accepted.errors


def test_an_unknown_sender_is_rejected_naming_the_id(gateway: Gateway) -> None:
    data = RETAILER.read_bytes().replace(b"ZZ*ACMERETAIL     *", b"ZZ*STRANGER       *")
    doc_id = receive(gateway, data)
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
    assert doc.status == "rejected"
    assert "STRANGER" in doc.errors[0]["message"]
    assert by_type(gateway, "850") == [] and erp_orders(gateway) == []


def test_a_file_on_another_partners_account_is_never_processed_as_theirs(
    gateway: Gateway,
) -> None:
    doc_id = receive(gateway, RETAILER.read_bytes(), partner_id="globex-dist", channel="sftp")
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
    assert doc.status == "rejected"
    assert "acme-retail" in doc.errors[0]["message"] and "globex-dist" in doc.errors[0]["message"]
    assert erp_orders(gateway) == []


def test_a_worker_that_dies_before_committing_leaves_nothing_half_done(
    gateway: Gateway,
) -> None:
    doc_id = gateway.store.receive(RETAILER.read_bytes(), channel="cli").document_id
    assert gateway.store.claim("dead-worker", [Status.RECEIVED]) == [doc_id]
    # The dead worker planned (and wrote nothing); its lease expires; a new worker takes over.
    gateway.inbound.plan(_received(gateway, doc_id))
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        assert doc.status == "received" and doc.claimed_by == "dead-worker"
    worker = gateway.worker("new")
    worker.config = worker.config.model_copy(update={"lease_seconds": 0.001})
    worker.run(until_idle=True)
    assert len(by_type(gateway, "850")) == 1 and len(erp_orders(gateway)) == 1
    # The dead worker can no longer commit what it planned.
    with gateway.store.claimed(doc_id, "dead-worker") as held:
        assert held is None


def _received(gw: Gateway, doc_id: int):  # type: ignore[no-untyped-def]
    from edigate.pipeline.inbound import Received

    with gw.store.session() as session:
        return Received.of(gw.store.get(session, doc_id))


def test_a_line_the_map_rejects_is_left_out_and_acknowledged_ir(gateway: Gateway) -> None:
    data = RETAILER.read_bytes().replace(b"VN*CLP-050*", b"VN*NOPE-1*")
    data = data.replace(b"UP*012345678929", b"UP*099999999999")
    receive(gateway, data, partner_id="acme-retail")
    (order,) = erp_orders(gateway)
    assert [line["sku"] for line in order["lines"]] == ["WID-100-BLU", "GAD-200-SS"]
    # The ERP hears of the line too, as ACME sent it, for an 855 of its own to answer.
    (refused,) = order["rejected_lines"]
    assert (refused["code"], refused["line"]["line_number"]) == ("unknown_item", "3")
    assert {"qualifier": "VN", "value": "NOPE-1"} in refused["line"]["identifiers"]
    (child,) = by_type(gateway, "850")
    assert child.status == "delivered"
    (issue,) = [e for e in child.errors if e["code"] == "map.unknown_item"]
    assert "NOPE-1" in issue["message"]
    # Where it is: the third PO1's place in the file (counted here from the raw segments),
    # and its PO101; not "line 3", which reads as the file's third line.
    tags = [seg.strip().split("*")[0] for seg in data.decode().split("~")]
    third_po1 = [n for n, tag in enumerate(tags, start=1) if tag == "PO1"][2]
    assert (issue["segment"], issue["order_line"]) == (third_po1, "3")
    assert location(issue) == f"segment {third_po1}, order line 3"
    po_ack = next(v for k, v in out_files(gateway, "acme-retail").items() if k.startswith("855"))
    assert b"BAK*00*AC*4500012345" in po_ack
    assert po_ack.count(b"ACK*IA*") == 2 and po_ack.count(b"ACK*IR*24*EA") == 1


def test_a_csv_partner_gets_its_orders_to_the_erp_and_a_csv_855(gateway: Gateway) -> None:
    data = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    receive(gateway, data, partner_id="initech-csv", channel="sftp", filename="orders.csv")
    assert sorted(o["po_number"] for o in erp_orders(gateway)) == ["IN-26-1001", "IN-26-1002"]
    children = by_type(gateway, "order")
    assert {(c.direction, c.status) for c in children if c.channel != "erp"} == {
        ("in", "delivered")
    }
    answers = out_files(gateway, "initech-csv")
    assert len(answers) == 2 and all(name.endswith(".csv") for name in answers)
    # The same file again is a duplicate: the ERP still has each order once.
    again = receive(gateway, data, partner_id="initech-csv", channel="sftp")
    with gateway.store.session() as session:
        assert gateway.store.get(session, again).status == "duplicate"
    assert len(erp_orders(gateway)) == 2


def test_an_interchange_our_ta1_rejects_gets_the_ta1_alone(gateway: Gateway) -> None:
    """IEA02 does not match ISA13: the TA1 R asks for the whole interchange again. A 997
    beside it accepting the 850 would have a partner that reconciles by 997 book the PO as
    taken, while it never reached the ERP."""
    data = RETAILER.read_bytes().replace(b"IEA*1*000004211~", b"IEA*1*000004299~")
    receive(gateway, data, partner_id="acme-retail", filename="po.edi")
    assert erp_orders(gateway) == []
    files = out_files(gateway, "acme-retail")
    assert sorted(name.split("-")[0] for name in files) == ["ta1"]
    (ta1,) = files.values()
    assert b"TA1*000004211*" in ta1 and b"*R*001~" in ta1
    assert not [d for d in docs(gateway) if d.doc_type in ("997", "999", "855")]


def test_a_bad_value_holding_our_component_separator_is_named_in_the_997(
    gateway: Gateway,
) -> None:
    """ACME writes ':' as its component separator this time; the too-long BEG03 holds '>',
    the one our profile writes to ACME with. The 997 copies the bad value (AK404): it was
    cleaned of the inbound file's delimiters only, the writer refused it, and the file
    failed again and again with no 997 at all."""
    data = RETAILER.read_bytes().replace(b"*P*>~", b"*P*:~", 1)
    data = data.replace(b"BEG*00*SA*4500012345*", b"BEG*00*SA*4500>0123456789012345678901*", 1)
    doc_id = receive(gateway, data, partner_id="acme-retail", filename="po.edi")
    with gateway.store.session() as session:
        assert gateway.store.get(session, doc_id).status == "rejected"  # not failed: answered
    files = out_files(gateway, "acme-retail")
    (ack,) = [v for k, v in files.items() if k.startswith("997")]
    (group,) = parse_acks(ack).groups
    assert group.status == "R"
    assert b"AK4*3*324*5*4500 0123456789012345678901~" in ack
    assert erp_orders(gateway) == []


def test_a_cxml_partner_gets_a_confirmation_request(gateway: Gateway) -> None:
    data = (ROOT / "samples/xml/contoso-orderrequest.xml").read_bytes()
    receive(gateway, data, partner_id="contoso-cxml", channel="sftp")
    (order,) = erp_orders(gateway)
    assert order["po_number"] == "CT-2026-0417"
    (answer,) = out_files(gateway, "contoso-cxml").values()
    assert b"<ConfirmationRequest>" in answer and b"CT-2026-0417" in answer


def test_a_cxml_order_without_a_payload_id_reaches_the_erp_and_says_why_it_got_no_answer(
    gateway: Gateway,
) -> None:
    """A ConfirmationRequest must name the OrderRequest's payloadID; an order sent without
    one still goes to the ERP (the file is not failed and retried), and its document says
    that no answer was sent, and why."""
    data = (ROOT / "samples/xml/contoso-orderrequest.xml").read_bytes()
    start = data.index(b' payloadID="')
    data = data[:start] + data[data.index(b'"', start + 12) + 1 :]
    assert b"payloadID" not in data.split(b"<Header>")[0]
    receive(gateway, data, partner_id="contoso-cxml", channel="sftp")
    (order,) = erp_orders(gateway)
    assert order["po_number"] == "CT-2026-0417"
    assert out_files(gateway, "contoso-cxml") == {}
    file, child = docs(gateway)[:2]
    assert (file.status, child.status) == ("translated", "delivered")
    (error,) = [e for e in child.errors if e["code"] == "answer.not_sent"]
    assert error["message"].startswith("order CT-2026-0417: no answer sent: ")
    assert "the payloadID (reference ZZ) of the OrderRequest of PO CT-2026-0417" in error["message"]


def test_a_csv_file_without_a_partner_is_refused_with_the_reason(gateway: Gateway) -> None:
    doc_id = receive(gateway, (ROOT / "samples/csv/initech-orders.csv").read_bytes())
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
    assert doc.status == "rejected"
    assert "names no sender" in doc.errors[0]["message"]
    assert erp_orders(gateway) == []


def test_reprocess_of_a_file_no_channel_partner_named_checks_each_interchange_on_its_own(
    gateway: Gateway,
) -> None:
    """A watched folder names no partner: the file's partner_id is filled in from its first
    interchange (ACME) when processed; the attempt must not take that for the account the
    file came in on, or Globex's interchange in it would be refused as ACME's."""
    from edigate.pipeline.operations import reprocess

    fix_map = refuse_wid100(gateway)

    doc_id = receive(gateway, RETAILER.read_bytes() + globex_850(), channel="folder")
    first = {(d.partner_id, d.status) for d in by_type(gateway, "850")}
    assert first == {("acme-retail", "rejected"), ("globex-dist", "delivered")}
    with gateway.store.session() as session:
        assert gateway.store.get(session, doc_id).partner_id == "acme-retail"  # filled in

    fix_map()
    attempt = reprocess(gateway.store, doc_id)
    assert attempt.skipped == 1  # Globex's order reached the ERP the first time
    gateway.worker("test").run(until_idle=True)
    with gateway.store.session() as session:
        new = gateway.store.get(session, attempt.attempt)
        assert new.errors in (None, []), new.errors  # Globex's interchange was not refused
        assert new.status == "translated"
        children = list(session.scalars(select(Document).where(Document.parent_id == new.id)))
    assert {(c.partner_id, c.status) for c in children if c.doc_type == "850"} == {
        ("acme-retail", "delivered"),
    }
    # Each order is in the ERP outbox once; Globex gets no second 999 for its interchange,
    # ACME new acks for the interchange that ran again.
    pos = sorted(o["po_number"] for o in erp_orders(gateway))
    assert pos == sorted({*pos}) and len(pos) == 2
    assert {(c.partner_id, c.doc_type) for c in children if c.direction == "out"} == {
        ("acme-retail", "997"),
        ("acme-retail", "TA1"),  # the sample asks for one (ISA14=1)
    }
    # Nothing is left to deliver: a third run is refused, naming both orders.
    with pytest.raises(ReprocessRefused, match="every transaction's order"):
        reprocess(gateway.store, attempt.attempt)


def test_reprocess_refuses_an_original_already_reprocessed_and_a_delivered_file(
    gateway: Gateway,
) -> None:
    """Running again what reached the ERP would deliver it twice: refused, saying what to
    do instead; the selection by status takes each file's latest attempt only."""
    from edigate.pipeline.operations import reprocess, select_for_reprocess
    from edigate.store.queries import DocumentFilter

    delivered = receive(gateway, RETAILER.read_bytes())
    with pytest.raises(ReprocessRefused, match=r"PO 4500012345.*--from-start"):
        reprocess(gateway.store, delivered)
    (child,) = by_type(gateway, "850")
    with pytest.raises(ReprocessRefused, match=f"document {delivered}: every"):
        reprocess(gateway.store, child.id)  # a child runs its file: the same refusal
    assert len(erp_orders(gateway)) == 1

    bad = receive(gateway, b"ISA*00*garbage~")
    assert select_for_reprocess(gateway.store, DocumentFilter()) == [bad]
    first = reprocess(gateway.store, bad)
    gateway.worker("test").run(until_idle=True)
    with pytest.raises(ReprocessRefused, match=f"attempt {first.attempt} is rejected"):
        reprocess(gateway.store, bad)
    assert select_for_reprocess(gateway.store, DocumentFilter()) == [first.attempt]
    again = reprocess(gateway.store, bad, from_start=True)  # on purpose: allowed
    assert again.attempt > first.attempt


def test_selecting_rejected_files_takes_a_file_whose_other_orders_went_through(
    gateway: Gateway,
) -> None:
    """The README's recipe (fix the map, then ``reprocess --status rejected``) skipped an
    order rejected in a file whose other order reached the ERP, as the file itself is not
    rejected: that order never reached the ERP (operations walkthrough)."""
    from edigate.pipeline.operations import reprocess, select_for_reprocess
    from edigate.store.queries import DocumentFilter

    fix_map = refuse_wid100(gateway)

    doc_id = receive(gateway, RETAILER.read_bytes() + globex_850(), channel="folder")
    with gateway.store.session() as session:
        assert gateway.store.get(session, doc_id).status != "rejected"
    assert [o["po_number"] for o in erp_orders(gateway)] == ["NW-2026-118804"]
    for flt in (DocumentFilter(), DocumentFilter(status="rejected", partner="acme-retail")):
        assert select_for_reprocess(gateway.store, flt) == [doc_id]
    assert select_for_reprocess(gateway.store, DocumentFilter(status="dead")) == []

    fix_map()
    (chosen,) = select_for_reprocess(gateway.store, DocumentFilter(status="rejected"))
    attempt = reprocess(gateway.store, chosen)
    gateway.worker("test").run(until_idle=True)
    assert sorted(o["po_number"] for o in erp_orders(gateway)) == ["4500012345", "NW-2026-118804"]
    # Done: neither the original (superseded) nor the attempt is chosen again.
    assert select_for_reprocess(gateway.store, DocumentFilter(status="rejected")) == []
    assert attempt.attempt not in select_for_reprocess(gateway.store, DocumentFilter())


def test_of_two_groups_sharing_a_gs06_the_one_our_997_accepts_is_delivered(
    gateway: Gateway,
) -> None:
    """A reused GS06: our 997 accepts the first group and rejects the second (AK905 6).
    The verdict was looked up by GS06, so both groups' orders were held although the
    partner was told the first was accepted: it was lost (review of the day's change)."""
    text = RETAILER.read_text()
    start, end = text.index("GS*"), text.index("IEA*")
    group = text[start:end]
    second = group.replace("BEG*00*SA*4500012345", "BEG*00*SA*4500099999")
    data = (text[:end] + second + text[end:]).replace("IEA*1*", "IEA*2*").encode()
    receive(gateway, data, partner_id="acme-retail")
    statuses = sorted((d.po_number, d.status) for d in by_type(gateway, "850"))
    assert statuses == [("4500012345", "delivered"), ("4500099999", "rejected")], statuses
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]
    (ack,) = _acks_sent(gateway, "997")
    assert "AK9*A*1*1*1~" in ack and "AK9*R*1*1*0*6~" in ack, ack  # 19 is 6 in a 004010 997


def _acks_sent(gw: Gateway, kind: str) -> list[str]:
    """The text of each ``kind`` (997, TA1) stored for the partner."""
    return [gw.store.blob_bytes(d.blob_sha256, d.size).decode() for d in by_type(gw, kind)]


def test_a_group_our_997_rejects_is_not_delivered(gateway: Gateway) -> None:
    """GE02 does not match GS06: the 997 says AK9 R (code 4), so the partner will send the
    group again; delivering its order now would make the resend a second order."""
    data = RETAILER.read_bytes().replace(b"GE*1*4211", b"GE*1*4299")
    doc_id = receive(gateway, data)
    assert erp_orders(gateway) == [] and by_type(gateway, "855") == []
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected" and child.po_number == "4500012345"
    (error,) = [e for e in child.errors if e["code"] == "envelope_rejected"]
    assert "functional group 4211 was rejected by our 997 (AK9 R 4)" in error["message"]
    # ... and why, where: the operator is not left to decode AK905.
    assert "segment 35 GE02: AK9-4 GE02 '4299' does not match GS06 '4211'" in error["message"]
    (ack,) = _acks_sent(gateway, "997")
    assert "AK5*R~" in ack and "AK9*R*1*1*0*4" in ack  # not taken: no AK5 A, AK904 0
    with gateway.store.session() as session:
        assert gateway.store.get(session, doc_id).status == "rejected"


def test_an_envelope_warning_the_ta1_notes_is_on_the_files_record(gateway: Gateway) -> None:
    """ISA06 unpadded: the order is delivered, and the reason the partner's TA1 may say E
    (022) is on the file's record as a warning, with its segment and element."""
    data = RETAILER.read_bytes().replace(b"*ZZ*ACMERETAIL     *", b"*ZZ*ACMERETAIL*")
    doc_id = receive(gateway, data)
    assert len(erp_orders(gateway)) == 1
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        assert doc.status == "translated"
        warnings = [e for e in doc.errors if e["severity"] == "warning"]
    assert [(w["code"], w["segment"], w["element"]) for w in warnings] == [("TA1-022", 1, 6)]
    assert "ISA06 should be 15 characters wide, is 10" in warnings[0]["message"]


def test_an_isa_whose_terminator_is_a_separator_gets_its_ta1_r_004(gateway: Gateway) -> None:
    """The segment terminator is the element separator: nothing of the interchange can be
    read, but its ISA names acme-retail and ISA13, and ISA14 asks for a TA1: the partner
    gets TA1 R 004 (as ``x12 validate --ack`` builds it), not silence. An unknown sender's
    gets none."""
    data = RETAILER.read_bytes()
    assert data.count(b"*P*>~\n") == 1
    doc_id = receive(gateway, data.replace(b"*P*>~\n", b"*P*>*"))
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        assert (doc.status, doc.partner_id) == ("rejected", "acme-retail")
        errors = doc.errors
    assert ("TA1-004", 1) in [(e["code"], e["segment"]) for e in errors]
    (ta1,) = _acks_sent(gateway, "TA1")
    assert "TA1*000004211*261120*1405*R*004~" in ta1
    assert erp_orders(gateway) == [] and by_type(gateway, "997") == []

    # Its ISA13 was processed before (the broken file is a resend): still only its TA1,
    # never a duplicate of that file (nothing in it was read), and the worker moves on.
    good = receive(gateway, data.replace(b"000004211", b"000004999"))
    broken = data.replace(b"000004211", b"000004999").replace(b"*P*>~\n", b"*P*>*")
    resent = receive(gateway, broken)
    with gateway.store.session() as session:
        assert gateway.store.get(session, good).status == "translated"
        assert gateway.store.get(session, resent).status == "rejected"
    assert "TA1*000004999*261120*1405*R*004~" in _acks_sent(gateway, "TA1")[-1]

    stranger = data.replace(b"ACMERETAIL     *ZZ", b"NOBODY         *ZZ", 1)
    before = len(by_type(gateway, "TA1"))
    other = receive(gateway, stranger.replace(b"*P*>~\n", b"*P*>*"))
    assert len(by_type(gateway, "TA1")) == before
    with gateway.store.session() as session:
        doc = gateway.store.get(session, other)
        assert (doc.status, doc.partner_id) == ("rejected", None)
        assert ("TA1-004", 1) in [(e["code"], e["segment"]) for e in doc.errors]


def test_a_group_under_a_version_the_partner_may_not_send_is_rejected_until_allowed(
    gateway: Gateway,
) -> None:
    """acme-retail is onboarded for 005010 only (``ack.accept_versions``): its 004010 group
    gets AK9 R with AK905 2 (version not supported) and its order is held. Once the
    onboarding team allows 004010, a reprocess delivers it."""
    from edigate.pipeline.operations import reprocess

    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    allowed = profile.read_text()
    assert "  duplicate_window_days: 30\n" in allowed
    gateway._registry.check_every = 0  # see the edits at once
    profile.write_text(
        allowed.replace(
            "  duplicate_window_days: 30\n",
            '  duplicate_window_days: 30\n  accept_versions: ["005010"]\n',
        )
    )
    doc_id = receive(gateway, RETAILER.read_bytes())
    assert erp_orders(gateway) == [] and by_type(gateway, "855") == []
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected" and child.po_number == "4500012345"
    (error,) = [e for e in child.errors if e["code"] == "envelope_rejected"]
    assert "functional group 4211 was rejected by our 997 (AK9 R 2)" in error["message"]
    (ack,) = _acks_sent(gateway, "997")
    (group,) = parse_acks(ack.encode()).groups
    assert (group.status, group.control_number, group.codes) == ("R", "4211", ("2",))

    profile.write_text(
        allowed.replace(
            "  duplicate_window_days: 30\n",
            '  duplicate_window_days: 30\n  accept_versions: ["004010", "005010"]\n',
        )
    )
    reprocess(gateway.store, doc_id)
    gateway.worker("test").run(until_idle=True)
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]
    assert len(by_type(gateway, "855")) == 1
    accepted = [parse_acks(a.encode()).groups[0] for a in _acks_sent(gateway, "997")]
    assert sorted(g.status for g in accepted) == ["A", "R"]


def test_an_interchange_our_ta1_rejects_is_not_delivered(gateway: Gateway) -> None:
    """IEA02 does not match ISA13 and the partner asked for a TA1 (ISA14=1): TA104 R."""
    data = RETAILER.read_bytes().replace(b"IEA*1*000004211", b"IEA*1*000004299")
    receive(gateway, data)
    (ta1,) = _acks_sent(gateway, "TA1")
    assert "*R*001" in ta1
    assert erp_orders(gateway) == [] and by_type(gateway, "855") == []
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected"
    assert any("rejected by our TA1 (TA105 001)" in e["message"] for e in child.errors)


def test_an_850_rejected_by_validation_can_be_found_by_its_po_number(gateway: Gateway) -> None:
    """The order was never built (DTM02 is no date), but BEG03 is on the row: an operator
    asked about PO 4500012345 finds the rejected transaction."""
    data = RETAILER.read_bytes().replace(b"DTM*002*", b"DTM*002*2026130", 1)
    receive(gateway, data)
    (child,) = by_type(gateway, "850")
    assert child.status == "rejected" and child.po_number == "4500012345"
    assert any(e.get("segment") and "date" in e["message"] for e in child.errors)


def test_an_interchange_number_seen_before_gets_a_ta1_025(gateway: Gateway) -> None:
    """The same ISA13 with other content: a duplicate, not processed, and (the sample asks
    for a TA1, ISA14=1) told so with TA105 025; no 997 for what was not looked at."""
    receive(gateway, RETAILER.read_bytes(), partner_id="acme-retail")
    reused = RETAILER.read_bytes().replace(b"4500012345", b"4500012399")
    second = receive(gateway, reused, partner_id="acme-retail")
    with gateway.store.session() as session:
        assert gateway.store.get(session, second).status == "duplicate"
    acks = [d for d in by_type(gateway, "TA1") if d.parent_id == second]
    (ta1,) = [gateway.store.blob_bytes(d.blob_sha256, d.size).decode() for d in acks]
    assert "TA1*000004211*" in ta1 and "*R*025" in ta1
    assert [d for d in by_type(gateway, "997") if d.parent_id == second] == []
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]


def test_a_file_that_repeats_its_own_interchange_is_processed_once_not_deferred_forever(
    gateway: Gateway,
) -> None:
    """The same interchange twice in one file (a partner's system appending a resend):
    the worker deferred the file for itself, round after round, forever. The first copy is
    processed; the second is a duplicate, told with TA1 025; the order reaches the ERP once."""
    doc_id = gateway.store.receive(RETAILER.read_bytes() * 2, channel="cli").document_id
    gateway.worker("test").run(until_idle=True, max_seconds=30)
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        assert doc.status == "translated", doc.status
        assert any("appears again in this file" in e["message"] for e in doc.errors)
    assert [o["po_number"] for o in erp_orders(gateway)] == ["4500012345"]
    (ta1_dup,) = [text for text in _acks_sent(gateway, "TA1") if "*R*025" in text]
    assert "TA1*000004211*" in ta1_dup


def test_a_partner_csv_with_a_ragged_first_row_is_read_and_only_that_order_refused(
    gateway: Gateway,
) -> None:
    """A cut-off row among the first lines made the file unrecognisable as CSV: the whole
    file was refused without a line. The channel named a CSV partner, so its reader runs:
    the cut-off row's order is refused at its line, the other order is delivered."""
    lines = (ROOT / "samples/csv/initech-orders.csv").read_text(encoding="utf-8-sig").splitlines()
    header, first = lines[0], lines[1]
    data = "\n".join([header, first, "IN-9-51,03/02/2026,,Truncated Row", ""]).encode()
    doc_id = receive(gateway, data, partner_id="initech-csv", channel="sftp", filename="r.csv")
    assert [o["po_number"] for o in erp_orders(gateway)] == ["IN-26-1001"]
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        children = list(session.scalars(select(Document).where(Document.parent_id == doc_id)))
    rejected = [c for c in children if c.direction == "in" and c.status == "rejected"]
    assert [c.po_number for c in rejected] == ["IN-9-51"]
    messages = [e["message"] for e in rejected[0].errors]
    assert any("4 field(s), but the header has 13" in m for m in messages), messages
    assert doc.status == "translated"


def test_envelope_errors_are_on_the_file_record(gateway: Gateway) -> None:
    """IEA02 does not match ISA13: the TA1 says R 001, and 'docs show' says why too."""
    data = RETAILER.read_bytes().replace(b"IEA*1*000004211", b"IEA*1*000004299")
    doc_id = receive(gateway, data)
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
    assert any(
        e.get("segment") and "IEA02" in e["message"] and e.get("severity") == "error"
        for e in doc.errors
    ), doc.errors


def test_an_empty_segment_is_reported_where_it_is_not_as_a_model_error(
    gateway: Gateway,
) -> None:
    data = RETAILER.read_bytes().replace(b"~\nREF*DP", b"~\n~\nREF*DP", 1)
    assert data != RETAILER.read_bytes()
    receive(gateway, data)
    (child,) = by_type(gateway, "850")
    messages = " ".join(e["message"] for e in child.errors)
    assert "should match pattern" not in messages and "extra.0" not in messages, messages
    assert child.status == "rejected"
