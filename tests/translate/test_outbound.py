"""Canonical -> 855 / 856 / 810: goldens, structure rules, arithmetic, read back clean."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from edigate.errors import EdigateError, X12Error, X12WriteError
from edigate.model import Invoice, OrderAck, Shipment, load
from edigate.translate.x12_810 import build_810, write_810
from edigate.translate.x12_855 import build_855, write_855
from edigate.translate.x12_856 import build_856, write_856
from edigate.translate.x12_common import (
    Context,
    fmt_decimal,
    fmt_hash_total,
    fmt_n2,
    parse_party_id,
    x12_ascii,
)
from edigate.x12 import Finding, TransactionSet, X12Reader, validate_transaction

from .goldens import CASES, SAMPLES, Case, expected, render
from .x12text import transaction

OUTBOUND = [c for c in CASES if c.target != "canonical"]
STAMP = dt.datetime(2026, 11, 21, 10, 0)


def sample(name: str) -> Any:
    return load(json.loads((SAMPLES / "canonical" / name).read_text()))


def read_back(data: bytes) -> list[TransactionSet]:
    """Every transaction, asserting the reader found nothing wrong anywhere."""
    events = list(X12Reader(data).events())
    problems = [e for e in events if isinstance(e, Finding)]
    for event in events:
        problems += getattr(event, "findings", [])
    assert problems == [], [str(p) for p in problems]
    return [e for e in events if isinstance(e, TransactionSet)]


# --------------------------------------------------------------------------- goldens
@pytest.mark.parametrize("case", OUTBOUND, ids=lambda c: c.id)
def test_outbound_golden(case: Case) -> None:
    assert render(case) == expected(case)


@pytest.mark.parametrize("case", OUTBOUND, ids=lambda c: c.id)
def test_outbound_reads_back_with_zero_findings(case: Case) -> None:
    (tx,) = read_back(expected(case))
    assert tx.set_id == case.target and tx.version == case.version
    assert tx.interchange.version == {"004010": "00401", "005010": "00501"}[case.version]
    assert tx.separators.repetition == ("^" if case.version == "005010" else None)


# --------------------------------------------------------------------------- 856
def hl_tree(segments: list[list[str]]) -> list[tuple[str, str, str, str]]:
    return [(s[1], s[2], s[3], s[4]) for s in segments if s[0] == "HL"]


@pytest.mark.parametrize(
    ("name", "levels", "bsn05"),
    [
        ("shipment-pallets.json", "S O T P I P I T P I P I I", "0001"),
        ("shipment-cartons.json", "S O P I P I I", "0001"),
        ("shipment-items.json", "S O I I O I", "0004"),
    ],
)
@pytest.mark.parametrize("version", ["004010", "005010"])
def test_856_hierarchy_numbering_and_parents(
    name: str, levels: str, bsn05: str, version: str
) -> None:
    shipment: Shipment = sample(name)
    (tx,) = read_back(write_856([shipment], version=version, timestamp=STAMP))
    assert validate_transaction(tx) == []
    tree = hl_tree(tx.segments)
    assert " ".join(t[2] for t in tree) == levels
    # An item hangs on a pack in pick and pack (0001), on its order in 0004.
    parent_level = {"S": "", "O": "S", "T": "O", "P": "TO", "I": "P" if bsn05 == "0001" else "O"}
    level_of: dict[str, str] = {}
    for number, (hl01, hl02, hl03, hl04) in enumerate(tree, start=1):
        assert hl01 == str(number)  # HL01 counts from 1 in order
        if hl03 == "S":
            assert hl02 == ""
        else:
            assert int(hl02) < number and level_of[hl02] in parent_level[hl03]
            if hl03 == "P":  # a pack hangs on a tare when the order has tares
                expected_parent = "T" if "T" in levels else "O"
                assert level_of[hl02] == expected_parent
        has_children = any(other[1] == hl01 for other in tree)
        assert hl04 == ("1" if has_children else "0")
        level_of[hl01] = hl03
    ctt = next(s for s in tx.segments if s[0] == "CTT")
    shipped = sum(Decimal(s[2]) for s in tx.segments if s[0] == "SN1")
    assert ctt[1] == str(len(tree)) and Decimal(ctt[2]) == shipped
    assert next(s for s in tx.segments if s[0] == "BSN")[5] == bsn05


def test_856_items_under_their_order_are_written_as_items_in_packs_are() -> None:
    """S/O/I: the item level (LIN, SN1, PO4, PID) is the one a pack's items get."""
    shipment: Shipment = sample("shipment-items.json")
    segments = build_856(shipment)
    assert segments[0] == ["BSN", "00", "ASN-26-004433", "20261127", "1140", "0004"]
    assert [s for s in segments if s[0] in ("HL", "PRF", "LIN", "SN1", "PO4", "PID")] == [
        ["HL", "1", "", "S", "1"],
        ["HL", "2", "1", "O", "1"],
        ["PRF", "4500012390", "", "", "20261124"],
        ["HL", "3", "2", "I", "0"],
        ["LIN", "1", "UP", "012345678905", "VN", "WID-100"],
        ["SN1", "1", "2", "CA", "", "2", "CA", "", "AC"],
        ["PID", "F", "", "", "", "WIDGET, BLUE, 12 PER CASE"],
        ["HL", "4", "2", "I", "0"],
        ["LIN", "2", "UP", "012345678929", "VN", "CLP-050"],
        ["SN1", "2", "6", "EA", "", "10", "EA", "", "IB"],
        ["HL", "5", "1", "O", "1"],
        ["PRF", "4500012391", "", "", "20261125"],
        ["HL", "6", "5", "I", "0"],
        ["LIN", "1", "UP", "012345678912", "VN", "GAD-200"],
        ["SN1", "1", "1", "CA", "", "1", "CA", "", "AC"],
        ["PO4", "6", "1", "EA"],
    ]
    assert segments[-1] == ["CTT", "6", "9"]  # HL segments, as in pick and pack
    assert shipment_td1(shipment) == ["CTN25", "3"]


