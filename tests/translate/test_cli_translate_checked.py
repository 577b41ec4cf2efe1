"""``edigate translate`` reads back what it wrote through our own validator: X12 that the
validator rejects is reported (where, what was expected) and not written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edigate.cli.translate import translate

from .goldens import SAMPLES, TIMESTAMP

CANONICAL = SAMPLES / "canonical"


def _overlong_shipment(data: dict[str, Any]) -> None:
    data["shipment_id"] = "S" * 31


def _overlong_party_name(data: dict[str, Any]) -> None:
    data["parties"][0]["name"] = "N" * 61


def _overlong_invoice_number(data: dict[str, Any]) -> None:
    data["invoice_number"] = "I" * 23


CASES = [
    ("shipment-cartons.json", "856", _overlong_shipment, "BSN02", "longer than 30"),
    ("order-ack-changes.json", "855", _overlong_party_name, "N102", "longer than 60"),
    ("invoice.json", "810", _overlong_invoice_number, "BIG02", "longer than 22"),
]


@pytest.mark.parametrize(
    ("sample", "target", "spoil", "element", "expected"), CASES, ids=[c[1] for c in CASES]
)
def test_x12_our_validator_rejects_is_reported_and_not_written(
    tmp_path: Path, sample: str, target: str, spoil: Any, element: str, expected: str
) -> None:
    data = json.loads((CANONICAL / sample).read_text())
    spoil(data)
    path = tmp_path / sample
    path.write_text(json.dumps(data))
    out = tmp_path / f"out.{target}"
    args = [str(path), "--to", target, "--timestamp", TIMESTAMP.isoformat()]
    for extra in ([], ["--out", str(out)]):
        result = CliRunner().invoke(translate, args + extra)
        assert result.exit_code == 1, result.stderr
        assert result.stdout == ""
        assert not out.exists()
        assert f"{path}: 1 error(s), 0 warning(s)" in result.stderr
        (finding,) = [line for line in result.stderr.splitlines() if element in line]
        assert finding.startswith(f"  error: the {target} written, transaction 0001 segment ")
        assert f" {element}: [AK4-5] " in finding and expected in finding
        assert f"nothing written: our validator rejects the {target}" in result.stderr


def test_valid_output_is_still_written_with_an_empty_stderr(tmp_path: Path) -> None:
    out = tmp_path / "out.856"
    args = [str(CANONICAL / "shipment-pallets.json"), "--to", "856", "--out", str(out)]
    result = CliRunner().invoke(translate, args)
    assert result.exit_code == 0 and result.stderr == ""
    assert out.read_bytes().startswith(b"ISA*")


def test_an_inconsistent_order_ack_is_refused_by_the_model(tmp_path: Path) -> None:
    data = json.loads((CANONICAL / "order-ack-changes.json").read_text())
    data["lines"][0]["statuses"][1]["quantity"] = "9"  # 4 IA + 9 IB against 10 ordered
    path = tmp_path / "ack.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(translate, [str(path), "--to", "855"])
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        "error: document 1 lines.0: line 1: the ACK quantities (4 IA + 9 IB = 13 CA) do not "
        "add up to the ordered 10 CA"
    ) in result.stderr


def test_an_order_from_json_is_checked_like_any_855_we_write(tmp_path: Path) -> None:
    """The automatic 855 echoes an X12 partner's values as sent; an Order given as JSON is
    not that partner's X12, so its 855 gets the character-set check: a name is written in
    its ASCII form and an identifier outside the set is refused."""
    (order,) = json.loads((SAMPLES / "expected/850-004010-retailer.order.json").read_text())
    order["parties"][0]["name"] = "MÜLLER DC"
    named = tmp_path / "named.json"
    named.write_text(json.dumps(order))
    args = ["--to", "855", "--timestamp", TIMESTAMP.isoformat()]
    result = CliRunner().invoke(translate, [str(named), *args])
    assert result.exit_code == 0, result.stderr
    assert "*MULLER DC*" in result.stdout and "MÜLLER" not in result.stdout
    order["po_number"] = "45000Ä12345"
    coded = tmp_path / "coded.json"
    coded.write_text(json.dumps(order))
    result = CliRunner().invoke(translate, [str(coded), *args])
    assert result.exit_code == 1 and result.stdout == ""
    assert "BAK03 value '45000Ä12345' has 'Ä' (U+00C4)" in result.stderr
