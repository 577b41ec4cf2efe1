"""The built-in UBL 2.x Order layout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edigate.formats import read_xml_orders
from edigate.formats.ubl import CAC, CBC, ORDER_NS
from edigate.partners.layouts import XmlLayout

from .helpers import SAMPLES, xml_layout

UBL = XmlLayout(layout="ubl")


def test_sample_order() -> None:
    result = read_xml_orders((SAMPLES / "xml/ubl-order.xml").read_bytes(), UBL)
    assert result.issues == []
    (order,) = result.orders
    assert (order.po_number, order.po_date.isoformat(), order.currency) == (
        "NB-2026-00731",
        "2026-04-14",
        "EUR",
    )
    assert (order.order_type_code, order.contract_number) == ("220", "RC-2025-17")
    assert order.reference("CR") == "Afd. 12 / inkoop"
    buyer, seller, ship_to = (order.party(code) for code in ("BY", "SE", "ST"))
    assert buyer is not None and (buyer.name, buyer.id) == ("Noordbouw Retail B.V.", "NB-0042")
    assert seller is not None and seller.name == "EDIGATE DISTRIBUTION"
    assert ship_to is not None and ship_to.id == "NB-STORE-07"
    assert ship_to.address is not None
    assert ship_to.address.lines == ["Marktplein 3", "Achteringang"]
    assert (ship_to.address.postal_code, ship_to.address.country) == ("3511 LM", "NL")
    assert order.date("002") is not None and order.date("002").isoformat() == "2026-04-21"
    first, second = order.lines
    assert (first.line_number, first.quantity, first.unit, first.unit_price) == (
        "1",
        Decimal(48),
        "EA",
        Decimal("4.15"),
    )
    assert (first.vendor_part_number, first.buyer_part_number) == ("WID-100", "NB-77001")
    assert first.item_id("EN") == "8712345678906"
    assert (second.unit, second.quantity, second.unit_price) == ("BX", Decimal(3), Decimal("79.90"))
    assert second.notes[0].text == "Alleen RVS-uitvoering."
    assert [d.date.isoformat() for d in second.dates if d.date] == ["2026-04-17"]


def _order(number: str, lines: str, prefix: str = "") -> str:
    return f"""<{prefix}Order xmlns{":" + prefix[:-1] if prefix else ""}="{ORDER_NS}"
    xmlns:cac="{CAC}" xmlns:cbc="{CBC}">
  <cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-05-01</cbc:IssueDate>
  {lines}
</{prefix}Order>"""


def test_any_prefix_and_bad_quantity(tmp_path: Path) -> None:
    """Namespaces are matched by URI, not by the prefix the sender chose."""
    line = (
        '<cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="C62">{q}'
        "</cbc:Quantity></cac:LineItem></cac:OrderLine>"
    )
    good = _order("U-1", line.format(q="7"), prefix="ubl:")
    result = read_xml_orders(good.encode(), UBL)
    assert [(o.po_number, o.lines[0].quantity, o.lines[0].unit) for o in result.orders] == [
        ("U-1", Decimal(7), "C62")
    ]
    bad = _order("U-2", line.format(q="seven"))
    result = read_xml_orders(bad.encode(), UBL)
    assert [str(i) for i in result.issues] == ['line 4, line.quantity: "seven" is not a number']


def test_other_documents_are_named() -> None:
    invoice = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    assert str(read_xml_orders(invoice, UBL).issues[0]) == (
        "line 1: not a UBL Order: the document is a UBL Invoice"
    )
    other = read_xml_orders(b"<Order/>", UBL).issues[0]
    assert other.message == (
        f'not a UBL Order: <Order> has no namespace, expected namespace "{ORDER_NS}"'
    )


def test_wrong_order_namespace_is_named() -> None:
    """Not "the document is a UBL Order": say which namespace was found and which expected."""
    wrong = _order("U-1", "").replace(ORDER_NS, ORDER_NS + ".1")
    (issue,) = read_xml_orders(wrong.encode(), UBL).issues
    assert issue.message == (
        f'not a UBL Order: <Order> has namespace "{ORDER_NS}.1", expected namespace "{ORDER_NS}"'
    )


def test_partner_override_on_ubl() -> None:
    layout = xml_layout(
        """\
  layout: ubl
  namespaces: {ext: "urn:example:ext"}
  fields:
    order.references[DP]: "cbc:AccountingCost"
    line.identifiers[VN]: ~