def test_856_without_packs_needs_the_lading_quantity_stated() -> None:
    """No cartons to count: TD102 is refused by name, not written as 0 pieces."""
    shipment: Shipment = sample("shipment-items.json")
    with pytest.raises(
        X12Error,
        match=r"856 ASN-26-004433: the orders list their items without "
        r"packs \(BSN05 0004\), .*give lading_quantity \(TD102",
    ):
        build_856(shipment.model_copy(update={"lading_quantity": None}))


def test_856_refuses_orders_whose_structure_is_not_bsn05s() -> None:
    """The model refuses it; the writer too, for a copy made without validation."""
    items: Shipment = sample("shipment-items.json")
    cartons: Shipment = sample("shipment-cartons.json")
    mixed = items.model_copy(update={"orders": [*items.orders, *cartons.orders]})
    with pytest.raises(X12Error, match="order 4500012345 has the structure of BSN05 0001, but"):
        build_856(mixed)


def test_856_writes_sscc_with_the_application_identifier() -> None:
    shipment: Shipment = sample("shipment-pallets.json")
    segments = build_856(shipment)
    marks = [s[2] for s in segments if s[0] == "MAN" and s[1] == "GM"]
    assert marks[0] == "00" + "006141410000002016" and len(marks) == 6
    assert all(len(m) == 20 for m in marks)
    td1 = next(s for s in segments if s[0] == "TD1")
    assert td1[1:3] == ["PLT94", "2"]


def shipment_td1(shipment: Shipment) -> list[str]:
    td1 = next(s for s in build_856(shipment) if s[0] == "TD1")
    return [str(e) for e in td1[1:3]]


