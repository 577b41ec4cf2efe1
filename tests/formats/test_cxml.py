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
#: The sample's cost centre: its map reads it, the built-in layout alone does not.
COST_CENTRE = (
    "line 57: /cXML/Request/OrderRequest/OrderRequestHeader/Extrinsic is not read (nothing "
    "in the layout reads it); the order goes on without it (warning)"
)


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
        # Only warnings, each about a part of the OrderRequest that is there at its line.
        for issue in result.issues:
            assert issue.severity == "warning", (path.name, str(issue))
            where = issue.message.split(" is not read (")[0]
            element = root.xpath(where.rsplit("/@", 1)[0].removesuffix("/text()"))
            assert element and element[0].sourceline == issue.line, (path.name, str(issue))
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
    # The SupplierPartIDs nothing reads any more are said to be left out (the third line's
    # ItemID holds nothing else, so all of it).
    unread = [i.message.split(" is not read")[0] for i in result.issues]
    assert unread == [
        "/cXML/Request/OrderRequest/OrderRequestHeader/Extrinsic",
        "/cXML/Request/OrderRequest/ItemOut[1]/ItemID/SupplierPartID",
        "/cXML/Request/OrderRequest/ItemOut[2]/ItemID/SupplierPartID",
        "/cXML/Request/OrderRequest/ItemOut[3]/ItemID",
    ]
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
    ]  # and no warning about what was not read: nothing of a refused order is dropped
    assert result.rejected == ["CT-2026-0417"]


def _contoso(old: bytes, new: bytes) -> bytes:
    data = (SAMPLES / "xml/contoso-orderrequest.xml").read_bytes()
    assert old in data
    return data.replace(old, new, 1)


BASIS = b"<UnitOfMeasure>EA</UnitOfMeasure>"


def _with_basis(quantity: str, unit: str = "EA", factor: str = "1") -> bytes:
    basis = (
        f'{BASIS.decode()}<PriceBasisQuantity quantity="{quantity}" conversionFactor="{factor}">'
        f"<UnitOfMeasure>{unit}</UnitOfMeasure></PriceBasisQuantity>"
    )
    return _contoso(BASIS, basis.encode())


def test_price_basis_quantity() -> None:
    """A price for 100 units is HP, not a price per each a hundred times too high."""
    for quantity, basis in (("100", "HP"), ("1000", "TP"), ("1", None)):
        (order,) = read_xml_orders(_with_basis(quantity), CXML).orders
        assert order.lines[0].price_basis == basis, quantity
        assert order.lines[1].price_basis is None


def test_price_basis_that_cannot_be_expressed() -> None:
    result = read_xml_orders(_with_basis("12"), CXML)
    assert result.rejected == ["CT-2026-0417"]
    (issue,) = result.issues
    assert (issue.field, issue.value) == ("line.price_basis", "12")
    assert issue.message.startswith(
        "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/PriceBasisQuantity/@quantity: "
        "a price per 12 units cannot be expressed (supported: 1, 100"
    )
    (issue,) = read_xml_orders(_with_basis("100", unit="BX"), CXML).issues
    assert "the price is per 100 BX but the line's quantity is in EA" in issue.message
    (issue,) = read_xml_orders(_with_basis("1", factor="12"), CXML).issues
    assert issue.message.startswith(
        "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/PriceBasisQuantity"
        '/@conversionFactor: "12"'
    )


def test_shipping_tax_and_discount() -> None:
    money = (
        b'<Shipping><Money currency="USD">45.00</Money><Description xml:lang="en">Freight'
        b"</Description></Shipping>"
        b'<Tax><Money currency="USD">98.10</Money><Description xml:lang="en">Sales tax'
        b"</Description></Tax><Comments"
    )
    data = _contoso(b"<Comments", money)
    data = data.replace(
        b"</ItemDetail>",
        b'</ItemDetail><Discount><DiscountPercent percent="5"/></Discount>',
        1,
    )
    result = read_xml_orders(data, CXML)
    assert [str(i) for i in result.issues] == [
        "line 56: /cXML/Request/OrderRequest/OrderRequestHeader/Tax/Description is not read "
        "(nothing in the layout reads it); the order goes on without it (warning)",
        COST_CENTRE,
    ]
    (order,) = result.orders
    (freight,) = order.allowances_charges
    assert (freight.indicator, freight.code, freight.amount, freight.description) == (
        "charge",
        "D240",
        Decimal("45.00"),
        "Freight",
    )
    assert [(t.type_code, t.amount) for t in order.taxes] == [("TX", Decimal("98.10"))]
    (discount,) = order.lines[0].allowances_charges
    assert (discount.indicator, discount.code, discount.percent) == (
        "allowance",
        "C310",
        Decimal(5),
    )


def test_bad_shipping_money_is_an_error() -> None:
    data = _contoso(
        b"<Comments", b'<Shipping><Money currency="USD">lots</Money></Shipping><Comments'
    )
    result = read_xml_orders(data, CXML)
    assert [i.message for i in result.issues] == [
        '/cXML/Request/OrderRequest/OrderRequestHeader/Shipping/Money: "lots" is not a number'
    ]


def test_short_name_is_not_run_into_the_description() -> None:
    data = _contoso(b"Widget, blue<", b"Widget, blue, 100 per case<ShortName>Widget</ShortName><")
    (order,) = read_xml_orders(data, CXML).orders
    assert [d.text for d in order.lines[0].descriptions] == ["Widget, blue, 100 per case"]


def test_only_the_first_language_s_description_is_read() -> None:
    """cXML has a Description per xml:lang: the tail of a ShortName in the second one was
    appended to the first ('Widget, blue bleu')."""
    french = b'<Description xml:lang="fr">Gadget<ShortName>G</ShortName> bleu</Description>'
    data = _contoso(b"Widget, blue</Description>", b"Widget, blue</Description>" + french)
    (order,) = read_xml_orders(data, CXML).orders
    assert [d.text for d in order.lines[0].descriptions] == ["Widget, blue"]


def test_default_namespace_is_named() -> None:
    ns = b"http://xml.cxml.org/schemas/cXML/1.2.050"
    data = _contoso(b"<cXML ", b'<cXML xmlns="' + ns + b'" ')
    (issue,) = read_xml_orders(data, CXML).issues
    assert issue.message == (
        'not an OrderRequest: <cXML> is in namespace "http://xml.cxml.org/schemas/cXML/1.2.050",'
        " but cXML takes no namespace (remove the xmlns attribute)"
    )
