"""The csv: / xml: / templates: sections of a map: every mistake at its file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edigate.formats.values import kind_of
from edigate.formats.xml_order import builtin
from edigate.partners import check_config
from edigate.partners.layouts import PATH_ALIASES

Edit = Callable[[Path, str, str], int]
INITECH = "maps/initech-csv.yaml"
CONTOSO = "maps/contoso-cxml.yaml"


def problems(config: Path) -> list[str]:
    return [str(p).replace(f"{config}/", "") for p in check_config(config).problems]


def test_examples_have_no_layout_problems(example_dir: Path) -> None:
    assert problems(example_dir) == []


def test_unknown_key_in_csv(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / INITECH, "  header: true", "  headers: true")
    assert problems(config_copy) == [
        f"{INITECH}:{line}: csv.headers: unknown key 'headers' (did you mean 'header'?)"
    ]


def test_bad_csv_values(config_copy: Path, edit: Edit) -> None:
    enc = edit(config_copy / INITECH, "encoding: utf-8-sig", "encoding: utf-16")
    fmt = edit(config_copy / INITECH, 'date_formats: ["%m/%d/%Y"]', 'date_formats: ["MM/DD"]')
    col = edit(config_copy / INITECH, "line.quantity: Qty", "line.quantiy: Qty")
    assert problems(config_copy) == [
        f"{INITECH}:{enc}: csv.encoding: input should be 'utf-8', 'utf-8-sig', 'cp1252' or "
        "'latin-1' (got 'utf-16')",
        f"{INITECH}:{fmt}: csv.date_formats[0]: 'MM/DD' is not a date format (use strftime "
        "codes, e.g. %Y%m%d)",
        f"{INITECH}:{col}: csv.columns.line.quantiy: unknown field 'quantiy' in line (did you "
        "mean 'quantity'?)",
    ]


def test_a_misspelt_party_role_is_a_problem_where_it_is_written(
    config_copy: Path, edit: Edit
) -> None:
    """party[shipto] passed the check, and then every order failed in the model, naming
    no map line; a default's role went the same way (review finding)."""
    column = edit(
        config_copy / INITECH, "party[ship_to].name: Ship To", "party[shipto].name: Ship To"
    )
    default = edit(
        config_copy / INITECH,
        "  line.unit: EA",
        "  line.unit: EA\n  party[bil_to].name: Initech AP",
    )
    assert problems(config_copy) == [
        f"{INITECH}:{default + 1}: defaults.party[bil_to].name: party[bil_to]: unknown role "
        "'bil_to' (did you mean 'bill_to'?)",
        f"{INITECH}:{column + 1}: csv.columns.party[shipto].name: party[shipto]: unknown role "
        "'shipto' (did you mean 'ship_to'?)",
    ]


def test_a_default_the_order_model_refuses_is_a_problem_where_it_is_written(
    config_copy: Path, edit: Edit
) -> None:
    """A default that could never be valid passed the check and then rejected every order
    leaving the field out (review finding). A default the file must complete (a ship-to's
    city, its name from the file) is not the default's problem."""
    line = edit(
        config_copy / INITECH,
        "  line.unit: EA",
        "  line.unit: EA\n  order.dates[010]: 2026-13-45\n  line.unit_price: '-1'\n"
        "  party[bill_to].address.city: Springfield",
    )
    assert problems(config_copy) == [
        f"{INITECH}:{line + 1}: defaults.order.dates[010]: '2026-13-45': Input should be a "
        "valid date or datetime, month value is outside expected range of 1-12",
        f"{INITECH}:{line + 2}: defaults.line.unit_price: '-1': Input should be greater than "
        "or equal to 0",
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "%d.%M.%Y",  # minutes for the month: every date would fall in January
            "'%d.%M.%Y' does not read back the date it writes: 2026-11-24 is written "
            "'24.00.2026' and read as 2026-01-24 (it needs the year, the month and the day, "
            "or %j; %m is the month, %M minutes)",
        ),
        (
            "%d.%q.%Y",  # every file would be rejected, the data blamed
            "'%d.%q.%Y' is not a date format Python reads: 'q' is a bad directive in format "
            "'%d.%q.%Y'",
        ),
        (
            "%m/%d",
            "'%m/%d' does not read back the date it writes: 2026-11-24 is written '11/24' and "
            "read as 1900-11-24 (it needs the year, the month and the day, or %j; %m is the "
            "month, %M minutes)",
        ),
    ],
)
def test_a_date_format_must_read_back_the_date_it_writes(
    config_copy: Path, edit: Edit, written: str, expected: str
) -> None:
    fmt = edit(config_copy / INITECH, 'date_formats: ["%m/%d/%Y"]', f'date_formats: ["{written}"]')
    assert problems(config_copy) == [f"{INITECH}:{fmt}: csv.date_formats[0]: {expected}"]


