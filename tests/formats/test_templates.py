"""Outbound documents in the partner's format: cXML and CSV templates, errors at file:line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from edigate.formats import TemplateError, csv_cell, load_template, render_document
from edigate.formats.safexml import safe_parser
from edigate.formats.templates import (
    BUILTIN_DIR,
    CsvDialect,
    decimal,
    isodatetime,
    render_outbound,
)
from edigate.model import Invoice, OrderAck, Reference, Shipment
from edigate.partners import load_registry
from edigate.partners.layouts import BUILTIN_TEMPLATES
from edigate.partners.registry import Partner, check_config

from . import goldens
from .goldens import NOW, ROOT, SAMPLES


def _partner(partner_id: str, root: Path = ROOT) -> Partner:
    partner = load_registry(root).get(partner_id)
    assert partner is not None
    return partner


def _xml(body: bytes) -> etree._Element:
    return etree.fromstring(body, safe_parser())


def test_builtin_templates_are_all_there() -> None:
    files = {str(p.relative_to(BUILTIN_DIR)) for p in BUILTIN_DIR.rglob("*.j2")}
    named = {f"{name}{suffix}.j2" for name, (_, suffix) in BUILTIN_TEMPLATES.items()}
    assert named <= files
    assert files - named == {"cxml/_header.xml.j2"}  # included by the others
    for name in BUILTIN_TEMPLATES:
        load_template(name, None)


def test_cxml_confirmation_of_the_contoso_order() -> None:
    ack = goldens.document("xml/contoso-orderrequest.xml", "contoso-cxml")
    body, suffix = render_outbound(ack, _partner("contoso-cxml"), now=NOW)
    assert suffix == ".xml"
    root = _xml(body)
    assert root.get("timestamp") == "2026-11-21T10:00:00+00:00"
    assert root.findtext("Header/From/Credential/Identity") == "AN01000000123"
    assert root.findtext("Header/To/Credential/Identity") == "AN02000000456"
    request = root.find("Request/ConfirmationRequest")
    assert request is not None
    assert request.find("ConfirmationHeader").get("type") == "accept"  # type: ignore[union-attr]
    reference = request.find("OrderReference")
    assert reference is not None and reference.get("orderID") == "CT-2026-0417"
    assert reference.find("DocumentReference").get("payloadID") == (  # type: ignore[union-attr]
        "1772467200.4417.20260302@network.contoso.example"
    )
    items = [
        (i.get("lineNumber"), Decimal(i.get("quantity")), i.findtext("UnitOfMeasure"))
        for i in request.iterfind("ConfirmationItem")
    ]
    assert items == [("1", Decimal(60), "EA"), ("2", Decimal(12), "EA"), ("3", Decimal(30), "EA")]
    statuses = [s.get("type") for s in request.iterfind("ConfirmationItem/ConfirmationStatus")]
    assert statuses == ["accept"] * 3


def test_cxml_confirmation_with_changes() -> None:
    ack = goldens.document("canonical/order-ack-changes.json", "contoso-cxml")
    assert isinstance(ack, OrderAck)
    root = _xml(
        render_outbound(ack, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(ack))[0]
    )
    request = root.find("Request/ConfirmationRequest")
    assert request is not None
    assert request.find("ConfirmationHeader").get("type") == "detail"  # type: ignore[union-attr]
    first, _, third = request.iterfind("ConfirmationItem")
    assert [(s.get("type"), s.get("quantity"), s.get("shipmentDate")) for s in first][1:] == [
        ("accept", "4", "2026-11-26T00:00:00-06:00"),  # datetime.tz, in Contoso's zone
        ("backordered", "6", "2026-12-10T00:00:00-06:00"),
    ]
    price = third.findtext("ConfirmationStatus/ItemIn/ItemDetail/UnitPrice/Money")
    assert price == "3.40"


def test_cxml_ship_notice() -> None:
    shipment = goldens.document("canonical/shipment-cartons.json", "contoso-cxml")
    assert isinstance(shipment, Shipment)
    root = _xml(
        render_outbound(
            shipment, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(shipment)
        )[0]
    )
    notice = root.find("Request/ShipNoticeRequest")
    assert notice is not None
    assert notice.find("ShipNoticeHeader").get("shipmentID") == "ASN-26-004420"  # type: ignore[union-attr]
    assert notice.findtext("ShipControl/CarrierIdentifier") == "UPSN"
    assert notice.findtext("ShipControl/ShipmentIdentifier") == "1Z999AA10123456784"
    items = [
        (i.get("lineNumber"), i.get("quantity"), i.findtext("ItemID/SupplierPartID"))
        for i in notice.iterfind("ShipNoticePortion/ShipNoticeItem")
    ]
    expected = [
        (item.line_number, str(item.quantity), item.vendor_part_number)
        for pack in shipment.orders[0].all_packs()
        for item in pack.items
    ]
    assert items == expected and len(items) == 3


def test_ship_notices_list_items_without_cartons_too() -> None:
    """S/O/I (BSN05 0004): every item is rendered, under its order, with no carton."""
    shipment = goldens.document("canonical/shipment-items.json", "contoso-cxml")
    assert isinstance(shipment, Shipment)
    root = _xml(
        render_outbound(
            shipment, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(shipment)
        )[0]
    )
    portions = root.findall("Request/ShipNoticeRequest/ShipNoticePortion")
    found = [
        (
            p.find("OrderReference").get("orderID"),  # type: ignore[union-attr]
            i.get("lineNumber"),
            i.get("quantity"),
            i.find("Packaging"),
        )
        for p in portions
        for i in p.iterfind("ShipNoticeItem")
    ]
    assert found == [
        ("4500012390", "1", "2", None),
        ("4500012390", "2", "6", None),
        ("4500012391", "1", "1", None),
    ]
    csv_body = render_outbound(shipment, _partner("initech-csv"), now=NOW)[0].decode()
    rows = list(csv.DictReader(io.StringIO(csv_body)))
    assert [(r["PO Number"], r["Line"], r["Qty Shipped"], r["Carton"]) for r in rows] == [
        ("4500012390", "1", "2", ""),
        ("4500012390", "2", "6", ""),
        ("4500012391", "1", "1", ""),
    ]
    assert {r["Tracking"] for r in rows} == {"1Z999AA10123456802"}  # the shipment's


def test_cxml_ship_notice_operation_follows_its_purpose() -> None:
    """A replacement sent as operation="new" is a second ship notice to the buyer."""
    shipment = goldens.document("canonical/shipment-cartons.json", "contoso-cxml")
    found = {}
    for code in ("00", "05", "04", "01", "07"):
        data = shipment.model_dump(exclude={"purpose"}) | {"purpose_code": code}
        changed = Shipment.model_validate(data)
        body = render_outbound(
            changed, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(changed)
        )[0]
        header = _xml(body).find("Request/ShipNoticeRequest/ShipNoticeHeader")
        assert header is not None
        found[code] = header.get("operation")
    assert found == {"00": "new", "05": "update", "04": "update", "01": "delete", "07": "new"}


def test_cxml_confirmation_operation_follows_its_purpose() -> None:
    ack = goldens.document("canonical/order-ack-changes.json", "contoso-cxml")
    partner = _partner("contoso-cxml")

    def with_purpose(code: str) -> OrderAck:
        return OrderAck.model_validate(ack.model_dump(exclude={"purpose"}) | {"purpose_code": code})

    replacement = with_purpose("05")
    body = render_outbound(replacement, partner, now=NOW, orders=goldens.answered(replacement))[0]
    header = _xml(body).find("Request/ConfirmationRequest/ConfirmationHeader")
    assert header is not None and header.get("operation") == "update"
    # ConfirmationHeader has new and update only: a cancellation is refused, not sent as new.
    cancellation = with_purpose("01")
    with pytest.raises(
        TemplateError, match=r'purpose 01 \(cancellation\) would be operation "delete"'
    ):
        render_outbound(cancellation, partner, now=NOW, orders=goldens.answered(cancellation))


def test_xml_values_are_escaped() -> None:
    ack = goldens.document("canonical/order-ack-changes.json", "contoso-cxml")
    assert isinstance(ack, OrderAck)
    hostile = ack.model_copy(update={"po_number": 'PO<1>&"2"', "seller_order_number": "]]>"})
    body = render_outbound(
        hostile, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(hostile)
    )[0]
    assert b'orderID="PO&lt;1&gt;&amp;&#34;2&#34;"' in body
    assert _xml(body).find("Request/ConfirmationRequest/OrderReference").get("orderID") == (  # type: ignore[union-attr]
        'PO<1>&"2"'
    )


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", '"\'\rcmd"'),
        ("-5", "-5"),
        ("-12.50", "-12.50"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"'),
        (None, ""),
        (Decimal("3.10"), "3.10"),
        ("plain", "plain"),
    ],
)
def test_csv_cell_quotes_and_neutralises(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_csv_ack_neutralises_formulas_and_parses_back() -> None:
    ack = goldens.document("csv/initech-orders.csv", "initech-csv")
    assert isinstance(ack, OrderAck)
    line = ack.lines[0]
    bad = line.model_copy(
        update={
            "descriptions": [line.descriptions[0].model_copy(update={"text": "=cmd|' /C calc'!A0"})]
        }
    )
    ack = ack.model_copy(update={"lines": [bad, *ack.lines[1:]]})
    body, suffix = render_outbound(ack, _partner("initech-csv"), now=NOW)
    assert suffix == ".csv"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["Item"] for r in rows] == ["INI-1001", "INI-1002", "INI-1001"]
    assert [r["Status"] for r in rows] == ["IA", "IA", "IA"]
    assert rows[0]["Description"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["Description"] == 'Widget, blue "rush" re-order'
    assert [r["Qty Ordered"] for r in rows] == ["24", "10", "12"]


def test_csv_invoice_and_shipment() -> None:
    partner = _partner("initech-csv")
    invoice = goldens.document("canonical/invoice.json", "initech-csv")
    assert isinstance(invoice, Invoice)
    rows = list(csv.DictReader(io.StringIO(render_outbound(invoice, partner, now=NOW)[0].decode())))
    assert len(rows) == len(invoice.lines)
    assert {r["Invoice Total"] for r in rows} == {str(invoice.total_amount)}
    assert [Decimal(r["Amount"]) for r in rows] == [ln.extended_amount for ln in invoice.lines]
    shipment = goldens.document("canonical/shipment-cartons.json", "initech-csv")
    body = render_outbound(shipment, partner, now=NOW)[0].decode()
    assert [r["Carton"] for r in csv.DictReader(io.StringIO(body))] == [
        "006141410000001057",
        "006141410000001064",
        "006141410000001064",
    ]


def test_csv_invoice_carries_the_charges_allowances_and_tax_its_total_holds() -> None:
    """Initech got line rows and an Invoice Total 21.10 more than their amounts, with the
    freight and the tax nowhere: now each row says them, and the columns add up."""
    invoice = Invoice.model_validate(
        {
            "invoice_number": "INI-INV-1",
            "invoice_date": "2026-03-10",
            "lines": [
                {"line_number": "1", "quantity": "24", "unit": "EA", "unit_price": "4.50"},
                {
                    "line_number": "2",
                    "quantity": "10",
                    "unit": "EA",
                    "unit_price": "1.255",
                    "allowances_charges": [{"indicator": "A", "code": "C310", "amount": "0.55"}],
                },
            ],
            "allowances_charges": [{"indicator": "C", "code": "D240", "amount": "12.00"}],
            "taxes": [{"type_code": "ST", "amount": "9.10"}],
        }
    )
    body, _ = render_document(invoice, "csv/invoice", now=NOW)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["Charges"], r["Allowances"], r["Tax"], r["Invoice Total"]) for r in rows] == [
        ("12.00", "0.55", "9.10", "141.10")
    ] * 2
    first = rows[0]
    amounts = sum(Decimal(r["Amount"]) for r in rows)
    made = (
        amounts + Decimal(first["Charges"]) - Decimal(first["Allowances"]) + Decimal(first["Tax"])
    )
    assert made == Decimal(first["Invoice Total"]) == invoice.total_amount


def test_csv_answers_are_written_in_the_partners_own_dialect() -> None:
    """A partner that writes '4,50', '24.11.2026' and no header row got '4.50', ISO dates
    and a header back, though its layout said how it writes (new-user walkthrough)."""
    invoice = goldens.document("canonical/invoice.json", "initech-csv")
    assert isinstance(invoice, Invoice)
    dialect = CsvDialect(decimal_mark=",", date_format="%d.%m.%Y", header=False)
    body, _ = render_document(invoice, "csv/invoice", delimiter=";", now=NOW, dialect=dialect)
    rows = list(csv.reader(io.StringIO(body.decode()), delimiter=";"))
    assert len(rows) == len(invoice.lines)  # no header row
    first = invoice.lines[0]
    assert rows[0][:2] == [invoice.invoice_number, invoice.invoice_date.strftime("%d.%m.%Y")]
    assert rows[0][10] == str(first.unit_price).replace(".", ",")  # Price: a Decimal cell
    assert rows[0][11] == f"{first.extended_amount:.2f}".replace(".", ",")  # decimal(2)
    ours, _ = render_document(invoice, "csv/invoice", now=NOW)  # no layout: as before
    assert ours.decode().splitlines()[0].startswith("Invoice,Invoice Date,PO Number")
    assert f",{invoice.invoice_date.isoformat()}," in ours.decode()


def test_tiny_and_huge_decimals_are_written_in_full() -> None:
    """Never 1E-61 or 1E+3: an ERP import or a spreadsheet reads those as something else."""
    assert csv_cell(Decimal("1E-8")) == "0.00000001"
    assert csv_cell(Decimal("1E+3")) == "1000"
    ack = goldens.document("csv/initech-orders.csv", "initech-csv")
    assert isinstance(ack, OrderAck)
    tiny = ack.lines[0].model_copy(update={"unit_price": Decimal("1E-12")})
    ack = ack.model_copy(update={"lines": [tiny, *ack.lines[1:]]})
    body = render_outbound(ack, _partner("initech-csv"), now=NOW)[0].decode()
    assert "0.000000000001" in body and "E-" not in body


def test_expressions_write_decimals_in_full(tmp_path: Path) -> None:
    root = _config_with_template(tmp_path, "{{ doc.lines[0].unit_price }}\n")
    ack = goldens.document("canonical/order-ack-changes.json", "initech-csv")
    assert isinstance(ack, OrderAck)
    line = ack.lines[0].model_copy(update={"unit_price": Decimal("5E-7")})
    ack = ack.model_copy(update={"lines": [line, *ack.lines[1:]]})
    body = render_outbound(ack, _partner("initech-csv", root), now=NOW)[0]
    assert body == "0.0000005\n".encode("utf-8-sig")  # initech's orders are utf-8-sig


def test_answers_are_in_the_encoding_the_partners_orders_arrive_in(tmp_path: Path) -> None:
    """Initech sends Excel's utf-8-sig: its answers open in Excel as written (UTF-8 without
    the mark shows 'CafÃ©'); a map's own templates encoding still wins."""
    ack = goldens.document("canonical/order-ack-changes.json", "initech-csv")
    assert isinstance(ack, OrderAck)
    body = render_outbound(ack, _partner("initech-csv"), now=NOW)[0]
    assert body.startswith(b"\xef\xbb\xbf") and not body[3:].startswith(b"\xef\xbb\xbf")
    root = _config_with_template(tmp_path, "{{ doc.po_number }}\n")
    path = root / "maps/initech-csv.yaml"
    text = path.read_text()
    ours = "  order_ack: templates/ack.csv.j2"
    assert ours in text
    path.write_text(text.replace(ours, "  encoding: utf-8\n" + ours))
    body = render_outbound(ack, _partner("initech-csv", root), now=NOW)[0]
    assert not body.startswith(b"\xef\xbb\xbf")


