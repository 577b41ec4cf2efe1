"""apply_outbound: the ERP's answer in our SKUs and units becomes one in ACME's terms."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from edigate.model import Invoice, Order, OrderAck, Shipment
from edigate.partners import Partner, load_registry
from edigate.partners.apply import apply_inbound, apply_outbound
from edigate.translate import translate_850
from edigate.x12 import TransactionSet, X12Reader

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_850 = ROOT / "samples/x12/850-004010-retailer.edi"
ERP = ROOT / "samples/erp"
PO = "4500012345"


def ack(**changes: object) -> OrderAck:
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data.update(changes)
    return OrderAck.model_validate(data)


def ids(line: object) -> list[tuple[str, str]]:
    return [(i.qualifier, i.value) for i in line.identifiers]  # type: ignore[attr-defined]


def test_without_the_order_a_sku_gets_acmes_item_ids_and_keeps_our_unit(acme: Partner) -> None:
    out = apply_outbound(ack(), acme)
    assert out.errors == [] and out.document is not None
    first = out.document.lines[0]
    assert ids(first) == [("VN", "WID-100"), ("UP", "012345678905")]  # preferred VN first
    assert (first.quantity, first.unit, first.unit_price) == (Decimal(120), "EA", Decimal("4.5"))
    assert first.sku == "WID-100-BLU"  # ours stays beside theirs


def test_ea_goes_back_to_cases_echoing_acmes_exact_figures(acme: Partner, erp_order: Order) -> None:
    source = ack()
    out = apply_outbound(source, acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    first, second, third = out.document.lines
    # The order line's own IDs, in the order ACME sent them (IN included).
    assert ids(first) == [("UP", "012345678905"), ("VN", "WID-100"), ("IN", "A-100200")]
    assert (first.quantity, first.unit, first.unit_price) == (Decimal(10), "CA", Decimal("54.00"))
    assert [(s.status_code, s.quantity, s.unit) for s in first.statuses] == [
        ("IA", Decimal(4), "CA"),
        ("IB", Decimal(6), "CA"),
    ]
    # 30 EA at 16.0833 (96.50 / 6 rounded) is ACME's 5 CA at exactly 96.50, not 96.4998.
    assert (second.quantity, second.unit, second.unit_price) == (Decimal(5), "CA", Decimal("96.50"))
    assert str(second.unit_price) == "96.50" and second.price_basis == "PE"
    # Ordered in eaches: unchanged.
    assert (third.quantity, third.unit, third.unit_price) == (Decimal(24), "EA", Decimal("3.25"))
    # The ship-to location code is theirs again, and ours is not left beside it.
    ship_to = next(p for p in out.document.parties if p.role_code == "ST")
    assert ids(ship_to) == [("92", "0420")]
    assert out.document.currency == "USD"  # the map's default
    # The input is untouched.
    assert source.lines[0].unit == "EA" and source.lines[0].identifiers == []


def test_a_price_the_erp_changed_is_converted_not_echoed(acme: Partner, erp_order: Order) -> None:
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"][1]["unit_price"] = "16.25"
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: erp_order})
    assert out.document is not None
    assert out.document.lines[1].unit_price == Decimal("97.50")  # 16.25 x 6


def test_a_quantity_that_is_not_whole_cases_is_an_error(acme: Partner, erp_order: Order) -> None:
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"][0]["quantity"] = "125"
    data["lines"][0]["statuses"] = [{"status": "accepted", "quantity": "125", "unit": "EA"}]
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: erp_order})
    assert out.document is None
    (error,) = out.errors
    assert error.code == "unit_conversion" and error.line_index == 0
    assert "line 1 (SKU WID-100-BLU)" in error.message
    assert "125 EA is not a whole number of CA (12 EA each)" in error.message


def test_an_unknown_sku_without_item_ids_is_an_error(acme: Partner) -> None:
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"][2]["sku"] = "NOPE-1"
    out = apply_outbound(OrderAck.model_validate(data), acme)
    assert out.document is None
    (error,) = out.errors
    assert error.code == "unknown_sku" and "NOPE-1" in error.message
    assert "acme-retail-skus.csv" in error.message


def test_shipment_items_deep_in_the_hierarchy_are_mapped(acme: Partner, erp_order: Order) -> None:
    shipment = Shipment.model_validate_json((ERP / "shipment-4500012345.json").read_bytes())
    out = apply_outbound(shipment, acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    items = [i for p in out.document.orders[0].packs for i in p.items]
    assert [(i.line_number, i.quantity, i.unit) for i in items] == [
        ("1", Decimal(4), "CA"),
        ("3", Decimal(24), "EA"),
        ("2", Decimal(5), "CA"),
    ]
    assert all(i.vendor_part_number for i in items)
    # The map's order default (currency) has no place on a shipment and is not forced on it.
    assert "currency" not in out.document.model_dump()


def items_under_the_order() -> Shipment:
    """The ERP's sample shipment as Shipment, Order, Item (BSN05 0004): no cartons."""
    data = json.loads((ERP / "shipment-4500012345.json").read_text())
    (order,) = data["orders"]
    order["items"] = [i for p in order.pop("packs") for i in p["items"]]
    data.update(structure_code="0004", lading_quantity=2)
    return Shipment.model_validate(data)


