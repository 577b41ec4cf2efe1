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
    assert other.message.startswith("not a UBL Order (root element <Order>, expected {urn:oasis")


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
