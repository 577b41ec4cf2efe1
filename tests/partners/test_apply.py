"""apply_inbound: the example map turns ACME's order into ours, and each policy holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from edigate.model import Order, erp_json
from edigate.partners import load_registry
from edigate.partners.apply import apply_inbound
from edigate.translate import translate_850
from edigate.x12 import TransactionSet, X12Reader

SAMPLE = Path(__file__).resolve().parents[2] / "samples/x12/850-004010-retailer.edi"


def sample_order(text: str | None = None) -> Order:
    data = (text or SAMPLE.read_text()).encode()
    (tx,) = [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]
    result = translate_850(tx)
    assert result.document is not None, result.findings
    return result.document


def test_skus_units_and_codes_are_mapped_and_the_original_kept(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    order = sample_order()
    mapped = apply_inbound(order, partner)

    assert mapped.errors == [] and mapped.rejected_lines == {}
    assert mapped.order is not None
    first, second, third = mapped.order.lines
    assert (first.sku, first.quantity, first.unit, first.unit_price) == (
        "WID-100-BLU",
        Decimal(120),
        "EA",
        Decimal("4.5"),
    )
    assert first.as_sent is not None
    assert (first.as_sent.quantity, first.as_sent.unit, first.as_sent.unit_price) == (
        Decimal(10),
        "CA",
        Decimal("54.00"),
    )
    # GAD-200 has 6 per case (per-SKU factor); 96.50 / 6 rounds to the map's 4 places.
    assert (second.quantity, second.unit_price) == (Decimal(30), Decimal("16.0833"))
    # Already in eaches: unchanged, nothing kept aside.
    assert (third.sku, third.quantity, third.as_sent) == ("CLP-050-ST", Decimal(24), None)
    # Partner IDs stay on the line next to ours.
    assert [(i.qualifier, i.value) for i in first.identifiers][:2] == [
        ("UP", "012345678905"),
        ("VN", "WID-100"),
    ]
    # The N1*ST store code 0420 is mapped to our location ID.
    ship_to = next(p for p in mapped.order.parties if p.role == "ship_to")
    assert ("LOC", "DC-JOLIET") in [(i.qualifier, i.value) for i in ship_to.identifiers]
    # The input order is untouched.
    assert order.lines[0].unit == "CA" and order.lines[0].sku is None


def test_a_pack_size_that_contradicts_the_conversion_is_a_warning(example_dir: Path) -> None:
    """PO4*6*1*EA on a line the map converts at 12 EA per CA: one of the two is wrong, and
    the partner may get twice what it ordered (review finding). The sample's own packs (12
    and, per SKU, 6) agree with the map and warn nothing."""
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    assert [i for i in apply_inbound(sample_order(), partner).issues] == []
    text = SAMPLE.read_text().replace("PO4*12*1*EA", "PO4*6*1*EA")
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is not None and mapped.order.lines[0].quantity == Decimal(120)
    [warning] = mapped.issues
    assert (warning.severity, warning.code, warning.line_index) == ("warning", "pack_mismatch", 0)
    assert warning.message == (
        "PO4 says 6 EA per pack, but the map converts 1 CA to 12 EA: check uom.conversions "
        "(or the partner's PO4)"
    )


def test_an_unknown_item_rejects_only_its_line(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    text = (
        SAMPLE.read_text()
        .replace("VN*CLP-050*", "VN*NOPE-1*")
        .replace("UP*012345678929", "UP*099999999999")
    )
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is not None
    assert [line.sku for line in mapped.order.lines] == ["WID-100-BLU", "GAD-200-SS"]
    assert list(mapped.rejected_lines) == [2]
    assert "NOPE-1" in mapped.rejected_lines[2]
    (error,) = mapped.errors
    assert error.line_index == 2 and error.code == "unknown_item"


def test_a_refused_line_is_stated_to_the_erp_as_sent(example_dir: Path) -> None:
    """An ERP that writes its own 855 must learn of the line it never got, to answer it IR:
    the order states it, in ACME's terms, with why; an order without one is as before."""
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    text = SAMPLE.read_text().replace("VN*CLP-050*", "VN*NOPE-1*")
    text = text.replace("UP*012345678929", "UP*099999999999")
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is not None
    (refused,) = mapped.order.rejected_lines or []
    assert (refused.line.line_number, refused.line.quantity, refused.line.unit) == (
        "3",
        Decimal(24),
        "EA",
    )
    assert ("VN", "NOPE-1") in [(i.qualifier, i.value) for i in refused.line.identifiers]
    assert refused.line.sku is None and refused.code == "unknown_item"
    assert refused.reason == mapped.rejected_lines[2]
    sent = erp_json(mapped.order)
    assert json.loads(sent)["rejected_lines"][0]["line"]["line_number"] == "3"
    assert Order.model_validate_json(sent) == mapped.order  # the ERP contract reads it back

    accepted = apply_inbound(sample_order(), partner).order
    assert accepted is not None and accepted.rejected_lines is None
    assert "rejected_lines" not in json.loads(erp_json(accepted))