def test_856_lading_quantity_defaults_to_the_pallet_count() -> None:
    """Two pallets of two cartons each: the carrier handles 2 pieces, not 4."""
    shipment: Shipment = sample("shipment-pallets.json").model_copy(
        update={"lading_quantity": None}
    )
    assert shipment_td1(shipment) == ["PLT94", "2"]
    bare = shipment.model_copy(update={"packaging_code": None})
    assert shipment_td1(bare) == ["PLT94", "2"]  # the code the pallets share


def test_856_lading_quantity_counts_pallets_plus_loose_cartons() -> None:
    pallets: Shipment = sample("shipment-pallets.json")
    (order,) = pallets.orders
    loose = order.tares[0].packs[0]
    mixed = pallets.model_copy(
        update={
            "lading_quantity": None,
            "packaging_code": None,
            "orders": [order.model_copy(update={"tares": order.tares[1:], "packs": [loose]})],
        }
    )
    assert shipment_td1(mixed) == ["", "2"]  # 1 pallet + 1 carton: no one code claims both
    stated = mixed.model_copy(update={"packaging_code": "MIX"})
    assert shipment_td1(stated) == ["MIX", "2"]  # what the ERP says is kept


def test_856_lading_quantity_counts_cartons_without_pallets() -> None:
    cartons: Shipment = sample("shipment-cartons.json")
    counted = cartons.model_copy(update={"lading_quantity": None})
    assert shipment_td1(counted) == ["CTN25", "2"]
    bare = counted.model_copy(update={"packaging_code": None})
    assert shipment_td1(bare) == ["", "2"]  # its cartons state no code either


def test_856_refuses_an_item_shipped_as_zero() -> None:
    """The model refuses SN102 0; the writer too, for a copy made without validation."""
    shipment: Shipment = sample("shipment-cartons.json")
    order = shipment.orders[0]
    pack = order.packs[0]
    item = pack.items[0].model_copy(update={"quantity": Decimal(0)})
    zero = shipment.model_copy(
        update={
            "orders": [
                order.model_copy(
                    update={"packs": [pack.model_copy(update={"items": [item]}), *order.packs[1:]]}
                )
            ]
        }
    )
    with pytest.raises(X12Error, match=r"line .*: SN102 \(units shipped\) must be more than 0"):
        build_856(zero)


# --------------------------------------------------------------------------- 810
def test_810_tds_reconciles_from_the_segments_alone() -> None:
    invoice: Invoice = sample("invoice.json")
    (tx,) = read_back(write_810([invoice], timestamp=STAMP))
    lines = Decimal(0)
    adjust = Decimal(0)
    tax = Decimal(0)
    for s in tx.segments:
        s = s + [""] * 16
        if s[0] == "IT1":
            lines += (Decimal(s[2]) * Decimal(s[4])).quantize(Decimal("0.01"))
        elif s[0] == "SAC" and s[1] in "AC" and s[12] not in ("01", "03", "04", "05"):
            amount = Decimal(s[5]) / 100
            adjust += amount if s[1] == "C" else -amount
        elif s[0] == "TXI":
            tax += Decimal(s[2])
    tds = next(s for s in tx.segments if s[0] == "TDS")
    assert Decimal(tds[1]) / 100 == lines + adjust + tax == Decimal("4015.06")
    ctt = next(s for s in tx.segments if s[0] == "CTT")
    assert ctt[1] == "5" and ctt[2] == "311"


def test_810_tds_is_in_cents_and_iss_needs_one_unit() -> None:
    invoice = Invoice.model_validate(
        {
            "invoice_number": "I1",
            "invoice_date": "2026-11-26",
            "lines": [
                {"quantity": "3", "unit": "EA", "unit_price": "0.335"},
                {"quantity": "2", "unit": "EA", "unit_price": "10"},
            ],
        }
    )
    segments = build_810(invoice)
    assert ["TDS", "2101"] in segments  # 1.01 (0.335 x 3 = 1.005, half up) + 20.00
    assert ["ISS", "5", "EA"] in segments
    assert invoice.total_amount == Decimal("21.01")


