"""``edigate reprocess`` on a large file that died after some pieces: the dry run and the
run say it resumes and what was already committed; a second run is refused with exit 1;
the help names --from-start and what it sends again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.app import Gateway
from edigate.cli.main import cli
from edigate.config import load_config

from ..pipeline.test_inbound_flow import erp_orders
from ..pipeline.test_reprocess_progress import FIRST, TOTAL, dead_partial_file

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "data"), "--config-dir", str(tmp_path / "config"), *args],
    )
    return result.exit_code, result.output


def test_reprocess_resumes_a_dead_partial_file_then_refuses_a_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)
    config = load_config(
        None, environ={}, data_dir=tmp_path / "data", config_dir=tmp_path / "config"
    )
    gateway = Gateway(config)
    try:
        doc_id = dead_partial_file(gateway, monkeypatch)
    finally:
        gateway.close()

    code, out = run(tmp_path, "reprocess", "--dry-run", str(doc_id))
    assert code == 0, out
    assert f"document {doc_id}: would resume: 3 piece(s)" in out
    assert f"{FIRST + 3} order(s) already in the ERP outbox" in out

    code, out = run(tmp_path, "reprocess", str(doc_id))
    assert code == 0, out
    assert "is translated" in out and "resumed: 3 piece(s)" in out

    code, out = run(tmp_path, "reprocess", str(doc_id))
    assert code == 1
    assert f"document {doc_id}: refused:" in out and "--from-start" in out
    assert "1 document(s) not reprocessed" in out
    # A selection takes each file's latest attempt: the dead original is not chosen again.
    code, out = run(tmp_path, "reprocess", "--status", "dead")
    assert code == 0 and "no document matches" in out, out

    gateway = Gateway(config)
    try:
        pos = [o["po_number"] for o in erp_orders(gateway)]
    finally:
        gateway.close()
    assert len(pos) == len(set(pos)) == TOTAL


def test_reprocess_help_names_from_start_and_what_it_sends_again() -> None:
    result = CliRunner().invoke(cli, ["reprocess", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--from-start" in text and "SENT AGAIN" in text
    assert "resumed" in text and "refused" in text.lower()