def test_shipment_items_directly_under_the_order_are_mapped(
    acme: Partner, erp_order: Order
) -> None:
    """S/O/I items get ACME's item IDs and units exactly as items in packs do."""
    out = apply_outbound(items_under_the_order(), acme, {PO: erp_order})
    assert out.issues == [] and out.document is not None
    (order,) = out.document.orders
    assert order.packs == [] and out.document.structure_code == "0004"
    assert [(i.line_number, i.quantity, i.unit) for i in order.items] == [
        ("1", Decimal(4), "CA"),
        ("3", Decimal(24), "EA"),
        ("2", Decimal(5), "CA"),
    ]
    assert ids(order.items[0]) == [("UP", "012345678905"), ("VN", "WID-100"), ("IN", "A-100200")]
    packed = apply_outbound(
        Shipment.model_validate_json((ERP / "shipment-4500012345.json").read_bytes()),
        acme,
        {PO: erp_order},
    ).document
    assert packed is not None
    assert [i.model_dump() for _, i in packed.orders[0].packed_items()] == [
        i.model_dump() for i in order.items
    ]


def test_an_unknown_sku_directly_under_the_order_is_an_error_at_its_path(acme: Partner) -> None:
    shipment = items_under_the_order()
    (order,) = shipment.orders
    unknown = order.items[1].model_copy(update={"sku": "NOPE-1"})
    changed = order.model_copy(update={"items": [order.items[0], unknown]})
    out = apply_outbound(shipment.model_copy(update={"orders": [changed]}), acme)
    assert out.document is None
    (error,) = out.errors
    assert error.code == "unknown_sku" and error.path == "orders[0].items[1]"


def test_an_invoice_echoes_acmes_price_where_it_bills_the_same(
    acme: Partner, erp_order: Order
) -> None:
    data = json.loads((ERP / "invoice-4500012345.json").read_text())
    out = apply_outbound(Invoice.model_validate(data), acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    assert out.document.total_amount == Decimal("776.50")
    # 30 EA at 16.0833 is 482.50 to the cent, as ACME's 5 CA at 96.50 is: theirs is echoed.
    assert str(out.document.lines[1].unit_price) == "96.50"
    assert out.issues == []


def test_an_invoice_keeps_the_erps_total_over_acmes_price(acme: Partner, erp_order: Order) -> None:
    """600 EA at 16.0833 is 9649.98; ACME's 100 CA at 96.50 would bill 9650.00."""
    data = json.loads((ERP / "invoice-4500012345.json").read_text())
    data["lines"] = [data["lines"][1] | {"quantity": "600"}]
    data["total_amount"] = "9649.98"
    out = apply_outbound(Invoice.model_validate(data), acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    line = out.document.lines[0]
    assert (line.quantity, line.unit, line.unit_price) == (100, "CA", Decimal("96.4998"))
    assert out.document.total_amount == Decimal("9649.98")
    (warning,) = out.issues
    assert (warning.code, warning.severity, warning.line_index) == (
        "partner_price_not_echoed",
        "warning",
        0,
    )
    assert warning.message == (
        "line 2 (SKU GAD-200-SS): billed at 96.4998 per CA (our 16.0833 per EA in their unit), "
        "not acme-retail's own 96.50: 100 x 96.50 is 9650.00, but the ERP billed 9649.98 "
        "for the line"
    )
    # An 855 states no total: its line answers ACME's own 96.50 a case, echoed.
    ack_data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    ack_data["lines"][1] |= {
        "quantity": "600",
        "statuses": [{"status": "accepted", "quantity": "600", "unit": "EA"}],
    }
    ack_out = apply_outbound(OrderAck.model_validate(ack_data), acme, {PO: erp_order})
    assert ack_out.document is not None
    assert str(ack_out.document.lines[1].unit_price) == "96.50"


def test_an_invoice_whose_total_the_map_would_change_is_refused(
    config_copy: Path, edit: Callable[[Path, str, str], int], erp_order: Order
) -> None:
    edit(
        config_copy / "maps/acme-retail.yaml",
        "rules:\n",
        'rules:\n  - {set: line.unit_price, value: "1.00", direction: outbound}\n',
    )
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    data = json.loads((ERP / "invoice-4500012345.json").read_text())
    out = apply_outbound(Invoice.model_validate(data), partner, {PO: erp_order})
    assert out.document is None
    (error,) = out.errors
    assert error.code == "total_changed" and error.path == "total_amount"
    assert "would be 33.00, but the ERP booked 776.50" in error.message


def test_acmes_own_line_numbers_are_echoed(acme: Partner, erp_order: Order) -> None:
    """ACME matches answers to its PO lines by PO101: a line the ERP numbered "0002", or
    left unnumbered (found by its SKU), goes back as ACME's "2" and "3"; a line the order
    does not have keeps the ERP's number."""
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"][1]["line_number"] = "0002"
    del data["lines"][2]["line_number"]
    data["lines"].append({**data["lines"][0], "line_number": "7", "sku": "NEW-1", "statuses": []})
    data["lines"][3]["identifiers"] = [{"qualifier": "VN", "value": "NEW-1"}]
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: erp_order})
    assert out.errors == [] and out.document is not None
    assert [line.line_number for line in out.document.lines] == ["1", "2", "3", "7"]