def test_a_columns_decimal_mark_may_not_be_the_thousands_separator(
    config_copy: Path, edit: Edit
) -> None:
    """With thousands "," a column read with decimal "," would lose its decimal point."""
    edit(
        config_copy / INITECH,
        '  date_formats: ["%m/%d/%Y"]',
        '  date_formats: ["%m/%d/%Y"]\n  thousands: ","',
    )
    line = edit(
        config_copy / INITECH,
        "line.unit_price: Price",
        'line.unit_price: {column: Price, decimal: ","}',
    )
    assert problems(config_copy) == [
        f"{INITECH}:{line}: csv.columns.line.unit_price.decimal: ',' is the layout's thousands "
        "separator too"
    ]


def test_column_numbers_without_header(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / INITECH, "  header: true", "  header: false")
    text = (config_copy / INITECH).read_text()
    (config_copy / INITECH).write_text(
        text.replace("order.po_number: PO Number", "order.po_number: 1").replace(
            "order.po_date: Order Date", "order.po_date: 2"
        )
    )
    lines = (config_copy / INITECH).read_text().splitlines()
    first = next(i for i, t in enumerate(lines, 1) if "order.dates[002]" in t)
    alias = next(i for i, t in enumerate(lines, 1) if "line.description:" in t)
    found = problems(config_copy)
    assert found[0] == (
        f"{INITECH}:{first}: csv.columns.order.dates[002]: with 'header: false' a column is a "
        "number (1 = first), not 'Deliver By'"
    )
    assert (
        f"{INITECH}:{alias}: csv.columns.line.description: with 'header: false' a column is a "
        "number (1 = first), not 'Description'"
    ) in found
    assert len(found) == 11  # every named column, each at its own line


def test_po_number_must_have_a_column(config_copy: Path, edit: Edit) -> None:
    edit(
        config_copy / INITECH,
        "    order.po_number: PO Number     # also what groups rows into orders\n",
        "",
    )
    line = edit(config_copy / INITECH, "  columns:", "  columns:")
    assert problems(config_copy) == [
        f"{INITECH}:{line}: csv.columns: order.po_number needs a column (every order has one)"
    ]


def test_bad_xpath_is_reported_at_its_line(config_copy: Path, edit: Edit) -> None:
    line = edit(
        config_copy / CONTOSO,
        "\"OrderRequestHeader/Extrinsic[@name='CostCenter']\"",
        "\"OrderRequestHeader/Extrinsic[@name='CostCenter'\"",
    )
    (problem,) = problems(config_copy)
    assert problem.startswith(
        f"{CONTOSO}:{line}: xml.fields.order.references[DP]: invalid XPath "
        "\"OrderRequestHeader/Extrinsic[@name='CostCenter'\": "
    )


def test_undeclared_prefix_is_reported_at_its_line(config_copy: Path, edit: Edit) -> None:
    line = edit(
        config_copy / CONTOSO,
        "\"OrderRequestHeader/Extrinsic[@name='CostCenter']\"",
        '"x:OrderRequestHeader/x:Extrinsic"',
    )
    assert problems(config_copy) == [
        f"{CONTOSO}:{line}: xml.fields.order.references[DP]: XPath "
        "'x:OrderRequestHeader/x:Extrinsic': undefined namespace prefix (declared: none); "
        "add it under xml.namespaces"
    ]
    edit(config_copy / CONTOSO, "  layout: cxml", '  layout: cxml\n  namespaces: {x: "urn:x"}')
    assert problems(config_copy) == []


def test_layout_must_fit_the_format(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / CONTOSO, "  layout: cxml", "  layout: ubl")
    assert problems(config_copy) == [
        f"{CONTOSO}:{line}: xml.layout: format cxml takes layout cxml, not ubl"
    ]


def test_xml_without_builtin_needs_order_and_line(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / CONTOSO, "format: cxml", "format: xml")
    line = edit(config_copy / CONTOSO, "  layout: cxml", "  order: /Orders/Order")
    assert problems(config_copy) == [
        f"{CONTOSO}:{line - 1}: xml: an XML layout needs 'line' (an XPath) or 'layout: cxml|ubl'",
        f"{CONTOSO}:{line + 1}: xml.fields: order.po_number needs an XPath (every order has one)",
        f"{CONTOSO}:{line + 1}: xml.fields: order.po_date needs an XPath (every order has one)",
    ]


def test_unknown_builtin_template(config_copy: Path, edit: Edit) -> None:
    line = edit(
        config_copy / CONTOSO, "order_ack: cxml/ConfirmationRequest", "order_ack: cxml/Confirmation"
    )
    assert problems(config_copy) == [
        f"{CONTOSO}:{line}: templates.order_ack: unknown built-in template 'cxml/Confirmation' "
        "(did you mean 'cxml/ConfirmationRequest'?); a file must end in .j2"
    ]


