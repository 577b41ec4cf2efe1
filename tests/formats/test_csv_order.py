"""CSV orders: dialects, encodings, grouping, and problems at their line and column."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edigate.formats import read_csv_orders
from edigate.partners import load_registry

from .helpers import ROOT, SAMPLES, csv_layout

BASIC = """\
  columns:
    order.po_number: PO
    order.po_date: Date
    line.identifiers[VN]: Item
    line.quantity: Qty
    line.unit_price: Price
"""


def test_initech_sample_groups_rows_into_orders() -> None:
    """The example partner's file: BOM, quoted commas and quotes, a blank line, and a row of
    the first order after the second one."""
    partner = load_registry(ROOT).get("initech-csv")
    assert partner is not None and partner.map.csv is not None
    result = read_csv_orders((SAMPLES / "csv/initech-orders.csv").read_bytes(), partner.map.csv)
    assert result.issues == [] and result.rejected == []
    first, second = result.orders
    assert (first.po_number, second.po_number) == ("IN-26-1001", "IN-26-1002")
    assert first.po_date.isoformat() == "2026-03-02"
    assert first.date("002") is not None and first.date("002").isoformat() == "2026-03-09"
    assert [line.quantity for line in first.lines] == [Decimal(24), Decimal(10), Decimal(12)]
    assert [line.line_number for line in first.lines] == ["1", "2", "3"]
    assert [line.buyer_part_number for line in first.lines] == ["INI-1001", "INI-1002", "INI-1001"]
    assert first.lines[1].unit is None  # empty UOM: the map's default fills it later
    assert first.lines[2].description == 'Widget, blue "rush" re-order'
    ship_to = first.party("ST")
    assert ship_to is not None and ship_to.address is not None
    assert ship_to.address.lines == ["4120 Freidrich Ln, Suite 200"]
    assert second.date("002") is None and len(second.lines) == 1


def test_no_header_columns_by_number() -> None:
    layout = csv_layout(
        """\
  header: false
  columns:
    order.po_number: 1
    order.po_date: 2
    line.identifiers[BP]: 3
    line.quantity: 5
"""
    )
    data = b"PO-1,2026-01-05,A-1,ignored,3\nPO-1,2026-01-05,A-2,,4\n"
    result = read_csv_orders(data, layout)
    (order,) = result.orders
    assert [(ln.buyer_part_number, ln.quantity) for ln in order.lines] == [
        ("A-1", Decimal(3)),
        ("A-2", Decimal(4)),
    ]
    assert [str(i) for i in result.issues] == [
        'line 1, column "4": has values but no field in the map takes this column (warning)'
    ]


def test_semicolon_decimal_comma_and_cp1252() -> None:
    layout = csv_layout(
        """\
  delimiter: ";"
  encoding: cp1252
  decimal: ","
  thousands: "."
  date_formats: ["%d.%m.%Y"]
  columns:
    order.po_number: Bestellung
    order.po_date: Datum
    party[ship_to].name: Empfänger
    line.identifiers[BP]: Artikel
    line.description: Bezeichnung
    line.quantity: Menge
    line.unit_price: Preis
