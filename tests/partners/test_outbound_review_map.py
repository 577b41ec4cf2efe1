"""Review of the outbound path: an ERP answer mapped into ACME's terms and written as X12
says what the ERP meant, in ACME's unit, and passes our validator."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from edigate.model import Order, OrderAck, Shipment
from edigate.partners import Partner
from edigate.partners.apply import apply_outbound
from edigate.pipeline.outbound import check_written
from edigate.translate import build_855, build_856
from edigate.translate.x12_common import default_envelopes, write_interchange

ROOT = Path(__file__).resolve().parents[2]
PO = "4500012345"


def erp_ack(**line_one: Any) -> OrderAck:
    data = json.loads((ROOT / "samples/erp/order-ack-4500012345.json").read_text())
    data["lines"][0].update(line_one)
    return OrderAck.model_validate(data)


def test_a_new_price_alone_goes_back_per_case(acme: Partner, erp_order: Order) -> None:
    """IP stating only the new price (4.25 per EA, no quantity): ACME ordered cases, so PO104
    beside PO103 CA is 51.00 per case, not 4.25."""
    ack = erp_ack(statuses=[{"status": "price_changed", "unit_price": "4.25"}])
    out = apply_outbound(ack, acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    first = out.document.lines[0]
    (status,) = first.statuses
    assert (first.quantity, first.unit) == (Decimal(10), "CA")
    assert status.unit_price == Decimal("51.00") and status.quantity is None
    assert status.unit is None  # no ACK02, so no ACK03 (P0203)
    po1 = next(s for s in build_855(out.document) if s[0] == "PO1")
    assert po1[1:6] == ["1", "10", "CA", "51", "PE"]
    ack_segment = next(s for s in build_855(out.document) if s[0] == "ACK")
    assert ack_segment == ["ACK", "IP"]


def test_a_line_without_quantity_still_prices_per_case(acme: Partner, erp_order: Order) -> None:
    """A line the ERP gives a unit and price but no quantity: the price converts with the
    unit, so PO103/PO104 agree (CA at 54.00, ACME's own figure)."""
    ack = erp_ack(
        quantity=None, statuses=[{"status": "accepted", "date": "2026-11-26"}], unit_price="4.5"
    )
    out = apply_outbound(ack, acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    first = out.document.lines[0]
    assert (first.quantity, first.unit, first.unit_price) == (None, "CA", Decimal("54.00"))
    # And the 855 written from it is valid X12: no PO103 without PO102 (C0302).
    assert check_written(_written(out.document, "004010"), None) == []
    po1 = next(s for s in build_855(out.document) if s[0] == "PO1")
    assert po1[1:5] == ["1", "", "", "54"]


def test_a_new_price_in_a_stated_unit_writes_no_unit_without_a_quantity(
    acme: Partner, erp_order: Order
) -> None:
    """IP with its price and the unit it is in, but no quantity: ACK03 without ACK02
    broke P0203 and the 855 was refused."""
    ack = erp_ack(statuses=[{"status": "price_changed", "unit_price": "4.25", "unit": "EA"}])
    out = apply_outbound(ack, acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    assert check_written(_written(out.document, "004010"), None) == []
    ack_segment = next(s for s in build_855(out.document) if s[0] == "ACK")
    assert ack_segment == ["ACK", "IP"]


def _written(ack: OrderAck, version: str) -> bytes:
    interchange, group = default_envelopes("855", version=version)
    return write_interchange("855", [build_855(ack, version=version)], interchange, group)


@pytest.mark.parametrize(("version", "tag"), [("004010", "MSG"), ("005010", "MTX")])
def test_855_notes_are_written_in_the_segment_of_the_version(version: str, tag: str) -> None:
    """005010 replaced MSG with MTX in the 855's N9 loops: a 5010 855 with MSG fails every
    validator (ours says "MSG is not a segment of transaction set 855")."""
    data = json.loads((ROOT / "samples/erp/order-ack-4500012345.json").read_text())
    data["parties"] = []  # ours (LOC): the map would turn it into ACME's
    data["notes"] = [{"code": "GEN", "text": "SHIPS FROM DAYTON"}]
    data["lines"][0]["notes"] = [{"text": "PARTIAL, REST IN DECEMBER"}]
    ack = OrderAck.model_validate(data)
    written = _written(ack, version)
    assert check_written(written, None) == []
    segments = [s for s in written.decode().split("~") if s.strip()]
    notes = [s.strip() for s in segments if s.strip().startswith(tag + "*")]
    if tag == "MTX":
        assert notes == ["MTX*GEN*SHIPS FROM DAYTON", "MTX**PARTIAL, REST IN DECEMBER"]
    else:
        assert notes == ["MSG*SHIPS FROM DAYTON", "MSG*PARTIAL, REST IN DECEMBER"]


def test_a_5010_note_keeps_within_mtx_whatever_its_code_and_length() -> None:
    """MTX01 is a 3-character code and MTX02 holds 4,096 characters: an ERP note coded ZZ
    or GENERAL, or a long one, blocked the 855 (MSG had simply dropped the code)."""
    data = json.loads((ROOT / "samples/erp/order-ack-4500012345.json").read_text())
    data["parties"] = []
    long_text = "X" * 5000
    data["notes"] = [
        {"code": "ZZ", "text": "SHORT CODE"},
        {"code": "GENERAL", "text": "LONG CODE"},
        {"code": "GEN", "text": long_text},
    ]
    written = _written(OrderAck.model_validate(data), "005010")
    assert check_written(written, None) == []
    mtx = [s.strip() for s in written.decode().split("~") if s.strip().startswith("MTX*")]
    assert mtx == [
        "MTX**SHORT CODE",
        "MTX**LONG CODE",
        "MTX*GEN*" + long_text[:4096],
        "MTX*GEN*" + long_text[4096:],
    ]


def test_a_5010_note_is_free_text_written_in_ascii() -> None:
    """MTX02 is a note's text, as MSG01 is: an accent is written in its ASCII form, not
    refused as if it were an identifier."""
    data = json.loads((ROOT / "samples/erp/order-ack-4500012345.json").read_text())
    data["parties"] = []
    data["notes"] = [{"text": "LIVRÉ À DAYTON"}]
    segments = build_855(OrderAck.model_validate(data), version="005010")
    assert ["MTX", "", "LIVRE A DAYTON"] in segments


def erp_shipment(order_parties: list[dict[str, Any]]) -> Shipment:
    data = json.loads((ROOT / "samples/erp/shipment-4500012345.json").read_text())
    data["orders"][0]["parties"] = order_parties
    return Shipment.model_validate(data)


def test_an_856_order_levels_store_is_acmes_code_not_ours(acme: Partner, erp_order: Order) -> None:
    """The map turns our location ID into ACME's store code (92) for the shipment's ship-to;
    the ship-to of a PO (HL O, a store of a multi-stop load) gets the same, instead of our
    LOC ID, which the 856 would carry to ACME or our validator would refuse."""
    store = {"role": "ship_to", "name": "ACME STORE 101", "identifiers": []}
    store["identifiers"] = [{"qualifier": "LOC", "value": "ST-CHICAGO-01"}]
    out = apply_outbound(erp_shipment([store]), acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    (party,) = out.document.orders[0].parties
    assert [(i.qualifier, i.value) for i in party.identifiers] == [("92", "0101")]
    segments = build_856(out.document)
    order_level = segments[[s[0] for s in segments].index("PRF") :]
    assert ["N1", "ST", "ACME STORE 101", "92", "0101"] in order_level


def test_an_unknown_store_at_the_order_level_names_where_it_is(acme: Partner) -> None:
    store = {"role": "ship_to", "name": "ACME STORE ?", "identifiers": []}
    store["identifiers"] = [{"qualifier": "LOC", "value": "ST-NOWHERE"}]
    out = apply_outbound(erp_shipment([store]), acme)
    assert out.document is None
    (error,) = out.errors
    assert error.path == "orders[0].party[ship_to].identifiers[LOC]"
    assert "ST-NOWHERE" in error.message and error.message.startswith("orders[0].")
