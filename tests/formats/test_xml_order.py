"""XML orders by XPath: namespaces, conversions, and hostile input refused."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from edigate.formats import parse_xml, read_xml_orders
from edigate.formats.xml_order import compile_layout

from .helpers import xml_layout

NS = "urn:example:orders"

LAYOUT = """\
  namespaces: {o: "urn:example:orders"}
  order: /o:Orders/o:Order
  line: o:Items/o:Item
  decimal: ","
  date_formats: ["%Y%m%d"]
  fields:
    order.po_number: o:Number
    order.po_date: o:Date
    order.purpose_code: {xpath: "@kind", values: {new: "00", change: "04"}}
    order.currency: /o:Orders/@currency
    party[ship_to].name: o:ShipTo/o:Name
    party[ship_to].address.lines: o:ShipTo/o:Street
    line.line_number: "@no"
    line.quantity: o:Qty
    line.unit: o:Qty/@unit
    line.unit_price: {xpath: o:Price, decimal: "."}
    line.identifiers[VN]: o:Sku
    line.dates[002]: {xpath: o:Wanted, date_format: "%d/%m/%Y"}
"""

DOC = f"""<?xml version="1.0"?>
<Orders xmlns="{NS}" currency="EUR">
  <Order kind="new">
    <Number>A-1</Number>
    <Date>20260105</Date>
    <ShipTo><Name>Depot   North</Name><Street>1 Road</Street><Street>Gate 2</Street></ShipTo>
    <Items>
      <Item no="10"><Sku>S1</Sku><Qty unit="EA">2,5</Qty><Price>3.10</Price></Item>
      <Item no="20"><Sku>S2</Sku><Qty unit="CA">4</Qty><Price>9</Price>
        <Wanted>09/01/2026</Wanted></Item>
    </Items>
  </Order>
  <Order kind="change">
    <Number>A-2</Number>
    <Date>2026-01-05</Date>
    <Items><Item no="1"><Sku>S3</Sku><Qty>1</Qty></Item></Items>
  </Order>
</Orders>
""".encode()


def test_namespaces_xpaths_and_conversions() -> None:
    result = read_xml_orders(DOC, xml_layout(LAYOUT))
    assert [str(i) for i in result.issues] == [
        'line 15, order.po_date: "2026-01-05" is not a date (expected %Y%m%d)'
    ]
    assert result.rejected == ["A-2"]
    (order,) = result.orders
    assert (order.po_number, order.po_date.isoformat(), order.currency) == (
        "A-1",
        "2026-01-05",
        "EUR",
    )
    assert order.purpose_code == "00"
    ship_to = order.party("ST")
    assert ship_to is not None and ship_to.name == "Depot North"  # whitespace normalised
    assert ship_to.address is not None and ship_to.address.lines == ["1 Road", "Gate 2"]
    first, second = order.lines
    assert (first.line_number, first.quantity, first.unit, first.unit_price) == (
        "10",
        Decimal("2.5"),
        "EA",
        Decimal("3.10"),
    )
    assert (second.vendor_part_number, second.quantity, second.unit) == ("S2", Decimal(4), "CA")
    assert second.dates[0].qualifier == "002" and second.dates[0].date is not None
    assert second.dates[0].date.isoformat() == "2026-01-09"


def test_several_values_for_one_field_warn() -> None:
    layout = xml_layout(LAYOUT.replace("o:ShipTo/o:Name", "o:ShipTo/*"))
    result = read_xml_orders(DOC, layout)
    assert (
        "line 6, party[ship_to].name: o:ShipTo/* finds 3 different values; the first "
        '("Depot North") is used (warning)'
    ) in [str(i) for i in result.issues]


def test_no_order_found_says_what_the_root_is() -> None:
    result = read_xml_orders(b"<Invoice/>", xml_layout(LAYOUT))
    assert [str(i) for i in result.issues] == [
        "line 1: no order: /o:Orders/o:Order selects nothing (root element <Invoice>)"
    ]


def test_not_well_formed_names_the_line() -> None:
    result = read_xml_orders(b"<Orders>\n<Order>\n</Orders>", xml_layout(LAYOUT))
    (issue,) = result.issues
    assert issue.line == 3 and str(issue).startswith("line 3: not well-formed XML: ")


def test_not_well_formed_names_the_line_once() -> None:
    """lxml appends the place to libxml2's message, which may name the line itself: a
    truncated file read 'line 3: ... Tag Order line 3, line 3, column 7'."""
    result = read_xml_orders(b"<Orders>\n\n<Order", xml_layout(LAYOUT))
    (issue,) = result.issues
    assert str(issue) == (
        "line 3: not well-formed XML: Couldn't find end of Start Tag Order (column 7)"
    )
    # A line libxml2 names that is another one (where the tag opened) is kept.
    result = read_xml_orders(b"<Orders>\n<Order>\n</Orders>", xml_layout(LAYOUT))
    (issue,) = result.issues
    assert str(issue).endswith("tag mismatch: Order line 2 and Orders (column 10)"), issue


def test_compiled_layout_is_reusable() -> None:
    compiled = compile_layout(xml_layout(LAYOUT))
    assert [o.po_number for o in read_xml_orders(DOC, compiled).orders] == ["A-1"]
    assert not compiled.number_lines


# --- hostile input -----------------------------------------------------------------------------


SIMPLE = """\
  order: /Order
  line: Line
  fields:
    order.po_number: "@id"
    order.po_date: "@date"
    line.quantity: "@qty"
    line.descriptions[0].text: .
