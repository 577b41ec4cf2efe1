"""``edigate x12 inspect FILE [--json]``: in-process with click's runner, and once for real
through the installed ``edigate`` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.x12 import Separators
from tests.x12.test_reader import group, interchange, isa, purchase_order, render

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "x12" / "850-004010-retailer.edi"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["x12", "inspect", *args])


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def two_groups(tmp_path: Path) -> Path:
    segs = interchange(
        [
            group([purchase_order("0001"), purchase_order("0002", ["REF*DP*7"])], "11"),
            group([purchase_order("0003")], "12", functional_id="PO"),
        ],
        version="00501",
    )
    return write(tmp_path, "two.edi", render(segs, Separators("*", ">", "~", "^", "\r\n")))


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    segs = interchange()
    segs = [s.replace("SE*5*0001", "SE*9*0002") for s in segs]
    return write(tmp_path, "broken.edi", render(segs))


# ---------------------------------------------------------------------- tree
def test_tree_of_the_sample() -> None:
    result = run(str(SAMPLE))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{SAMPLE}  (utf-8)"
    assert lines[1] == (
        "  interchange 000004211  ZZ:ACMERETAIL -> ZZ:EDIGATEDIST  version 00401  (segment 1)"
    )
    assert lines[2] == "    separators: element='*' component='>' segment='~'"
    assert lines[3].startswith("    group 4211  PO  version 004010  ACMERETAIL -> EDIGATEDIST")
    assert lines[4] == "      850 0001  32 segments  (segment 3)"
    assert lines[-1] == "0 error(s), 0 warning(s)"


def test_tree_shows_every_group_transaction_and_the_repetition_separator(two_groups: Path) -> None:
    result = run(str(two_groups))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "repetition='^'" in out
    assert "group 11  PO  version 004010  SENDER -> RECEIVER  2 transaction(s)" in out
    assert "group 12  PO  version 004010  SENDER -> RECEIVER  1 transaction(s)" in out
    assert "850 0002  6 segments  (segment 8)" in out
    assert "850 0003  5 segments  (segment 16)" in out


def test_tree_lists_errors_with_position_and_code_and_exits_1(broken: Path) -> None:
    result = run(str(broken))
    assert result.exit_code == 1
    out = result.output
    assert "2 error(s), 0 warning(s)" in out
    assert "error: segment 7 SE01: [AK5-4] SE01 says 9, but the transaction has 5 segments" in out
    assert "error: segment 7 SE02: [AK5-3] SE02 '0002' does not match ST02 '0001'" in out


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, "u.edi", render(interchange(version="00501")))
    result = run(str(path))
    assert result.exit_code == 0
    assert "0 error(s), 1 warning(s)" in result.output
    assert "warning: segment 1 ISA11: [TA1-016]" in result.output


def test_ta1_segments_are_shown(tmp_path: Path) -> None:
    path = write(
        tmp_path, "ta1.edi", render([isa(), "TA1*000000009*261123*0930*R*024", "IEA*0*000000001"])
    )
    result = run(str(path))
    assert result.exit_code == 0
    assert "    TA1 000000009*261123*0930*R*024  (segment 2)" in result.output


# ---------------------------------------------------------------------- JSON
def test_json_shape(two_groups: Path) -> None:
    result = run(str(two_groups), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"interchanges", "errors"}
    assert doc["errors"] == []
    (ic,) = doc["interchanges"]
    assert set(ic) >= {
        "sender",
        "receiver",
        "control_number",
        "version",
        "test",
        "separators",
        "groups",
    }
    assert ic["sender"] == {"qualifier": "ZZ", "id": "SENDER"}
    assert ic["receiver"] == {"qualifier": "ZZ", "id": "RECEIVER"}
    assert (ic["control_number"], ic["version"], ic["test"]) == ("000000001", "00501", False)
    assert ic["separators"] == {"element": "*", "component": ">", "segment": "~", "repetition": "^"}
    assert [
        (g["functional_id"], g["version"], g["control_number"], len(g["transactions"]))
        for g in ic["groups"]
    ] == [("PO", "004010", "11", 2), ("PO", "004010", "12", 1)]
    tx = ic["groups"][0]["transactions"][1]
    assert (tx["set_id"], tx["control_number"], tx["segment_count"]) == ("850", "0002", 6)


def test_json_errors_and_exit_1(broken: Path) -> None:
    result = run(str(broken), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    errors = doc["errors"]
    assert [(e["code"], e["segment"], e["element"]) for e in errors] == [
        ("AK5-4", 7, 1),
        ("AK5-3", 7, 2),
    ]
    for error in errors:
        assert set(error) >= {"code", "segment", "element", "message"}
        assert error["message"] and error["severity"] == "error"


def test_json_of_a_file_that_is_not_x12(tmp_path: Path) -> None:
    result = run(str(write(tmp_path, "x.csv", b"sku,qty\n1,2\n")), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["interchanges"] == []
    assert [(e["code"], e["segment"]) for e in doc["errors"]] == [("FILE", 1)]


# ---------------------------------------------------------------------- usage errors
def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(str(tmp_path / "missing.edi")).exit_code == 2
    assert run(str(tmp_path)).exit_code == 2  # a directory
    assert run().exit_code == 2
    assert run(str(SAMPLE), "--no-such-option").exit_code == 2


# ---------------------------------------------------------------------- the real script
def test_installed_script_runs_for_real(broken: Path) -> None:
    script = shutil.which("edigate") or str(Path(sys.executable).parent / "edigate")
    if not Path(script).exists():
        pytest.skip("the edigate console script is not installed (pip install -e .)")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    ok = subprocess.run(
        [script, "x12", "inspect", str(SAMPLE), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["interchanges"][0]["groups"][0]["transactions"][0]["segment_count"] == 32
    bad = subprocess.run(
        [script, "x12", "inspect", str(broken)], capture_output=True, text=True, timeout=60, env=env
    )
    assert bad.returncode == 1
    assert "[AK5-4]" in bad.stdout
    usage = subprocess.run(
        [script, "x12", "inspect", str(broken.with_name("nope.edi"))],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert usage.returncode == 2 and "does not exist" in usage.stderr
