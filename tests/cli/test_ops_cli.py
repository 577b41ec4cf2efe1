"""``edigate receive``, ``docs list``, ``docs show`` and ``stats`` against a real store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edigate.cli.main import cli

SAMPLE = Path(__file__).resolve().parents[2] / "samples/x12/850-004010-retailer.edi"


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])
    return result.exit_code, result.output


def test_receive_then_find_and_show(tmp_path: Path) -> None:
    code, out = run(tmp_path, "receive", "--no-process", str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    assert "as document 1" in out

    code, out = run(tmp_path, "docs", "list", "--json", "--partner", "acme-retail")
    rows = json.loads(out)
    assert [(r["id"], r["status"], r["filename"]) for r in rows] == [(1, "received", SAMPLE.name)]
    code, out = run(tmp_path, "docs", "list", "--partner", "nobody", "--json")
    assert json.loads(out) == []

    code, out = run(tmp_path, "docs", "show", "1", "--json")
    detail = json.loads(out)
    assert detail["audit"][0]["event"] == "received"
    assert detail["size"] == SAMPLE.stat().st_size

    code, out = run(tmp_path, "docs", "show", "1", "--raw")
    assert out.encode() == SAMPLE.read_bytes()

    code, out = run(tmp_path, "stats", "--json")
    assert json.loads(out) == [
        {
            "partner": "acme-retail",
            "direction": "in",
            "type": None,
            "status": "received",
            "count": 1,
        }
    ]


def test_errors_are_clean_messages_with_exit_1(tmp_path: Path) -> None:
    code, out = run(tmp_path, "docs", "show", "42")
    assert code == 1 and "no document 42" in out
    code, out = run(tmp_path, "docs", "list", "--since", "soon")
    assert code == 1 and "expected a duration" in out