"""
    )
    text = (
        "Bestellung;Datum;Empfänger;Artikel;Bezeichnung;Menge;Preis\n"
        "B-77;03.02.2026;Müller GmbH;X1;Schlüssel 5€;1.250,5;12,99\n"
        '"B-77";03.02.2026;Müller GmbH;X2;"Größe; XL";2;1.000\n'
    )
    result = read_csv_orders(text.encode("cp1252"), layout)
    assert result.issues == []
    (order,) = result.orders
    assert order.po_date.isoformat() == "2026-02-03"
    assert order.party("ST") is not None and order.party("ST").name == "Müller GmbH"  # type: ignore[union-attr]
    assert [ln.quantity for ln in order.lines] == [Decimal("1250.5"), Decimal(2)]
    assert [ln.unit_price for ln in order.lines] == [Decimal("12.99"), Decimal(1000)]
    assert [ln.description for ln in order.lines] == ["Schlüssel 5€", "Größe; XL"]


def test_bad_quantity_rejects_its_order_only() -> None:
    text = (
        "PO,Date,Item,Qty,Price\n"
        "P1,2026-01-05,A,1,2.00\n"
        "P2,2026-01-06,B,2,2.00\n"
        "\n"
        "P1,2026-01-05,C,3,2.00\n"
        "P2,2026-01-06,D,4,2.00\n"
        'P1,2026-01-05,E,"12,5x",2.00\n'
    )
    result = read_csv_orders(text.encode(), csv_layout(BASIC))
    assert [str(i) for i in result.issues] == ['line 7, column "Qty": "12,5x" is not a number']
    issue = result.issues[0]
    assert (issue.line, issue.column, issue.value, issue.order) == (7, "Qty", "12,5x", "P1")
    assert result.rejected == ["P1"]
    assert [o.po_number for o in result.orders] == ["P2"]
    assert len(result.orders[0].lines) == 2


def test_a_ragged_row_rejects_its_order_only_naming_the_line() -> None:
    """A cut-off row (and a run-on one) would put cells in the wrong fields: its order is
    refused at that line; the other orders go on."""
    text = (
        "PO,Date,Item,Qty,Price\n"
        "P1,2026-01-05,A,1,2.00\n"
        "P2,2026-01-06,B,2,2.00\n"
        "P2,2026-01-06,C\n"
        "P3,2026-01-07,D,4,2.00,extra\n"
    )
    result = read_csv_orders(text.encode(), csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        "line 4: 3 field(s), but the header has 5",
        "line 5: 6 field(s), but the header has 5",
    ]
    assert sorted(result.rejected) == ["P2", "P3"]
    assert [o.po_number for o in result.orders] == ["P1"]


def test_an_order_without_lines_is_refused() -> None:
    """Rows with the order's fields only (no item, no quantity) make no order to deliver."""
    text = "PO,Date,Item,Qty,Price\nP1,2026-01-05,A,1,2.00\nP2,2026-01-06,,,\n"
    result = read_csv_orders(text.encode(), csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        "line 3: the order has no lines: at least one line is required"
    ]
    assert result.rejected == ["P2"] and [o.po_number for o in result.orders] == ["P1"]


def test_decimal_comma_hint_and_bad_date() -> None:
    text = 'PO,Date,Item,Qty,Price\nP1,2026-02-30,A,"1,5",2.00\n'
    result = read_csv_orders(text, csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        'line 2, column "Date": "2026-02-30" is not a date (expected iso)',
        'line 2, column "Qty": "1,5" is not a number (the decimal separator is ".")',
    ]
    assert result.orders == [] and result.rejected == ["P1"]


def test_order_fields_must_agree_across_rows() -> None:
    text = "PO,Date,Item,Qty,Price\nP1,2026-01-05,A,1,1\nP1,2026-01-06,B,1,1\n"
    result = read_csv_orders(text, csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        'line 3, column "Date": "2026-01-06" differs from "2026-01-05" on line 2 '
        "(order.po_date is one value per order)"
    ]
    assert result.orders == []


def test_missing_header_column_refuses_the_file() -> None:
    result = read_csv_orders(
        "PO,Date,Item,Quantity,Price\nP1,2026-01-05,A,1,1\n", csv_layout(BASIC)
    )
    assert [str(i) for i in result.issues] == [
        'line 1: column(s) "Qty" not in the header ("PO", "Date", "Item", "Quantity", "Price")'
    ]
    assert result.orders == []


def test_unclosed_quote_refuses_the_file() -> None:
    text = 'PO,Date,Item,Qty,Price\nP1,2026-01-05,A,1,1\nP2,2026-01-05,"B,1,1\nP3,x,y,1,1\n'
    result = read_csv_orders(text, csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        "line 3: not valid CSV in the row starting here (read up to line 4): unexpected end "
        "of data; the file is refused"
    ]  # the quote opened on line 3, not where the reader ran out
    assert result.orders == [] and result.rejected == ["P1"]


def test_wrong_encoding_names_the_line_and_the_fix() -> None:
    data = "PO,Date,Item,Qty,Price\nP1,2026-01-05,Caf\u00e9,1,1\n".encode("cp1252")
    result = read_csv_orders(data, csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        "line 2: byte 0xe9 at offset 40 is not utf-8: set csv.encoding "
        "(utf-8, utf-8-sig, cp1252, latin-1)"
    ]


def test_empty_key_and_values_table() -> None:
    layout = csv_layout(
        BASIC
        + """\
    order.purpose_code: {column: Kind, values: {new: "00", change: "04"}}
"""
    )
    text = (
        "PO,Date,Item,Qty,Price,Kind\n"
        ",2026-01-05,A,1,1,new\n"
        "P1,2026-01-05,A,1,1,change\n"
        "P2,2026-01-05,A,1,1,cancel\n"
    )
    result = read_csv_orders(text, layout)
    assert [str(i) for i in result.issues] == [
        'line 2, column "PO": empty, but every row needs the order key',
        'line 4, column "Kind": "cancel" is not one of new, change',
    ]
    (order,) = result.orders
    assert (order.purpose_code, order.purpose.value) == ("04", "change")


