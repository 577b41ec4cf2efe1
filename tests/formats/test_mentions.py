"""A template that never mentions a document's charges or taxes: the document is warned."""

from __future__ import annotations

from pathlib import Path

from edigate.formats.mentions import unmentioned, unmentioned_for
from edigate.model import Invoice
from edigate.partners import load_registry

from .goldens import ROOT

LINES_AND_TOTAL = (
    "{# the totals repeated on each row: a comment is no mention #}"
    "{% for line in doc.lines %}{{ line.quantity }},{{ line.unit_price }},"
    "{{ doc.total_amount }}\n{% endfor %}"
)


def invoice(**extra: object) -> Invoice:
    data: dict[str, object] = {
        "invoice_number": "INI-INV-1",
        "invoice_date": "2026-03-10",
        "lines": [{"quantity": "24", "unit": "EA", "unit_price": "4.50"}],
    }
    return Invoice.model_validate(data | extra)


def test_a_template_without_charges_or_taxes_is_named_for_each(tmp_path: Path) -> None:
    (tmp_path / "inv.csv.j2").write_text(LINES_AND_TOTAL)
    charged = invoice(
        allowances_charges=[{"indicator": "C", "code": "D240", "amount": "12.00"}],
        taxes=[{"type_code": "ST", "amount": "9.10"}],
    )
    assert unmentioned(charged, "inv.csv.j2", tmp_path) == [
        "the invoice has 1 allowance(s)/charge(s) (D240 12.00) but template inv.csv.j2 never "
        "mentions allowances_charges (or totals): the partner does not see them",
        "the invoice has 1 tax(es) (ST 9.10) but template inv.csv.j2 never mentions taxes "
        "(or totals): the partner does not see them",
    ]
    assert unmentioned(invoice(), "inv.csv.j2", tmp_path) == []  # nothing to leave out


def test_a_mention_in_an_included_template_counts(tmp_path: Path) -> None:
    (tmp_path / "_tax.j2").write_text("{% for t in doc.taxes %}{{ t.amount }}{% endfor %}")
    (tmp_path / "inv.csv.j2").write_text(LINES_AND_TOTAL + "{% include '_tax.j2' %}")
    taxed = invoice(taxes=[{"type_code": "ST", "amount": "9.10"}])
    assert unmentioned(taxed, "inv.csv.j2", tmp_path) == []


def test_the_builtin_csv_invoice_says_its_charges_and_taxes() -> None:
    partner = load_registry(ROOT).get("initech-csv")
    assert partner is not None
    charged = invoice(
        allowances_charges=[{"indicator": "C", "code": "D240", "amount": "12.00"}],
        taxes=[{"type_code": "ST", "amount": "9.10"}],
    )
    assert unmentioned_for(charged, partner) == []


def test_an_edited_template_or_include_is_read_again(tmp_path: Path) -> None:
    """The names a template uses are kept between documents (a parse per invoice is work
    done again), but never past an edit of the template or of a file it includes."""
    import os

    (tmp_path / "inv.csv.j2").write_text('{% include "rows.j2" %}')
    (tmp_path / "rows.j2").write_text(LINES_AND_TOTAL)
    taxed = invoice(taxes=[{"type_code": "ST", "amount": "9.10"}])
    assert len(unmentioned(taxed, "inv.csv.j2", tmp_path)) == 1
    assert len(unmentioned(taxed, "inv.csv.j2", tmp_path)) == 1  # kept: the same answer
    rows = tmp_path / "rows.j2"
    rows.write_text(LINES_AND_TOTAL + "{{ doc.taxes }}")
    stat = rows.stat()
    os.utime(rows, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later change
    assert unmentioned(taxed, "inv.csv.j2", tmp_path) == []
