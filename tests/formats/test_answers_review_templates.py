"""Answers to CSV and cXML partners: edge cases of the ERP's documents and of templates."""

from __future__ import annotations

import csv
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from edigate.formats import TemplateError, render_document
from edigate.formats.safexml import safe_parser
from edigate.formats.templates import decimal, plain, render_outbound
from edigate.model import Description, Invoice, Note, OrderAck
from edigate.partners import load_registry
from edigate.partners.registry import Partner

from . import goldens
from .goldens import NOW, ROOT


def _partner(partner_id: str, root: Path = ROOT) -> Partner:
    partner = load_registry(root).get(partner_id)
    assert partner is not None
    return partner


def _ack() -> OrderAck:
    ack = goldens.document("canonical/order-ack-changes.json", "contoso-cxml")
    assert isinstance(ack, OrderAck)
    return ack


def _config(tmp_path: Path, mapname: str, old: str, new: str) -> Path:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    mapfile = tmp_path / "maps" / mapname
    text = mapfile.read_text()
    assert old in text
    mapfile.write_text(text.replace(old, new))
    return tmp_path


def test_cxml_confirmation_item_always_has_a_status() -> None:
    """An ERP 'accept all' ack lists its lines without statuses: cXML's ConfirmationItem
    needs ConfirmationStatus+ (Fulfill.dtd), so each follows the header, with the line's
    quantity; a status with no quantity on a line without one never says "None"."""
    ack = _ack()
    plain_lines = [
        line.model_copy(update={"statuses": [], "unit_price": None}) for line in ack.lines
    ]
    accepted = OrderAck.model_validate(
        {**ack.model_dump(exclude={"ack_type", "ack_type_code"}), "ack_type": "accepted"}
        | {"lines": [line.model_dump() for line in plain_lines]}
    )
    root = etree.fromstring(
        render_outbound(
            accepted, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(accepted)
        )[0],
        safe_parser(),
    )
    items = root.findall("Request/ConfirmationRequest/ConfirmationItem")
    assert len(items) == 3
    statuses = [item.findall("ConfirmationStatus") for item in items]
    assert [[(s.get("type"), s.get("quantity")) for s in found] for found in statuses] == [
        [("accept", "10")],
        [("accept", "5")],
        [("accept", "24")],
    ]
    unknown = ack.lines[0].model_copy(
        update={
            "quantity": None,
            "statuses": [ack.lines[0].statuses[0].model_copy(update={"quantity": None})],
        }
    )
    ack = ack.model_copy(update={"lines": [unknown, *ack.lines[1:]]})
    body = render_outbound(ack, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(ack))[0]
    assert b'"None"' not in body


def test_negative_zero_is_written_as_zero() -> None:
    """An ERP's "-0.00" (or -0.004 rounded) is 0, as the X12 writer writes it: a partner's
    import may refuse a negative price."""
    assert plain(Decimal("-0.00")) == "0.00"
    assert decimal(Decimal("-0.004")) == "0.00"
    assert decimal("-0", 3, ",") == "0,000"
    assert decimal(Decimal("-0.005")) == "-0.01"
    invoice = goldens.document("canonical/invoice.json", "initech-csv")
    assert isinstance(invoice, Invoice)
    lines = [invoice.lines[0].model_copy(update={"unit_price": Decimal("-0.00")})]
    body = render_outbound(
        invoice.model_copy(update={"lines": [*lines, *invoice.lines[1:]]}),
        _partner("initech-csv"),
        now=NOW,
    )[0]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows[0]["Price"] == "0.00"


def test_control_character_in_xml_names_the_field() -> None:
    """A control character from the ERP cannot be written in XML at all; the error names
    the field that holds it, not a line of the rendered output."""
    ack = _ack().model_copy(update={"notes": [Note(text="call before\x0bdelivery")]})
    with pytest.raises(TemplateError) as info:
        render_outbound(ack, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(ack))
    assert info.value.detail == "order_ack.notes[0].text holds U+000B, which XML cannot carry"
    assert info.value.template.endswith("cxml/ConfirmationRequest.xml.j2")