def test_model_errors_point_at_the_row() -> None:
    """A party with neither name nor ID cannot exist; the row that made it is named."""
    layout = csv_layout(BASIC + "    party[ship_to].address.city: City\n")
    result = read_csv_orders("PO,Date,Item,Qty,Price,City\nP1,2026-01-05,A,1,1,Austin\n", layout)
    assert [str(i) for i in result.issues] == [
        "line 2: parties[0]: party 'ST' needs a name or an identifier"
    ]


def test_group_by_another_column(tmp_path: Path) -> None:
    layout = csv_layout("  group_by: Ref\n" + BASIC)
    text = "Ref,PO,Date,Item,Qty,Price\nr1,P1,2026-01-05,A,1,1\nr2,P1,2026-01-05,B,2,1\n"
    result = read_csv_orders(text, layout)
    assert [len(o.lines) for o in result.orders] == [1, 1]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["P1", "P2", "P3"]),
            st.text(
                alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters=";"),
                min_size=1,
                max_size=12,
            ).filter(lambda s: s.strip() == s and s != ""),
            st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_written_by_csv_module_reads_back(rows: list[tuple[str, str, Decimal]]) -> None:
    """Whatever Python's csv writer produces (quotes, semicolons, decimal commas) reads back."""
    layout = csv_layout(
        """\
  delimiter: ";"
  decimal: ","
  columns:
    order.po_number: PO
    order.po_date: Date
    line.descriptions[0].text: Text
    line.quantity: Qty
"""
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["PO", "Date", "Text", "Qty"])
    for po, text, qty in rows:
        writer.writerow([po, "2026-01-01", text, str(qty).replace(".", ",")])
    result = read_csv_orders(out.getvalue().encode(), layout)
    assert result.issues == []
    got = {(o.po_number, ln.description, ln.quantity) for o in result.orders for ln in o.lines}
    assert got == {(po, text, qty) for po, text, qty in rows}
    assert sum(len(o.lines) for o in result.orders) == len(rows)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_encodings(encoding: str) -> None:
    layout = csv_layout(f"  encoding: {encoding}\n" + BASIC)
    data = "PO,Date,Item,Qty,Price\nP1,2026-01-05,Ü-1,1,1\n".encode(encoding)
    (order,) = read_csv_orders(data, layout).orders
    assert order.lines[0].vendor_part_number == "Ü-1"


def test_a_cancellation_may_name_no_line() -> None:
    layout = csv_layout(BASIC + "    order.purpose_code: Purpose\n")
    text = "PO,Date,Item,Qty,Price,Purpose\nP1,2026-01-05,,,,01\nP2,2026-01-05,,,,00\n"
    result = read_csv_orders(text.encode(), layout)
    assert [o.po_number for o in result.orders] == ["P1"] and result.rejected == ["P2"]


def test_a_thousands_separator_must_group_in_threes() -> None:
    """With thousands "." and decimal ",", "12.5" is no German number: read as 125 it would
    order ten times over. It is refused; "1.250,5" and "1.000" are read as grouped."""
    layout = csv_layout(
        """\
  delimiter: ";"
  decimal: ","
  thousands: "."
  columns:
    order.po_number: PO
    order.po_date: Date
    line.identifiers[VN]: Item
    line.quantity: Qty
    line.unit_price: Price
"""
    )
    text = "PO;Date;Item;Qty;Price\nP1;2026-01-05;A;1.250,5;1.000\nP2;2026-01-05;B;12.5;4,50\n"
    result = read_csv_orders(text, layout)
    assert [str(i) for i in result.issues] == [
        'line 3, column "Qty": "12.5" is not a number (the thousands separator "." groups '
        'digits in threes; the decimal separator is ",")'
    ]
    (order,) = result.orders
    assert (order.lines[0].quantity, order.lines[0].unit_price) == (Decimal("1250.5"), 1000)
    assert result.rejected == ["P2"]