def test_past_10_digits_a_hash_total_sums_digits_without_decimal_points() -> None:
    """X12's hash total ignores decimal points: 0.5 counts as 5. Within 10 digits the
    plain sum is written (what partners expect); past them, the digit sum, cut on the left."""
    assert fmt_hash_total(Decimal("3.5"), [Decimal("1.5"), Decimal("2")]) == "3.5"
    values = [Decimal("9999999999.5"), Decimal("1.25")]
    total = sum(values, Decimal(0))
    assert fmt_hash_total(total, values) == str((99999999995 + 125) % 10**10)


def test_810_an_amount_too_large_for_cents_is_a_validation_error() -> None:
    """Decimal holds 28 digits: a line total past that cannot be rounded to the cent, and
    says so as a validation error (it was an uncaught InvalidOperation)."""
    data = {
        "invoice_number": "I1",
        "invoice_date": "2026-11-26",
        "lines": [{"quantity": "1E+30", "unit": "EA", "unit_price": "1"}],
    }
    with pytest.raises(ValidationError, match="amount 1E\\+30 is too large to state to the cent"):
        Invoice.model_validate(data)


@pytest.mark.parametrize("target", ["855", "856", "810"])
def test_a_hash_total_past_10_digits_is_truncated_on_the_left(target: str) -> None:
    """CTT02 holds 10 digits: X12 keeps the rightmost ones (11 x 999,999,999 units is
    10,999,999,989, written 999999989); the 810 leaves ISS01 out rather than cut it."""
    quantity = "9999999999" if target == "856" else "999999999"  # the 856 has 3 items
    if target == "810":
        invoice: Invoice = sample("invoice.json")
        lines = [ln.model_copy(update={"quantity": Decimal(quantity)}) for ln in invoice.lines]
        lines = (lines * 3)[:11]
        data = invoice.model_dump(mode="json", exclude={"total_amount"})
        data["lines"] = [ln.model_dump(mode="json") for ln in lines]
        written = write_810([Invoice.model_validate(data)], timestamp=STAMP)
    elif target == "856":
        shipment: Shipment = sample("shipment-cartons.json")
        data = shipment.model_dump(mode="json")
        items = [i for o in data["orders"] for p in o["packs"] for i in p["items"]]
        for item in items:
            item["quantity"] = quantity
        count = len(items)
        written = write_856([Shipment.model_validate(data)], timestamp=STAMP)
    else:
        ack: OrderAck = sample("order-ack-changes.json")
        data = ack.model_dump(mode="json")
        data["lines"] = [
            {"line_number": str(n), "quantity": quantity, "unit": "EA", "statuses": []}
            for n in range(1, 12)
        ]
        data.update(ack_type_code="AD", ack_type=None)
        written = write_855([OrderAck.model_validate(data)], timestamp=STAMP)
    (tx,) = read_back(written)
    assert validate_transaction(tx) == []
    ctt = next(s for s in tx.segments if s[0] == "CTT")
    total = (count if target == "856" else 11) * int(quantity)
    assert total >= 10**10 and ctt[2] == str(total % 10**10)
    if target == "810":
        assert all(s[0] != "ISS" or s[1] == "" for s in tx.segments)