def test_reject_order_and_pass_through_policies(
    config_copy: Path, edit: Callable[[Path, str, str], int]
) -> None:
    text = (
        SAMPLE.read_text()
        .replace("VN*CLP-050*", "VN*NOPE-1*")
        .replace("UP*012345678929", "UP*099999999999")
    )
    map_file = config_copy / "maps/acme-retail.yaml"
    edit(map_file, "unknown: reject_line", "unknown: reject_order")
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is None and 2 in mapped.rejected_lines

    edit(map_file, "unknown: reject_order", "unknown: pass_through")
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is not None and len(mapped.order.lines) == 3
    assert mapped.order.lines[2].sku is None
    assert [i.severity for i in mapped.issues] == ["warning"]


def test_a_fractional_conversion_rejects_the_line(
    config_copy: Path, edit: Callable[[Path, str, str], int]
) -> None:
    # 1 CA of CLP-050 = 2.5 EA would be a fractional each: EA is counted whole.
    edit(
        config_copy / "maps/acme-retail.yaml",
        "per_sku: {GAD-200-SS: 6}",
        "per_sku: {GAD-200-SS: 6, CLP-050-ST: 2.5}",
    )
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    text = SAMPLE.read_text().replace("PO1*3*24*EA*3.25", "PO1*3*3*CA*8.00")
    mapped = apply_inbound(sample_order(text), partner)
    assert list(mapped.rejected_lines) == [2]
    assert "fractional" in mapped.rejected_lines[2]
    assert mapped.order is not None
    (refused,) = mapped.order.rejected_lines or []
    assert refused.code == "unit_conversion" and "fractional" in refused.reason
    assert (refused.line.quantity, refused.line.unit) == (Decimal(3), "CA")  # as sent


def test_an_unmapped_store_code_rejects_the_order(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    text = SAMPLE.read_text().replace("N1*ST*ACME DC NORTH*92*0420", "N1*ST*ACME DC NORTH*92*0999")
    mapped = apply_inbound(sample_order(text), partner)
    assert mapped.order is None
    assert any("0999" in issue.message for issue in mapped.errors)


def test_a_line_of_quantity_zero_is_delivered_with_a_warning(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    text = SAMPLE.read_text()
    assert text.count("PO1*3*24*EA*") == 1
    mapped = apply_inbound(sample_order(text.replace("PO1*3*24*EA*", "PO1*3*0*EA*")), partner)
    assert mapped.order is not None and len(mapped.order.lines) == 3
    (warning,) = [i for i in mapped.issues if i.severity == "warning"]
    assert (warning.code, warning.line_index, warning.message) == (
        "zero_quantity",
        2,
        "quantity 0 ordered",
    )
