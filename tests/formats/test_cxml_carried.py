"""What a cXML OrderRequest says beyond items and prices reaches the canonical Order, and what
the built-in layout still cannot place is warned about with its path and line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edigate.formats import read_xml_orders
from edigate.formats.issues import ReadResult
from edigate.model import Order
from edigate.partners.layouts import XmlLayout

CXML = XmlLayout(layout="cxml")

# Line numbers matter: the warnings name them.
MINIMAL = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="p-1@buyer.example" timestamp="2026-03-02T09:00:00+00:00">
<Header><From><Credential domain="NetworkId"><Identity>BUYER</Identity></Credential></From>
<To><Credential domain="NetworkId"><Identity>US</Identity></Credential></To></Header>
<Request><OrderRequest>
<OrderRequestHeader orderID="PO-1" orderDate="2026-03-02T09:00:00+00:00" type="new">
<Total><Money currency="USD">30.00</Money></Total>
<ShipTo><Address addressID="DC1"><Name xml:lang="en">Dock</Name>
<Email name="default">dock@buyer.example</Email>
<Phone name="work"><TelephoneNumber><CountryCode isoCountryCode="US">1</CountryCode>
<AreaOrCityCode>800</AreaOrCityCode><Number>5550100</Number><Extension>22</Extension>
</TelephoneNumber></Phone>
<Fax><TelephoneNumber><CountryCode isoCountryCode="US">1</CountryCode>
<AreaOrCityCode>800</AreaOrCityCode><Number>5550101</Number></TelephoneNumber></Fax>
<URL>https://buyer.example/dock</URL></Address></ShipTo>
<Contact role="purchasingAgent"><Name xml:lang="en">Pat Buyer</Name>
<Email>pat@buyer.example</Email></Contact>
<Contact role="endUser"><Name xml:lang="en">Eve User</Name></Contact>
<Comments xml:lang="en">Ring twice.<Attachment><URL>cid:map.pdf</URL></Attachment></Comments>
<Payment><PCard number="4111" expiration="2027-01-31"/></Payment>
</OrderRequestHeader>
<ItemOut quantity="3" lineNumber="1" itemType="item">
<ItemID><SupplierPartID>W-1</SupplierPartID></ItemID>
<ItemDetail><UnitPrice><Money currency="USD">10.00</Money></UnitPrice>
<Description xml:lang="en">Widget</Description><UnitOfMeasure>EA</UnitOfMeasure>
<Classification domain="UNSPSC">31162800</Classification></ItemDetail>
<Distribution><Accounting name="Ops"><Segment id="c50" description="CC" type="Cost Center"/>
</Accounting><Charge><Money currency="USD">30.00</Money></Charge></Distribution>
</ItemOut>
</OrderRequest></Request></cXML>
"""


def _read(data: bytes) -> tuple[Order, ReadResult]:
    result = read_xml_orders(data, CXML)
    (order,) = result.orders
    return order, result


def test_minimal_order_request_carries_what_has_a_home() -> None:
    order, _ = _read(MINIMAL)
    # The Total in the shape an 850's AMT*TT takes.
    assert [(a.qualifier, a.amount) for a in order.amounts] == [("TT", Decimal("30.00"))]
    # The address's e-mail, phone and fax as the party's contact (PER IC in the N1 loop).
    ship_to = order.party("ST")
    assert ship_to is not None
    (reach,) = ship_to.contacts
    assert (reach.function, reach.email, reach.phone, reach.fax) == (
        "IC",
        "dock@buyer.example",
        "+1 800 5550100",
        "+1 800 5550101",
    )
    assert [(o.qualifier, o.value) for o in reach.other] == [
        ("EX", "22"),
        ("UR", "https://buyer.example/dock"),
    ]
    # Header Contacts as order contacts (header PER).
    assert [(c.function, c.name, c.email) for c in order.contacts] == [
        ("BD", "Pat Buyer", "pat@buyer.example"),
        ("IC", "Eve User", None),
    ]
    assert [n.text for n in order.notes] == ["Ring twice.", "Attachment: cid:map.pdf"]
    (line,) = order.lines
    assert [(r.qualifier, r.value, r.description) for r in line.references] == [
        ("ZZ", "31162800", "cXML Classification UNSPSC"),
        ("ZZ", "c50", "cXML Accounting Ops: Cost Center (CC)"),
    ]
    assert line.identifiers[0].value == "W-1"  # the commodity code is not an item ID
    assert len(line.identifiers) == 1
    assert [(a.qualifier, a.amount) for a in line.amounts] == [("1", Decimal("30.00"))]


def test_what_has_no_home_is_warned_about_with_path_and_line() -> None:
    _, result = _read(MINIMAL)
    header = "/cXML/Request/OrderRequest/OrderRequestHeader"
    assert [(i.line, i.severity, i.message) for i in result.issues] == [
        (
            18,
            "warning",
            f'{header}/Contact[2]/@role is not read (role "endUser" has no X12 contact '
            "function; the contact is kept as IC, information contact); the order goes on "
            "without it",
        ),
        (
            20,
            "warning",
            f"{header}/Payment is not read (nothing in the layout reads it); the order goes "
            "on without it",
        ),
        (
            22,
            "warning",
            "/cXML/Request/OrderRequest/ItemOut/@itemType is not read (nothing in the layout "
            "reads it); the order goes on without it",
        ),
    ]