def test_a_contacts_fourth_number_and_a_location_only_address_are_written() -> None:
    """PER holds three communication numbers: a fourth goes on in a second PER, not cut
    off; an N4 with only a location (N405/N406) is written, not skipped."""
    shipment: Shipment = sample("shipment-pallets.json")
    data = shipment.model_dump(mode="json")
    party = data["parties"][0]
    party["contacts"] = [
        {
            "function": "IC",
            "name": "DOCK",
            "phone": "5550100",
            "fax": "5550101",
            "email": "dock@example.com",
            "other": [{"qualifier": "EX", "value": "22"}],
        }
    ]
    party["address"] = {"location_qualifier": "UN", "location_id": "USCHI"}
    (tx,) = read_back(write_856([Shipment.model_validate(data)], timestamp=STAMP))
    assert validate_transaction(tx) == []
    pers = [s for s in tx.segments if s[0] == "PER"]
    assert pers == [
        ["PER", "IC", "DOCK", "TE", "5550100", "FX", "5550101", "EM", "dock@example.com"],
        ["PER", "IC", "DOCK", "EX", "22"],
    ]
    assert ["N4", "", "", "", "", "UN", "USCHI"] in tx.segments


def test_an_item_known_only_by_our_sku_names_it_as_the_vendors_number() -> None:
    """Without a partner map our SKU is all an item has: LIN/IT1 name it as VN (we are the
    vendor) rather than write a LIN with no ID, which no validator passes."""
    shipment: Shipment = sample("shipment-cartons.json")
    data = shipment.model_dump(mode="json")
    item = data["orders"][0]["packs"][0]["items"][0]
    item.update(identifiers=[], sku="WID-100-BLU")
    (tx,) = read_back(write_856([Shipment.model_validate(data)], timestamp=STAMP))
    assert validate_transaction(tx) == []
    assert any(s[0] == "LIN" and s[2:4] == ["VN", "WID-100-BLU"] for s in tx.segments)
    invoice: Invoice = sample("invoice.json")
    data = invoice.model_dump(mode="json")
    data["lines"][0].update(identifiers=[], sku="HX-1420-BX")
    (tx,) = read_back(write_810([Invoice.model_validate(data)], timestamp=STAMP))
    assert validate_transaction(tx) == []
    it1 = next(s for s in tx.segments if s[0] == "IT1")
    assert it1[6:8] == ["VN", "HX-1420-BX"]


def test_810_a_price_per_hundred_or_thousand_is_for_that_many_units() -> None:
    """IT105 HP: 250 bolts at 12.50 per hundred are 31.25, not 3,125.00; TP per thousand."""
    invoice = Invoice.model_validate(
        {
            "invoice_number": "I1",
            "invoice_date": "2026-11-26",
            "lines": [
                {"quantity": "250", "unit": "EA", "unit_price": "12.50", "price_basis": "HP"},
                {"quantity": "1500", "unit": "EA", "unit_price": "40", "price_basis": "TP"},
                {"quantity": "3", "unit": "EA", "unit_price": "2", "price_basis": "PE"},
            ],
        }
    )
    assert [ln.extended_amount for ln in invoice.lines] == [
        Decimal("31.25"),
        Decimal("60.00"),
        Decimal("6.00"),
    ]
    assert invoice.total_amount == Decimal("97.25")
    (tx,) = read_back(write_810([invoice], timestamp=STAMP))
    assert validate_transaction(tx) == []
    assert ["TDS", "9725"] in tx.segments


def test_an_856_needs_the_time_its_notice_was_made() -> None:
    """BSN04 is mandatory in the 856, so a shipment without a time is refused by name; cXML
    and CSV ship notices do without one, so the model does not require it."""
    shipment: Shipment = sample("shipment-cartons.json")
    timeless = Shipment.model_validate({**shipment.model_dump(mode="json"), "time": None})
    with pytest.raises(X12Error, match=r"856 [^:]+: the shipment has no time; BSN04"):
        build_856(timeless)


def test_810_carrier_needs_scac_or_routing() -> None:
    invoice: Invoice = sample("invoice.json")
    assert invoice.carrier is not None
    bad = invoice.model_copy(
        update={"carrier": invoice.carrier.model_copy(update={"scac": None, "routing": None})}
    )
    with pytest.raises(X12Error, match="CAD04 or CAD05"):
        build_810(bad)


