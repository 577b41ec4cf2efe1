"""``edigate map test``: the example partners' samples against their golden results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edigate.cli.maptest import map_group

from .helpers import ROOT

MAPPED = "samples/expected/mapped"
EXAMPLES = [
    ("acme-retail", "samples/x12/850-004010-retailer.edi"),
    ("globex-dist", "samples/x12/850-005010-globex.edi"),
    ("initech-csv", "samples/csv/initech-orders.csv"),
    ("contoso-cxml", "samples/xml/contoso-orderrequest.xml"),
]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where partners/ and maps/ are, as an onboarding engineer would."""
    monkeypatch.chdir(ROOT)


def run(*args: str) -> Result:
    return CliRunner().invoke(map_group, ["test", *args])


@pytest.mark.parametrize(("partner", "sample"), EXAMPLES, ids=[p for p, _ in EXAMPLES])
def test_examples_match_their_goldens(partner: str, sample: str) -> None:
    result = run(partner, sample, "--expect", MAPPED, "-q")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(
        f"; matches {MAPPED}/{Path(sample).stem}.order.json"
    )
    golden = json.loads((ROOT / MAPPED / f"{Path(sample).stem}.order.json").read_text())
    assert golden["partner"] == partner and golden["orders"]
    assert all(line.get("sku") for o in golden["orders"] for line in o["lines"][:1])


def test_prints_the_result_as_json() -> None:
    result = run("initech-csv", "samples/csv/initech-orders.csv")
    assert result.exit_code == 0, result.output
    text, summary = result.output.rsplit("}\n", 1)
    document = json.loads(text + "}")
    assert [o["po_number"] for o in document["orders"]] == ["IN-26-1001", "IN-26-1002"]
    assert [ln["sku"] for ln in document["orders"][0]["lines"]] == [
        "WID-100-BLU",
        "CLP-050-ST",
        "WID-100-BLU",
    ]
    assert document["orders"][0]["lines"][1]["unit"] == "EA"  # the map's default
    assert summary == "samples/csv/initech-orders.csv: 2 order(s), 0 issue(s)\n"


def test_broken_copy_shows_a_diff(tmp_path: Path) -> None:
    sample = tmp_path / "initech-orders.csv"
    text = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    sample.write_bytes(
        text.replace(
            b"INI-1002,Paper clips (box of 100),10,", b"INI-1002,Paper clips (box of 100),1O,"
        )
    )
    result = run("initech-csv", str(sample), "--expect", MAPPED, "-q")
    assert result.exit_code == 1
    out = result.output
    assert '  read: line 3, column "Qty": "1O" is not a number' in out
    assert f"--- {MAPPED}/initech-orders.order.json" in out
    assert f"+++ {sample} (actual)" in out
    assert '-      "po_number": "IN-26-1001",' in out  # the order is rejected whole
    assert '+    "read: line 3, column \\"Qty\\": \\"1O\\" is not a number"' in out
    assert "differs from" in out


def test_update_writes_and_then_matches(tmp_path: Path) -> None:
    expect = tmp_path / "expected"
    first = run(
        "contoso-cxml",
        "samples/xml/contoso-orderrequest.xml",
        "--expect",
        str(expect),
        "--update",
        "-q",
    )
    assert first.exit_code == 0 and "wrote" in first.output
    written = (expect / "contoso-orderrequest.order.json").read_text()
    assert written == (ROOT / MAPPED / "contoso-orderrequest.order.json").read_text()
    again = run(
        "contoso-cxml", "samples/xml/contoso-orderrequest.xml", "--expect", str(expect), "-q"
    )
    assert again.exit_code == 0 and "matches" in again.output


def test_missing_golden_fails(tmp_path: Path) -> None:
    result = run("initech-csv", "samples/csv/initech-orders.csv", "--expect", str(tmp_path), "-q")
    assert result.exit_code == 1
    assert "(create it with --update)" in result.output


def test_x12_from_another_partner_is_not_identified() -> None:
    result = run("globex-dist", "samples/x12/850-004010-retailer.edi", "-q")
    assert result.exit_code == 1
    assert (
        "  identify: ISA 000004211 (segment 1): ISA ZZ:ACMERETAIL (production) is "
        "acme-retail, not globex-dist"
    ) in result.output.splitlines()


def test_x12_overlay_violation_is_a_validation_issue(tmp_path: Path) -> None:
    sample = tmp_path / "no-dept.edi"
    sample.write_bytes(
        (ROOT / "samples/x12/850-004010-retailer.edi")
        .read_bytes()
        .replace(b"REF*DP*042~", b"REF*IT*042~")
    )
    result = run("acme-retail", str(sample), "-q")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("  validate: ST 0001: ") and "REF" in line for line in lines)
    assert "  validate: ST 0001: rejected" in lines
    assert lines[-1] == f"{sample}: 0 order(s), {len(lines) - 1} issue(s)"


def test_map_issues_carry_the_rule_position() -> None:
    result = run("globex-dist", "samples/x12/850-005010-globex.edi", "-q")
    assert result.exit_code == 0
    assert (
        "  map: PO GX-PO-2026-0118: order line 3: unknown_item: unknown item (BP GX-59999): "
        "not in maps/globex-dist.yaml (warning)"
    ) in result.output.splitlines()


def test_usage_errors() -> None:
    assert run("initech-csv", "samples/csv/initech-orders.csv", "--update").exit_code == 2
    unknown = run("nobody", "samples/csv/initech-orders.csv")
    assert unknown.exit_code == 2  # as receive --partner says it
    assert "no partner 'nobody' in the config (known: acme-retail, contoso-cxml" in unknown.output


@pytest.mark.parametrize("data", [b"", b" \n\n"], ids=["empty", "blank"])
def test_an_x12_sample_without_an_interchange_fails(tmp_path: Path, data: bytes) -> None:
    sample = tmp_path / "empty.edi"
    sample.write_bytes(data)
    result = run("acme-retail", str(sample))
    assert result.exit_code == 1, result.output
    assert "no interchange: expected an ISA interchange header" in result.output
    assert result.output.endswith(f"{sample}: 0 order(s), 1 issue(s)\n")