def test_decimal_filter() -> None:
    assert decimal(Decimal("2.345")) == "2.35"
    assert decimal("7", 3, ",") == "7,000"
    assert decimal(None) == ""


def _config_with_template(tmp_path: Path, template: str, ref: str = "templates/ack.csv.j2") -> Path:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "maps/templates").mkdir()
    (tmp_path / "maps/templates/ack.csv.j2").write_text(template)
    mapfile = tmp_path / "maps/initech-csv.yaml"
    text = mapfile.read_text().replace("order_ack: csv/order_ack", f"order_ack: {ref}")
    mapfile.write_text(text)
    return tmp_path


def test_template_runtime_error_names_file_and_line(tmp_path: Path) -> None:
    root = _config_with_template(tmp_path, "PO\n{{ doc.po_number }}\n{{ doc.po_numbr }}\n")
    ack = goldens.document("canonical/order-ack-changes.json", "initech-csv")
    assert isinstance(ack, OrderAck)
    with pytest.raises(TemplateError) as info:
        render_outbound(ack, _partner("initech-csv", root), now=NOW)
    assert info.value.template == str(root / "maps/templates/ack.csv.j2")
    assert info.value.line == 3
    assert str(info.value).endswith(
        "ack.csv.j2:3: 'edigate.model.order_ack.OrderAck object' has no attribute 'po_numbr'"
    )