# --------------------------------------------------------------------------- character set
def test_856_writes_names_in_the_x12_character_set(caplog: pytest.LogCaptureFixture) -> None:
    """Names and addresses are written in their ASCII form, and the change is logged."""
    shipment: Shipment = sample("shipment-pallets.json")
    ship_from = shipment.parties[0].model_copy(update={"name": "ÉDIGATE DISTRIBUTIÖN “X”"})
    accented = shipment.model_copy(update={"parties": [ship_from, *shipment.parties[1:]]})
    with caplog.at_level("WARNING", logger="edigate.translate"):
        data = write_856([accented], timestamp=STAMP)
    assert data.isascii()
    (tx,) = read_back(data)
    assert ["N1", "SF", 'EDIGATE DISTRIBUTION "X"', "91", "EDG-0042"] in tx.segments
    assert "856 ASN-26-004417: segment 13 N102 'ÉDIGATE DISTRIBUTIÖN “X”' written as" in caplog.text


def test_855_from_the_erp_is_checked_and_the_automatic_echo_is_written_as_sent() -> None:
    """An ERP 855 with an accented party name is written in ASCII and one with an accented
    PO number is refused; the automatic 855 echoes the partner's own values as it sent them."""
    ack: OrderAck = sample("order-ack-changes.json")
    assert ack.parties, "the sample names parties"
    party = ack.parties[0].model_copy(update={"name": "MÜLLER GMBH"})
    accented = ack.model_copy(update={"parties": [party, *ack.parties[1:]]})
    names = [seg[2] for seg in build_855(accented) if seg[0] == "N1"]
    assert "MULLER GMBH" in names
    assert "MÜLLER GMBH" in [seg[2] for seg in build_855(accented, echo=True) if seg[0] == "N1"]
    with pytest.raises(X12WriteError, match=r"BAK03 value '4500012345É' has 'É'"):
        build_855(ack.model_copy(update={"po_number": "4500012345É"}))


def test_856_refuses_an_identifier_outside_the_character_set() -> None:
    shipment: Shipment = sample("shipment-pallets.json")
    order = shipment.orders[0].model_copy(update={"po_number": "NW-2026-11880É"})
    with pytest.raises(X12WriteError) as exc:
        build_856(shipment.model_copy(update={"orders": [order]}))
    assert str(exc.value) == (
        "856 ASN-26-004417: segment 20 PRF01 value 'NW-2026-11880É' has 'É' (U+00C9), outside "
        "the X12 extended character set (printable ASCII); an identifier or code is never "
        "transliterated, so correct it at the source"
    )
    assert (exc.value.segment, exc.value.element) == ("PRF", 1)


def test_810_refuses_a_sku_and_transliterates_a_description() -> None:
    invoice: Invoice = sample("invoice.json")
    line, rest = invoice.lines[0], invoice.lines[1:]
    ident = line.identifiers[0].model_copy(update={"value": "HX–1420"})  # en dash
    bad_sku = line.model_copy(update={"identifiers": [ident]})
    with pytest.raises(X12WriteError, match=r"IT107 value 'HX–1420' has '–' \(U\+2013\)"):
        build_810(invoice.model_copy(update={"lines": [bad_sku, *rest]}))
    text = line.descriptions[0].model_copy(update={"text": "Schraube ½” – Größe"})
    described = line.model_copy(update={"descriptions": [text]})
    segments = build_810(invoice.model_copy(update={"lines": [described, *rest]}))
    assert ["PID", "F", "", "", "", 'Schraube 1/2" - Grosse'] in segments


def test_free_text_without_an_ascii_form_is_refused() -> None:
    shipment: Shipment = sample("shipment-pallets.json")
    ship_to = shipment.parties[1].model_copy(update={"name": "東京"})
    with pytest.raises(X12WriteError, match=r"N102 value '東京' has '東' \(U\+6771\).*no ASCII"):
        build_856(shipment.model_copy(update={"parties": [shipment.parties[0], ship_to]}))


