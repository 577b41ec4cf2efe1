"""The built-in cXML OrderRequest layout, on every cXML file of the shared corpus."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from lxml import etree

from edigate.formats import read_partner_orders, read_xml_orders
from edigate.formats.safexml import safe_parser
from edigate.partners import load_registry
from edigate.partners.layouts import XmlLayout

from .helpers import ROOT, SAMPLES, xml_layout

CXML = XmlLayout(layout="cxml")


def _expected_lines(path: Path) -> list[tuple[Decimal, str, Decimal, str]]:
    """(quantity, unit, unit price, supplier part ID) of each ItemOut, read independently."""
    root = etree.fromstring(path.read_bytes(), safe_parser())
    return [
        (
            Decimal(item.get("quantity")),
            item.findtext("ItemDetail/UnitOfMeasure").strip(),
            Decimal(item.findtext("ItemDetail/UnitPrice/Money").strip()),
            item.findtext("ItemID/SupplierPartID").strip(),
        )
        for item in root.iterfind("Request/OrderRequest/ItemOut")
    ]


def test_every_corpus_order_request(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "cxml").glob("*.xml"))
    order_requests = 0
    for path in files:
        root = etree.fromstring(path.read_bytes(), safe_parser())
        result = read_xml_orders(path.read_bytes(), CXML)
        if root.find("Request/OrderRequest") is None:
            assert result.orders == [], path.name
            (issue,) = result.issues
            assert issue.message.startswith("not an OrderRequest"), (path.name, str(issue))
            continue
        order_requests += 1
        assert result.issues == [], (path.name, [str(i) for i in result.issues])
        (order,) = result.orders
        header = root.find("Request/OrderRequest/OrderRequestHeader")
        assert header is not None
        assert order.po_number == header.get("orderID")
        assert order.po_date.isoformat() == header.get("orderDate")[:10]
        got = [(ln.quantity, ln.unit, ln.unit_price, ln.vendor_part_number) for ln in order.lines]
        assert got == _expected_lines(path), path.name
        assert order.reference("ZZ") == root.get("payloadID")
    assert order_requests >= 5


def test_other_cxml_documents_say_what_they_are(corpus_dir: Path) -> None:
    messages = {
        path.name: str(read_xml_orders(path.read_bytes(), CXML).issues[0])
        for path in sorted((corpus_dir / "cxml").glob("*.xml"))
        if b"<OrderRequest>" not in path.read_bytes()
    }
    assert messages["cxml-php__PunchoutOrderMessage.xml"] == (
        "line 3: not an OrderRequest: the cXML Message carries a PunchOutOrderMessage"
    )
    assert messages["officeluv-cxml__invoice_backed_by_multiple_pos.xml"].endswith(
        "carries an InvoiceDetailRequest"
    )
    assert "a cXML Response (status 400" in messages["officeluv-cxml__response_status_400.xml"]


def test_contoso_sample_with_its_map() -> None:
    """The example partner: built-in layout plus an Extrinsic field of its own."""
    partner = load_registry(ROOT).get("contoso-cxml")
    assert partner is not None
    result = read_partner_orders(
        (SAMPLES / "xml/contoso-orderrequest.xml").read_bytes(), partner.map
    )
    assert result.issues == []
    (order,) = result.orders
    assert order.reference("DP") == "4410"
    assert order.reference("ZZ") == "1772467200.4417.20260302@network.contoso.example"
    assert order.date("002") is not None and order.date("002").isoformat() == "2026-03-10"
    ship_to = order.party("ST")
    assert ship_to is not None and ship_to.id == "CT-DC-02"
    assert ship_to.additional_names == ["Receiving, Dock 7"]
    assert ship_to.address is not None
    assert ship_to.address.lines == ["880 Commerce Pkwy", "Building C"]
    assert order.party("BY") is not None and order.party("BY").id == "AN02000000456"  # type: ignore[union-attr]
    assert [ln.unit_price for ln in order.lines] == [
        Decimal("4.60"),
        Decimal("87.25"),  # the comment after the value is not part of it
        Decimal("3.25"),
    ]
    assert order.lines[1].item_id("ZZ") == "stainless"
    assert [d.date.isoformat() for d in order.lines[1].dates if d.date] == ["2026-03-06"]
    assert order.lines[1].notes[0].text == "Rush: needed for the March 6 install."
    assert order.notes[0].text == "Please deliver between 8am and 2pm."


def test_override_and_remove_builtin_fields() -> None:
    layout = xml_layout(
        """\
  layout: cxml
  fields:
    order.references[ZZ]: ~
    order.references[ZZ].description: ~
    line.identifiers[VN]: ItemID/BuyerPartID
"""
    )
    result = read_xml_orders((SAMPLES / "xml/contoso-orderrequest.xml").read_bytes(), layout)
    assert result.issues == []
    (order,) = result.orders
    assert order.reference("ZZ") is None
    assert [ln.vendor_part_number for ln in order.lines] == ["CT-88120", None, None]


def test_bad_type_attribute_is_an_issue() -> None:
    doc = (
        (SAMPLES / "xml/contoso-orderrequest.xml")
        .read_bytes()
        .replace(b'type="new"', b'type="neu"')
    )
    result = read_xml_orders(doc, CXML)
    assert [str(i) for i in result.issues] == [
        'line 26, order.purpose_code: "neu" is not one of new, update, delete'
    ]
    assert result.rejected == ["CT-2026-0417"]