def test_sandbox_refuses_unsafe_attributes(tmp_path: Path) -> None:
    root = _config_with_template(tmp_path, "{{ doc.__class__.__mro__ }}\n")
    ack = goldens.document("canonical/order-ack-changes.json", "initech-csv")
    assert isinstance(ack, OrderAck)
    with pytest.raises(TemplateError) as info:
        render_outbound(ack, _partner("initech-csv", root), now=NOW)
    assert info.value.line == 1 and "unsafe" in str(info.value)


def test_rendered_xml_must_be_well_formed(tmp_path: Path) -> None:
    template = tmp_path / "bad.xml.j2"
    template.write_text("<a>{{ doc.po_number }}</b>\n")
    ack = goldens.document("canonical/order-ack-changes.json", "initech-csv")
    assert isinstance(ack, OrderAck)
    with pytest.raises(TemplateError) as info:
        render_document(ack, "bad.xml.j2", map_dir=tmp_path, now=NOW)
    assert str(info.value).startswith(
        f"{template}: rendered XML is not well-formed (output line 1)"
    )


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv.j2").write_text("a\n{% for x in doc.lines %}\n{{ x }\n")
    with pytest.raises(TemplateError) as info:
        load_template("t.csv.j2", tmp_path)
    assert (info.value.template, info.value.line) == (str(tmp_path / "t.csv.j2"), 3)


def test_partner_without_a_template_for_the_document() -> None:
    shipment = goldens.document("canonical/invoice.json", "contoso-cxml")
    with pytest.raises(TemplateError, match="partner contoso-cxml has no template for invoice"):
        render_outbound(
            shipment, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(shipment)
        )


# --- goldens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "partner"), goldens.READS, ids=[s for s, _ in goldens.READS])
def test_reader_goldens(sample: str, partner: str) -> None:
    expected = SAMPLES / "expected" / f"{Path(sample).stem}.order.json"
    goldens.check(expected, goldens.read_json(sample, partner).encode())


@pytest.mark.parametrize("case", goldens.RENDERS, ids=lambda c: c.id)
def test_template_goldens(case: goldens.Render) -> None:
    goldens.check(SAMPLES / "expected" / case.expected, goldens.render(case))


def test_the_erps_own_payload_reference_wins_over_the_stored_orders() -> None:
    """``order_reference``: the document's reference first, the answered order's only when
    the document has none (an ERP that echoes the payloadID is never overridden)."""
    ack = goldens.document("canonical/order-ack-changes.json", "contoso-cxml")
    assert isinstance(ack, OrderAck)
    own = ack.model_copy(update={"references": [Reference(qualifier="ZZ", value="own@erp")]})
    root = _xml(
        render_outbound(own, _partner("contoso-cxml"), now=NOW, orders=goldens.answered(own))[0]
    )
    found = root.find("Request/ConfirmationRequest/OrderReference/DocumentReference")
    assert found is not None and found.get("payloadID") == "own@erp"


@pytest.mark.parametrize(
    ("value", "zone", "written"),
    [
        (dt.date(2026, 3, 2), "America/Chicago", "2026-03-02T00:00:00-06:00"),
        (dt.date(2026, 7, 2), "America/Chicago", "2026-07-02T00:00:00-05:00"),  # CDT
        (dt.date(2026, 7, 2), "UTC", "2026-07-02T00:00:00+00:00"),
        (dt.datetime(2026, 7, 2, 9, 30), "Europe/Berlin", "2026-07-02T09:30:00+02:00"),
        (
            dt.datetime(2026, 7, 2, 9, 30, tzinfo=dt.UTC),
            "Europe/Berlin",
            "2026-07-02T09:30:00+00:00",
        ),
        (None, "UTC", ""),
    ],
)
def test_isodatetime_gives_cxml_a_time_and_offset(
    value: dt.date | None, zone: str, written: str
) -> None:
    """cXML dates are datetime.tz: a date alone is that day's start in the partner's zone
    (its offset on that day), a datetime with a zone keeps it."""
    tz = dt.UTC if zone == "UTC" else zoneinfo.ZoneInfo(zone)
    assert isodatetime(value, tz) == written


def test_an_unknown_template_time_zone_is_a_map_error_at_its_line(tmp_path: Path) -> None:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    mapfile = tmp_path / "maps/contoso-cxml.yaml"
    lines = mapfile.read_text().splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.strip().startswith("timezone:")]
    lines[index] = "  timezone: America/Chicgo"
    mapfile.write_text("\n".join(lines) + "\n")
    problems = [str(p) for p in check_config(tmp_path).problems]
    assert problems == [
        f"{mapfile}:{index + 1}: templates.timezone: unknown time zone "
        "'America/Chicgo': an IANA name such as America/Chicago, or UTC"
    ]
