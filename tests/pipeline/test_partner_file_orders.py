"""A partner's XML file with two orders: each keeps its own issues, one PO number once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from edigate.partners import load_registry
from edigate.pipeline.detect import Format
from edigate.pipeline.partner_files import plan_partner_file
from edigate.store import Status

ROOT = Path(__file__).resolve().parents[2]

PARTNER = """\
id: gen-xml
name: Generic XML
ack: {functional: none, ta1: never, "855": none}
map: gen-xml
"""

MAP = """\
format: xml
xml:
  namespaces: {u: "urn:example:orders"}
  order: /u:Orders/u:Order
  line: u:Line
  date_formats: ["%d.%m.%Y"]
  decimal: ","
  fields:
    order.po_number: u:Number
    order.po_date: u:Date
    line.line_number: "@no"
    line.identifiers[BP]: u:Item
    line.quantity: u:Qty
    line.unit: u:Qty/@unit
"""


def _order(number: str, qty: str) -> str:
    return (
        f"<Order><Number>{number}</Number><Date>01.03.2026</Date>\n"
        f'<Line no="1"><Item>A</Item><Qty unit="EA">{qty}</Qty></Line></Order>\n'
    )


def _plan(tmp_path: Path, *orders: str) -> list[tuple[str | None, Status, list[str]]]:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "partners/gen-xml.yaml").write_text(PARTNER)
    (tmp_path / "maps/gen-xml.yaml").write_text(MAP)
    data = '<Orders xmlns="urn:example:orders">\n' + "".join(orders) + "</Orders>\n"
    plan = plan_partner_file(
        load_registry(tmp_path), "gen-xml", "o.xml", data.encode(), Format.XML, dt.date(2026, 3, 2)
    )
    assert plan.errors == []
    return [(o.po_number, o.status, [e["message"] for e in o.errors]) for o in plan.orders]


def test_issues_belong_to_their_order_by_position(tmp_path: Path) -> None:
    """The second X-1's bad quantity is not the first X-1's, which alone reaches the ERP."""
    planned = _plan(tmp_path, _order("X-1", "5"), _order("X-1", "abc"), _order("X-3", "2"))
    assert planned == [  # in file order
        ("X-1", Status.TRANSLATED, []),
        (
            "X-1",
            Status.REJECTED,
            [
                'PO number "X-1" is already the order at line 2 of this file: expected one '
                "order per PO number",
                '"abc" is not a number',
            ],
        ),
        ("X-3", Status.TRANSLATED, []),
    ]


def test_a_repeated_po_number_reaches_the_erp_once(tmp_path: Path) -> None:
    planned = _plan(tmp_path, _order("X-2", "5"), _order("X-2", "7"))
    assert [(po, status) for po, status, _ in planned] == [
        ("X-2", Status.TRANSLATED),
        ("X-2", Status.REJECTED),
    ]
    assert planned[1][2][0].startswith('PO number "X-2" is already the order at line 2')


def test_a_map_issue_about_a_csv_line_says_which_line_of_the_file() -> None:
    """The map refuses the item on the file's line 6 (the third line of IN-26-1001): its
    issue carries that line, as the reader's own issues do, not only "lines[2]"."""
    data = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    assert data.count(b'INI-1001,"Widget, blue ""rush""') == 1
    data = data.replace(b'INI-1001,"Widget, blue ""rush""', b'INI-9999,"Widget, blue ""rush""')
    registry = load_registry(ROOT)
    plan = plan_partner_file(
        registry, "initech-csv", "po.csv", data, Format.CSV, dt.date(2026, 3, 2)
    )
    first = next(o for o in plan.orders if o.po_number == "IN-26-1001")
    issues = [e for e in first.errors if e["code"].startswith("map.")]
    assert issues and all(e["line"] == 6 for e in issues), issues
    assert any("INI-9999" in e["message"] for e in issues)