def test_a_future_element_is_never_dropped_silently() -> None:
    """No list of known names: whatever nothing read is found by walking the order."""
    data = MINIMAL.replace(
        b"<ItemID>", b'<Packaging><PackagingCode>BOX</PackagingCode></Packaging><ItemID x="1">'
    ).replace(b'<Money currency="USD">30.00</Money></Total>', b"<Money>30.00</Money>oops</Total>")
    _, result = _read(data)
    unread = [(i.line, i.message.split(" is not read")[0]) for i in result.issues]
    assert (7, "/cXML/Request/OrderRequest/OrderRequestHeader/Total/text()") in unread
    assert (23, "/cXML/Request/OrderRequest/ItemOut/Packaging") in unread
    assert (23, "/cXML/Request/OrderRequest/ItemOut/ItemID/@x") in unread


def test_a_line_split_over_accounts_keeps_accounts_and_warns_on_charges() -> None:
    second = (
        b'\n<Distribution><Accounting name="IT"><Segment id="c60" description="CC"/></Accounting>'
        b'<Charge><Money currency="USD">10.00</Money></Charge></Distribution>\n</ItemOut>'
    )
    order, result = _read(MINIMAL.replace(b"\n</ItemOut>", second))
    (line,) = order.lines
    assert [r.value for r in line.references] == ["31162800", "c50", "c60"]
    assert line.references[2].description == "cXML Accounting IT: (CC)"
    assert line.amounts == []
    charges = [i for i in result.issues if "/Charge is not read" in i.message]
    assert [i.line for i in charges] == [28, 29]
    assert "split over 2 accounts" in charges[0].message


def test_tax_in_another_currency_than_the_order_is_warned_about() -> None:
    tax = b'<Tax><Money currency="EUR">2.00</Money></Tax>\n<Payment>'
    order, result = _read(MINIMAL.replace(b"<Payment>", tax))
    assert [t.amount for t in order.taxes] == [Decimal("2.00")]
    assert any(
        i.message.startswith(
            "/cXML/Request/OrderRequest/OrderRequestHeader/Tax/Money/@currency is not read"
        )
        for i in result.issues
    )


def test_corpus_coupa_order(corpus_dir: Path) -> None:
    """officeluv-cxml: Total, ShipTo Email, an endUser Contact, UNSPSC and accounting."""
    data = (corpus_dir / "cxml/officeluv-cxml__purchase_order_request_200.xml").read_bytes()
    order, result = _read(data)
    assert [(a.qualifier, a.amount) for a in order.amounts] == [("TT", Decimal("1505.0"))]
    ship_to = order.party("ST")
    assert ship_to is not None
    assert [c.email for c in ship_to.contacts] == ["jmadden@coupa1.com"]
    assert [(c.function, c.name, c.email) for c in order.contacts] == [
        ("IC", "j maddedn", "jmadden@coupa1.com")
    ]
    assert [n.text for n in order.notes] == ["header comment goes here if entered by user"]
    for line in order.lines:
        assert [(r.value, r.description) for r in line.references] == [
            ("44000000", "cXML Classification UNSPSC"),
            ("bbb", "cXML Accounting bbbb: Organization (ORG)"),
            ("b", "cXML Accounting bbbb: Department (DEPT)"),
            ("bb", "cXML Accounting bbbb: Project (PROJ)"),
        ]
        assert [(a.qualifier, a.amount) for a in line.amounts] == [("1", Decimal("1505.0"))]
    # The contact's role is the one thing left, and it is said.
    assert [(i.line, i.message.split(" is not read")[0]) for i in result.issues] == [
        (64, "/cXML/Request/OrderRequest/OrderRequestHeader/Contact/@role")
    ]


def test_corpus_cxml_php_order(corpus_dir: Path) -> None:
    """cxml-php: Total 85.00, ShipTo and BillTo phones, a Comments Attachment."""
    order, result = _read((corpus_dir / "cxml/cxml-php__OrderRequest.xml").read_bytes())
    assert [(a.qualifier, a.amount) for a in order.amounts] == [("TT", Decimal("85.00"))]
    phones = {p.role_code: [c.phone for c in p.contacts] for p in order.parties}
    assert phones["ST"] == ["+1 800 5551212"]
    assert phones["BT"] == ["+49 761 1234567"]
    assert [n.text for n in order.notes] == ["Attachment: delivery-note.pdf"]
    assert [r.description for r in order.lines[0].references] == ["cXML Classification custom"]
    assert [(i.line, i.message.split(" is not read")[0]) for i in result.issues] == [
        (104, "/cXML/Request/OrderRequest/ItemOut[2]/Comments/@type")
    ]