def test_a_control_character_in_free_text_is_refused_not_dropped() -> None:
    shipment: Shipment = sample("shipment-pallets.json")
    ship_to = shipment.parties[1].model_copy(update={"name": "NORTHWIND\x1b[31m DC"})
    with pytest.raises(X12WriteError, match=r"has '\\x1b' \(U\+001B\).*corrupt data"):
        build_856(shipment.model_copy(update={"parties": [shipment.parties[0], ship_to]}))


@pytest.mark.parametrize(
    ("text", "ascii_form"),
    [
        ("ÉDIGATE DISTRIBUTIÖN “X”", 'EDIGATE DISTRIBUTION "X"'),
        ("O’Brien‘s — Ærø Straße", "O'Brien's - AEro Strasse"),
        ("Łódź\tNo\u00a01", "Lodz No 1"),
        ("東京 Tower", " Tower"),
    ],
)
def test_x12_ascii_is_deterministic(text: str, ascii_form: str) -> None:
    assert x12_ascii(text) == ascii_form


# --------------------------------------------------------------------------- 855
def test_855_from_an_ack_with_changes() -> None:
    ack: OrderAck = sample("order-ack-changes.json")
    segments = build_855(ack)
    assert segments[0][:3] == ["BAK", "00", "AC"]
    acks = [s for s in segments if s[0] == "ACK"]
    assert acks == [
        ["ACK", "IA", "4", "CA", "068", "20261126"],
        ["ACK", "IB", "6", "CA", "068", "20261210"],
        ["ACK", "IQ", "3", "CA"],
        ["ACK", "IP", "24", "EA"],
    ]
    po1 = [s for s in segments if s[0] == "PO1"]
    assert po1[2][4] == "3.4"  # the changed price goes in PO104
    assert segments[-1] == ["CTT", "3", "39"]


def test_writer_refuses_a_value_that_holds_a_separator() -> None:
    ack: OrderAck = sample("order-ack-changes.json")
    bad = ack.model_copy(update={"seller_order_number": "SO*1"})
    with pytest.raises(X12WriteError, match="BAK08") as exc:
        write_855([bad], timestamp=STAMP)
    assert isinstance(exc.value, EdigateError)


def test_unsupported_version_is_refused() -> None:
    with pytest.raises(X12Error, match="003010"):
        build_855(sample("order-ack-changes.json"), version="003010")


def test_several_documents_share_one_interchange() -> None:
    data = write_856(
        [sample("shipment-pallets.json"), sample("shipment-cartons.json")],
        timestamp=STAMP,
        first_control_number=41,
    )
    txs = read_back(data)
    assert [t.control_number for t in txs] == ["0041", "0042"]
    assert txs[0].group is not None and txs[0].group.functional_id == "SH"


# --------------------------------------------------------------------------- formatting
@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9))
def test_fmt_decimal_is_exact(value: Decimal) -> None:
    text = fmt_decimal(value)
    assert "E" not in text and "e" not in text
    assert Decimal(text) == value


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_n2_round_trip(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    tx = transaction(["BEG*00*SA*P**20261120", f"SAC*A*C310***{fmt_n2(amount)}"])
    assert Context(tx).implied(2, tx.segments[2] + [""] * 10, 5) == amount


def test_fmt_n2_refuses_fractions_of_a_cent() -> None:
    with pytest.raises(X12Error, match="more than 2 decimals"):
        fmt_n2(Decimal("1.005"))


@pytest.mark.parametrize("text", ["ZZ", "ZZ:", "ZZZ:X", "ZZ:1234567890123456"])
def test_party_id_parsing_refuses_nonsense(text: str) -> None:
    if text == "ZZ":
        assert parse_party_id(text).id == "ZZ"  # a bare ID is mutually defined (ZZ)
        return
    with pytest.raises(X12Error, match="expected QQ:ID"):
        parse_party_id(text)