def test_control_character_in_a_csv_answer_names_the_field(tmp_path: Path) -> None:
    """A bell or NUL from the ERP went into the partner's CSV cell (the X12 writer refuses
    them): refused, naming the field; one the template writes itself names the line."""
    line = _ack().lines[0]
    rung = Description(text="WIDGET\x07BLUE")
    ack = _ack().model_copy(update={"lines": [line.model_copy(update={"descriptions": [rung]})]})
    with pytest.raises(TemplateError) as info:
        render_outbound(ack, _partner("initech-csv"), now=NOW)
    assert info.value.detail == (
        "order_ack.lines[0].descriptions[0].text holds U+0007, a control character a partner file "
        "must not carry"
    )
    root = _config(tmp_path, "initech-csv.yaml", "order_ack: csv/order_ack", "order_ack: a.csv.j2")
    (root / "maps/a.csv.j2").write_text("PO\n{{ doc.po_number }}\x00\n")
    with pytest.raises(TemplateError) as info:
        render_outbound(_ack(), _partner("initech-csv", root), now=NOW)
    assert info.value.detail == (
        "output line 2 holds U+0000, a control character a partner file must not carry"
    )
    assert info.value.template == str(root / "maps/a.csv.j2")


def test_error_in_an_included_template_names_that_file(tmp_path: Path) -> None:
    """A typo in an included template was reported at the include line of the main one."""
    root = _config(tmp_path, "initech-csv.yaml", "order_ack: csv/order_ack", "order_ack: a.csv.j2")
    (root / "maps/a.csv.j2").write_text("PO\n{% include 'b.csv.j2' %}\nend\n")
    (root / "maps/b.csv.j2").write_text("x\ny\ny\n{{ doc.po_numbr }}\n")
    with pytest.raises(TemplateError) as info:
        render_outbound(_ack(), _partner("initech-csv", root), now=NOW)
    assert (info.value.template, info.value.line) == (str(root / "maps/b.csv.j2"), 4)
    assert "po_numbr" in info.value.detail


def test_csv_answer_uses_the_partners_quote_character(tmp_path: Path) -> None:
    """A partner whose layout quotes with ' splits a "..."-quoted cell at its commas."""
    root = _config(tmp_path, "initech-csv.yaml", 'delimiter: ","', 'delimiter: ","\n  quote: "\'"')
    invoice = goldens.document("canonical/invoice.json", "initech-csv")
    assert isinstance(invoice, Invoice)
    body = render_outbound(invoice, _partner("initech-csv", root), now=NOW)[0].decode()
    rows = list(csv.DictReader(io.StringIO(body), quotechar="'"))
    assert len(rows) == len(invoice.lines)
    assert rows[0]["Description"] == "HEX BOLT, GRADE 8, 1/2-13 X 2, BOX OF 50"
    assert rows[0]["Invoice Total"] == f"{invoice.total_amount:.2f}"


def test_render_document_quote_with_formula_prefix() -> None:
    """The formula guard's apostrophe is the quote character then: it is doubled, and the
    cell reads back as the neutralised text."""
    from edigate.formats.templates import CsvDialect

    ack = _ack()
    line = ack.lines[0].model_copy(update={"line_number": "=1+1"})
    ack = ack.model_copy(update={"lines": [line, *ack.lines[1:]]})
    body, _ = render_document(ack, "csv/order_ack", now=NOW, dialect=CsvDialect(quote="'"))
    rows = list(csv.DictReader(io.StringIO(body.decode()), quotechar="'"))
    assert rows[0]["Line"] == "'=1+1"


def test_none_is_written_as_nothing(tmp_path: Path) -> None:
    """An optional field the ERP left out is an empty value, never the text "None" that
    reaches the partner as data (csv cells already wrote nothing)."""
    (tmp_path / "ack.xml.j2").write_text(
        '<Ack po="{{ doc.po_number }}" so="{{ doc.seller_order_number }}"/>\n'
    )
    ack = _ack().model_copy(update={"seller_order_number": None})
    body, _ = render_document(ack, "ack.xml.j2", map_dir=tmp_path, now=NOW)
    assert body == b'<Ack po="4500012345" so=""/>\n'


def test_a_csv_ack_without_lines_still_says_which_po_and_its_ack_type() -> None:
    """An order the map rejected whole is answered with an 855 without lines: the CSV
    partner gets one row with its PO and Ack Type RJ, not a header alone."""
    ack = OrderAck.model_validate(
        {**_ack().model_dump(exclude={"ack_type", "ack_type_code", "lines"}), "ack_type_code": "RJ"}
    )
    body, _ = render_document(ack, "csv/order_ack", now=NOW)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["PO Number"], r["Ack Type"], r["Line"], r["Qty Ordered"]) for r in rows] == [
        (ack.po_number, "RJ", "", "")
    ]