"""
    )
    doc = (
        (SAMPLES / "xml/ubl-order.xml")
        .read_text()
        .replace(
            "<cbc:Note>Deliver", "<cbc:AccountingCost>D-12</cbc:AccountingCost><cbc:Note>Deliver"
        )
    )
    (order,) = read_xml_orders(doc.encode(), layout).orders
    assert order.reference("DP") == "D-12"
    assert [ln.vendor_part_number for ln in order.lines] == [None, None]


def _priced_line(price: str, extra: str = "", number: str = "1") -> str:
    return f"""<cac:OrderLine><cac:LineItem><cbc:ID>{number}</cbc:ID>
    <cbc:Quantity unitCode="EA">48</cbc:Quantity>{extra}
    <cac:Price><cbc:PriceAmount currencyID="EUR">415.00</cbc:PriceAmount>{price}</cac:Price>
  </cac:LineItem></cac:OrderLine>"""


def test_base_quantity_is_the_price_basis() -> None:
    """A price for 100 units is HP (per hundred), never 415.00 per each (x100 the money)."""
    lines = "".join(
        _priced_line(f'<cbc:BaseQuantity unitCode="EA">{base}</cbc:BaseQuantity>', number=n)
        for n, base in (("1", "100"), ("2", "1000"), ("3", "1"), ("4", "1.00"))
    )
    result = read_xml_orders(_order("U-1", lines).encode(), UBL)
    assert result.issues == []
    (order,) = result.orders
    assert [ln.price_basis for ln in order.lines] == ["HP", "TP", None, None]
    assert order.lines[0].extended_amount == Decimal("199.20")


def test_unsupported_base_quantity_is_an_error() -> None:
    odd = _priced_line('<cbc:BaseQuantity unitCode="EA">12</cbc:BaseQuantity>')
    result = read_xml_orders(_order("U-1", odd).encode(), UBL)
    assert result.orders == [] and result.rejected == ["U-1"]
    (issue,) = result.issues
    assert (issue.line, issue.field, issue.value) == (6, "line.price_basis", "12")
    assert issue.message == (
        "/Order/cac:OrderLine/cac:LineItem/cac:Price/cbc:BaseQuantity: a price per 12 units "
        "cannot be expressed (supported: 1, 100 = price per hundred HP, 1000 = per thousand TP)"
    )
    other_unit = _priced_line('<cbc:BaseQuantity unitCode="KGM">1</cbc:BaseQuantity>')
    (issue,) = read_xml_orders(_order("U-2", other_unit).encode(), UBL).issues
    assert "the price is per 1 KGM but the line's quantity is in EA" in issue.message


def test_allowances_and_charges() -> None:
    """Order and line AllowanceCharge reach the order; a price discount is warned about."""
    header = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>"
        "<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>"
        "<cbc:AllowanceChargeReason>Freight</cbc:AllowanceChargeReason>"
        '<cbc:Amount currencyID="EUR">25.00</cbc:Amount></cac:AllowanceCharge>'
    )
    line_charge = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        "<cbc:AllowanceChargeReasonCode>64</cbc:AllowanceChargeReasonCode>"
        "<cbc:AllowanceChargeReason>Promo</cbc:AllowanceChargeReason>"
        '<cbc:Amount currencyID="EUR">50.00</cbc:Amount></cac:AllowanceCharge>'
    )
    price_discount = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        '<cbc:Amount currencyID="EUR">1.00</cbc:Amount></cac:AllowanceCharge>'
    )
    tax = '<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">8.40</cbc:TaxAmount></cac:TaxTotal>'
    doc = _order("U-1", header + tax + _priced_line(price_discount, line_charge))
    result = read_xml_orders(doc.encode(), UBL)
    assert [(str(i), i.severity) for i in result.issues] == [
        (
            "line 6: /Order/cac:OrderLine/cac:LineItem/cac:Price/cac:AllowanceCharge is not "
            "read (a price discount; the PriceAmount is taken as the net price); the order "
            "goes on without it (warning)",
            "warning",
        )
    ]
    (order,) = result.orders
    (freight,) = order.allowances_charges
    assert (freight.indicator, freight.code, freight.amount, freight.description) == (
        "charge",
        "D240",
        Decimal("25.00"),
        "Freight",
    )
    assert freight.currency == "EUR"
    assert [(t.type_code, t.amount) for t in order.taxes] == [("TX", Decimal("8.40"))]
    (promo,) = order.lines[0].allowances_charges
    assert (promo.indicator, promo.code, promo.amount, promo.description) == (
        "allowance",
        None,
        Decimal("50.00"),
        "Promo (reason code 64)",
    )


def test_bad_charge_indicator_is_an_error() -> None:
    bad = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>maybe</cbc:ChargeIndicator>"
        "<cbc:Amount>5</cbc:Amount></cac:AllowanceCharge>"
    )
    result = read_xml_orders(_order("U-1", bad + _priced_line("")).encode(), UBL)
    assert result.rejected == ["U-1"]
    assert [i.message for i in result.issues] == [
        '/Order/cac:AllowanceCharge/cbc:ChargeIndicator: "maybe" is not true (a charge) or '
        "false (an allowance)"
    ]