def test_template_for_the_wrong_document(config_copy: Path, edit: Edit) -> None:
    line = edit(
        config_copy / CONTOSO,
        "order_ack: cxml/ConfirmationRequest",
        '"855": cxml/ShipNoticeRequest',
    )
    assert problems(config_copy) == [
        f"{CONTOSO}:{line}: templates.855: cxml/ShipNoticeRequest writes a shipment, not a "
        "order_ack"
    ]


def test_values_a_template_reads_without_a_default_must_be_given(
    config_copy: Path, edit: Edit
) -> None:
    """The cXML header reads values.our_identity: without it every ConfirmationRequest
    failed at render time while partners check said ok."""
    edit(config_copy / CONTOSO, "    our_identity: AN01000000123    # us (From, Sender)\n", "")
    text = (config_copy / CONTOSO).read_text().splitlines()
    ack = next(i for i, t in enumerate(text, 1) if "order_ack: cxml/" in t)
    ship = next(i for i, t in enumerate(text, 1) if "shipment: cxml/" in t)
    assert problems(config_copy) == [
        f"{CONTOSO}:{ack}: templates.order_ack: cxml/ConfirmationRequest needs templates.values "
        "our_identity (every document would fail)",
        f"{CONTOSO}:{ship}: templates.shipment: cxml/ShipNoticeRequest needs templates.values "
        "our_identity (every document would fail)",
    ]


def test_a_value_read_with_a_default_or_tested_is_optional(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / INITECH, "invoice: csv/invoice", "invoice: out/invoice.csv.j2")
    (config_copy / "maps/out").mkdir()
    (config_copy / "maps/out/invoice.csv.j2").write_text(
        "{{ values.region }},{{ values.get('desk', '-') }},{{ values['team'] }}\n"
        "{% if values.note is defined %}{{ values.note }}{% endif %}\n"
        "{{ values.floor | default('1') }}{% if 'dock' in values %}{{ values.dock }}{% endif %}\n"
        "{% for k, v in values.items() %}{{ k }}{% endfor %}\n"
    )
    assert problems(config_copy) == [
        f"{INITECH}:{line}: templates.invoice: out/invoice.csv.j2 needs templates.values "
        "region, team (every document would fail)"
    ]


def test_template_file_missing_escaping_or_broken(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / INITECH, "invoice: csv/invoice", "invoice: out/invoice.csv.j2")
    assert problems(config_copy) == [
        f"{INITECH}:{line}: templates.invoice: maps/out/invoice.csv.j2: template file not found"
    ]
    (config_copy / "maps/out").mkdir()
    (config_copy / "maps/out/invoice.csv.j2").write_text("Invoice\n{{ doc.invoice_number\n")
    assert problems(config_copy) == [
        f"{INITECH}:{line}: templates.invoice: maps/out/invoice.csv.j2:2: unexpected end of "
        "template, expected 'end of print statement'."
    ]
    (config_copy / "maps/out/invoice.csv.j2").write_text("{{ doc.invoice_number | nofilter }}\n")
    (problem,) = problems(config_copy)
    assert "invoice.csv.j2:1: No filter named 'nofilter'" in problem
    edit(config_copy / INITECH, "invoice: out/invoice.csv.j2", "invoice: ../secrets.j2")
    assert problems(config_copy) == [
        f"{INITECH}:{line}: templates.invoice: '../secrets.j2': a template file must be a "
        "relative path beside the map"
    ]


def test_automatic_855_needs_a_template(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / CONTOSO, "  order_ack: cxml/ConfirmationRequest\n", "")
    line = edit(config_copy / "partners/contoso-cxml.yaml", '"855": auto', '"855": auto')
    assert problems(config_copy) == [
        f"partners/contoso-cxml.yaml:{line}: ack.855: an automatic 855 to a cxml partner is "
        "written by a template: map contoso-cxml.yaml needs templates.order_ack"
    ]


@pytest.mark.parametrize("name", ["cxml", "ubl"])
def test_builtin_layout_fields_are_readable(name: str) -> None:
    layout = builtin(name).layout
    assert layout.fields
    for path in layout.fields:
        assert kind_of(path) in ("text", "texts", "decimal", "int", "date", "time", "bool")


def test_path_alias() -> None:
    assert kind_of(PATH_ALIASES["line.description"]) == "text"
    assert kind_of("party[ship_to].address.lines") == "texts"
    assert kind_of("line.quantity") == "decimal"
    assert kind_of("order.dates[002]") == "date"
    with pytest.raises(ValueError, match="unknown field 'xyz'"):
        kind_of("order.xyz")