@pytest.mark.parametrize(
    ("raw", "decimal", "thousands", "value"),
    [
        ("- 1 000", ".", " ", "-1000"),  # a sign set apart
        ("1\u202f000,5", ",", " ", "1000.5"),  # the narrow no-break space of French figures
        ("1'234'567.25", ".", "'", "1234567.25"),
        ("1.000", ",", ".", "1000"),
    ],
)
def test_grouped_numbers_in_the_usual_conventions(
    raw: str, decimal: str, thousands: str, value: str
) -> None:
    from edigate.formats.values import parse_decimal

    assert parse_decimal(raw, decimal, thousands) == Decimal(value)


def test_an_order_line_needs_a_quantity() -> None:
    """A line with no quantity tells the ERP to ship nothing: its order is refused, at the
    row; a cancellation may still name lines without one."""
    text = "PO,Date,Item,Qty,Price\nP1,2026-01-05,A,1,2.00\nP1,2026-01-05,B,,\n"
    result = read_csv_orders(text, csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        "line 3: line 2 of the order: quantity: required, but the file has no value for it"
    ]
    assert result.orders == [] and result.rejected == ["P1"]


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\x85", "\x1c"])
def test_a_record_ends_at_cr_or_lf_only(separator: str) -> None:
    """str.splitlines also breaks at a form feed, U+2028, NEL (byte 0x85 in latin-1) and the
    file separators: a description holding one would have cut its row in two."""
    text = (
        f"PO,Date,Item,Qty,Price\r\nP1,2026-01-05,A{separator}B,1,2.00\r\nP1,2026-01-05,C,2,3\r\n"
    )
    result = read_csv_orders(text, csv_layout(BASIC))
    if separator in ("\x0c", "\x1c"):  # C0 controls: refused, at the right line
        assert [(i.line, i.column) for i in result.issues] == [(2, "Item")]
        return
    assert result.issues == []
    (order,) = result.orders
    assert [line.vendor_part_number for line in order.lines] == [f"A{separator}B", "C"]


def test_without_a_header_a_short_row_is_read_as_far_as_it_goes() -> None:
    """Exporters drop empty trailing cells: such a row is read; one cut before its
    quantity is refused for the missing quantity, at its line."""
    layout = csv_layout(
        """\
  header: false
  columns:
    order.po_number: 1
    order.po_date: 2
    line.identifiers[BP]: 3
    line.quantity: 4
    line.description: 5
"""
    )
    result = read_csv_orders("P1,2026-03-02,A,5\nP2,2026-03-02,B\n", layout)
    assert [str(i) for i in result.issues] == [
        "line 2: line 1 of the order: quantity: required, but the file has no value for it"
    ]
    (order,) = result.orders
    assert order.po_number == "P1" and order.lines[0].quantity == 5
    assert result.rejected == ["P2"]


def test_one_column_fills_every_field_mapped_to_it() -> None:
    """The PO column as the PO number and as a reference: both are filled, on every row."""
    layout = csv_layout(BASIC + "    order.references[PO]: PO\n")
    text = "PO,Date,Item,Qty,Price\nP1,2026-01-01,A,5,1\nP1,2026-01-01,B,6,2\n"
    result = read_csv_orders(text.encode(), layout)
    assert result.issues == []
    (order,) = result.orders
    assert (order.po_number, order.reference("PO")) == ("P1", "P1")


@pytest.mark.parametrize("date", ["2026-03-09 or 2026-03-16", "2026-01-01TBD", "2026-01-01T"])
def test_iso_date_with_trailing_text_is_refused(date: str) -> None:
    """Not the first date mentioned: a date the partner did not commit to is an error."""
    text = f"PO,Date,Item,Qty,Price\nP1,{date},A,5,1\n"
    result = read_csv_orders(text.encode(), csv_layout(BASIC))
    assert [str(i) for i in result.issues] == [
        f'line 2, column "Date": "{date}" is not a date (expected iso)'
    ]


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2026-03-09", "2026-03-09"), ("2026-03-09T23:30:00-06:00", "2026-03-09")],
)
def test_iso_date_and_date_time(date: str, expected: str) -> None:
    text = f"PO,Date,Item,Qty,Price\nP1,{date},A,5,1\n"
    (order,) = read_csv_orders(text.encode(), csv_layout(BASIC)).orders
    assert order.po_date.isoformat() == expected


def test_exponent_is_not_a_number() -> None:
    text = "PO,Date,Item,Qty,Price\nP1,2026-01-01,A,1e3,1\n"
    result = read_csv_orders(text.encode(), csv_layout(BASIC))
    assert [str(i) for i in result.issues] == ['line 2, column "Qty": "1e3" is not a number']