def test_a_line_in_a_unit_acme_did_not_order_in_converts_or_is_refused(
    acme: Partner, erp_order: Order
) -> None:
    """Line 3 was ordered in eaches (no conversion on the way in): the ERP answering it in
    cases is refused as line 1's would be, not sent in a unit ACME never used."""
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    line = data["lines"][2]
    line["unit"] = "CS"
    line["statuses"] = [{**s, "unit": "CS"} for s in line.get("statuses", [])]
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: erp_order})
    assert out.document is None
    (error,) = out.errors
    assert error.code == "unit_conversion" and error.line_index == 2
    assert "no conversion from our 'CS' to the partner's 'EA'" in error.message


def test_an_answer_to_a_po_or_line_acme_never_sent_is_warned_about(
    acme: Partner, erp_order: Order
) -> None:
    """Sent all the same (an order placed by phone has no 850), but with a warning: the
    item IDs and units are ours, not ones ACME used."""
    out = apply_outbound(ack(po_number="4599999999"), acme, {PO: erp_order})
    assert out.document is not None
    assert [(i.severity, i.code) for i in out.issues] == [("warning", "unknown_po")]
    assert "PO 4599999999: no order of acme-retail's with this number" in out.issues[0].message

    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"].append({**data["lines"][2], "line_number": "7", "statuses": []})
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: erp_order})
    assert out.document is not None
    (issue,) = out.issues
    assert (issue.severity, issue.code, issue.line_index) == ("warning", "unknown_line", 3)
    assert issue.message.startswith("line 7 is not on PO 4500012345 as acme-retail sent it")
    # Without the orders looked up (a tool with no store): nothing to compare with.
    assert apply_outbound(ack(po_number="4599999999"), acme).issues == []


def test_the_erps_ir_for_a_line_the_map_refused_echoes_acmes_own_ids(acme: Partner) -> None:
    """The ERP never got line 3 (an item not in the SKU table) but its order states it in
    ``rejected_lines``; its 855 answers it IR by line number, with no SKU or IDs of ours:
    ACME's own IDs and unit go out, and the line is no stranger to the PO."""
    text = SAMPLE_850.read_text().replace("VN*CLP-050*", "VN*NOPE-1*")
    text = text.replace("UP*012345678929", "UP*099999999999")
    (tx,) = [e for e in X12Reader(text.encode()).events() if isinstance(e, TransactionSet)]
    order = translate_850(tx).document
    assert order is not None
    refused_order = apply_inbound(order, acme).order
    assert refused_order is not None and refused_order.rejected_lines
    data = json.loads((ERP / "order-ack-4500012345.json").read_text())
    data["lines"][2] = {
        "line_number": "3",
        "quantity": "24",
        "unit": "EA",
        "statuses": [{"status_code": "IR", "quantity": "24", "unit": "EA"}],
    }
    out = apply_outbound(OrderAck.model_validate(data), acme, {PO: refused_order})
    assert out.issues == [] and out.document is not None
    third = out.document.lines[2]
    assert ids(third)[:2] == [("UP", "099999999999"), ("VN", "NOPE-1")]
    assert (third.line_number, third.quantity, third.unit) == ("3", Decimal(24), "EA")
    assert [(s.status_code, s.quantity) for s in third.statuses] == [("IR", Decimal(24))]