"""


def test_xxe_does_not_read_local_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Order [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<Order id="P1" date="2026-01-01"><Line qty="1">&x;</Line></Order>'
    ).encode()
    result = read_xml_orders(doc, xml_layout(SIMPLE))
    assert result.orders == []
    assert [str(i) for i in result.issues] == [
        "line 1: the document declares entities (x): refused, entity expansion and external "
        "entities are not accepted"
    ]
    assert "TOP-SECRET" not in repr(result)
    root, _ = parse_xml(doc)
    assert root is None


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b'<!ENTITY x "FETCHED">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    _Recorder.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def test_dtd_urls_are_never_fetched(dtd_server: tuple[str, list[str]]) -> None:
    url, hits = dtd_server
    body = '<Order id="P1" date="2026-01-01"><Line qty="1">x</Line></Order>'
    external_dtd = f'<!DOCTYPE Order SYSTEM "{url}/order.dtd">\n{body}'.encode()
    parameter = f'<!DOCTYPE Order [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>\n{body}'.encode()
    general = (
        f'<!DOCTYPE Order [<!ENTITY x SYSTEM "{url}/x.txt">]>\n'
        '<Order id="P1" date="2026-01-01"><Line qty="1">&x;</Line></Order>'
    ).encode()
    plain = read_xml_orders(external_dtd, xml_layout(SIMPLE))
    assert [o.po_number for o in plain.orders] == ["P1"] and plain.issues == []
    for doc in (parameter, general):
        result = read_xml_orders(doc, xml_layout(SIMPLE))
        assert result.orders == []
        assert "declares entities" in str(result.issues[0])
    # A reference to an entity the (unloaded) external DTD would declare: not silently dropped.
    undeclared = f'<!DOCTYPE Order SYSTEM "{url}/order.dtd">\n'
    undeclared += '<Order id="P1" date="2026-01-01"><Line qty="1">&x;</Line></Order>'
    result = read_xml_orders(undeclared.encode(), xml_layout(SIMPLE))
    assert [str(i) for i in result.issues] == [
        "line 2: entity reference &x; cannot be resolved (no DTD is loaded): refused"
    ]
    assert hits == []


@pytest.mark.parametrize("levels", [3, 10])
def test_billion_laughs_is_refused_quickly(levels: int) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels)
    )
    doc = (
        f"<!DOCTYPE Order [{entities}]>"
        f'<Order id="P1" date="2026-01-01"><Line qty="1">&l{levels - 1};</Line></Order>'
    ).encode()
    start = time.perf_counter()
    result = read_xml_orders(doc, xml_layout(SIMPLE))
    assert time.perf_counter() - start < 2
    assert result.orders == []
    (issue,) = result.issues
    assert "declares entities" in issue.message or "amplification" in issue.message


def test_deep_nesting_is_refused() -> None:
    doc = b"<Order>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</Order>"
    result = read_xml_orders(doc, xml_layout(SIMPLE))
    (issue,) = result.issues
    assert result.orders == [] and "not well-formed XML" in issue.message
    assert "depth" in issue.message.lower()


def test_a_layout_maps_allowances_and_charges() -> None:
    """A generic layout can carry freight and discounts, as the built-in ones do."""
    layout = xml_layout(
        LAYOUT
        + """\
    order.allowances_charges[0].indicator: "'C'"
    order.allowances_charges[0].code: "'D240'"
    order.allowances_charges[0].amount: o:Freight
    line.allowances_charges[0].indicator: "'A'"
    line.allowances_charges[0].description: "'discount'"
    line.allowances_charges[0].amount: o:Discount
"""
    )
    doc = f"""<Orders xmlns="{NS}"><Order kind="new"><Number>A-1</Number><Date>20260105</Date>
      <Freight>12,50</Freight>
      <Items><Item no="1"><Sku>S1</Sku><Qty>2</Qty><Discount>1,25</Discount></Item></Items>
    </Order></Orders>"""
    result = read_xml_orders(doc.encode(), layout)
    assert result.issues == []
    (order,) = result.orders
    (freight,) = order.allowances_charges
    assert (freight.indicator, freight.code, freight.amount) == ("charge", "D240", Decimal("12.50"))
    (discount,) = order.lines[0].allowances_charges
    assert (discount.indicator, discount.amount) == ("allowance", Decimal("1.25"))


def test_a_repeated_po_number_is_an_error_on_the_second_order() -> None:
    layout = xml_layout(LAYOUT)
    doc = DOC.replace(b"<Number>A-2</Number>", b"<Number>A-1</Number>")
    result = read_xml_orders(doc, layout)
    assert [o.po_number for o in result.orders] == ["A-1"]
    assert (result.order_indexes, result.rejected, result.rejected_indexes) == ([0], ["A-1"], [1])
    issue = result.issues[0]  # the second order's own date error follows
    assert {i.index for i in result.issues} == {1}
    assert (issue.line, issue.index, issue.field) == (13, 1, "order.po_number")
    assert issue.message == (
        'PO number "A-1" is already the order at line 3 of this file: expected one order per '
        "PO number"
    )
