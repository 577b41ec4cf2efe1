"""``edigate x12 validate``: every error with its position, and an ack pyx12 accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.x12.acks import parse_acks
from edigate.x12.check import check_file

from ..x12.pyx12_maps import prepare_map_copy, pyx12_errors

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "x12"


@pytest.fixture(scope="module")
def pyx12_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_map_copy(tmp_path_factory.mktemp("pyx12"))


def _bad_850(tmp_path: Path) -> Path:
    """The retailer sample with three known errors in one of two transactions."""
    text = (SAMPLES / "850-004010-retailer.edi").read_text()
    good = text[text.index("ST*850") : text.index("GE*")]
    bad = (
        good.replace("ST*850*0001", "ST*850*0002")
        .replace("SE*32*0001", "SE*32*0002")
        .replace("BEG*00*SA*4500012345**20261120", "BEG*00*SA*4500012346**20261340")
        .replace("PO1*3*24*EA*", "PO1*3*2X4*EA*")
        .replace("N4*CHICAGO*IL*60601*US", "N4*CHICAGO*IL*60601*US*X*Y*Z*W")
    )
    path = tmp_path / "two-pos.edi"
    path.write_text(text.replace("GE*1*", bad + "GE*2*"))
    return path


def test_known_errors_are_listed_and_acknowledged(tmp_path: Path, pyx12_map: Path) -> None:
    file = _bad_850(tmp_path)
    ack = tmp_path / "out.997"
    result = CliRunner().invoke(cli, ["x12", "validate", str(file), "--ack", str(ack), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["transactions"] == 2 and report["rejected"] == 1
    where = {(e["location"]["tag"], e["element"], e["code"]) for e in report["errors"]}
    assert ("BEG", 5, "AK4-8") in where  # 2026-13-40 is no date
    assert ("N4", 7, "AK4-3") in where  # N4 has six elements in 004010
    assert ("PO1", 2, "AK4-6") in where  # quantity 2X4 is not a number

    data = ack.read_bytes()
    # The sample asks for a TA1 (ISA14=1): it follows the 997 in its own interchange.
    functional, technical = data[: data.index(b"ISA", 3)], data[data.index(b"ISA", 3) :]
    assert pyx12_errors(functional, pyx12_map) == []  # pyx12 cannot read TA1-only ones
    received = parse_acks(data)
    assert [(t.status, t.note_code) for t in received.technical] == [("A", "000")]
    assert technical.count(b"TA1*") == 1
    (group,) = received.groups
    assert group.status == "P"
    accepted, rejected = group.transactions
    assert (accepted.control_number, accepted.status) == ("0001", "A")
    assert (rejected.control_number, rejected.status) == ("0002", "R")
    named = {(s.tag, e.position, e.code) for s in rejected.segment_errors for e in s.elements}
    assert {("BEG", 5, "8"), ("N4", 7, "3"), ("PO1", 2, "6")} <= named


def test_a_clean_file_gets_an_accepting_999(tmp_path: Path, pyx12_map: Path) -> None:
    ack = tmp_path / "out.999"
    result = CliRunner().invoke(
        cli, ["x12", "validate", str(SAMPLES / "850-005010-distributor.edi"), "--ack", str(ack)]
    )
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    data = ack.read_bytes()
    assert b"ST*999*" in data and b"IK5*A" in data and b"AK9*A*1*1*1" in data
    assert pyx12_errors(data, pyx12_map) == []


def test_every_malformed_corpus_file_yields_an_error(corpus_dir: Path) -> None:
    """Reader and validator together find a real error in each malformed file.

    (stupidedi__004010_PR855_2's layout faults are tolerated by the reader with warnings;
    the validator finds its real error, SCH03 'DZN', a 3-character unit of measure.)
    """
    for path in sorted((corpus_dir / "malformed").iterdir()):
        result = check_file(path.read_bytes())
        assert result.errors, f"{path.name}: no error found"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["x12", "validate", str(tmp_path / "missing.edi")])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "data", [b"", b"  \r\n\n", b"\xef\xbb\xbf\n"], ids=["empty", "blank", "bom"]
)
@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_a_file_without_an_interchange_is_an_error(
    tmp_path: Path, command: str, data: bytes
) -> None:
    path = tmp_path / "empty.edi"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["x12", command, str(path)])
    assert result.exit_code == 1, result.output
    assert str(path) in result.output and "1 error(s)" in result.output
    assert "no interchange: expected an ISA interchange header" in result.output
    result = CliRunner().invoke(cli, ["x12", command, str(path), "--json"])
    assert result.exit_code == 1
    (error,) = json.loads(result.output)["errors"]
    assert (error["code"], error["severity"]) == ("FILE", "error")


def test_the_ack_of_a_utf16_file_reads_back_clean(tmp_path: Path, pyx12_map: Path) -> None:
    """One BOM per write made the 997 unreadable ('\\ufeffGS' outside a transaction)."""
    file = tmp_path / "u16.edi"
    file.write_bytes((SAMPLES / "850-004010-retailer.edi").read_text().encode("utf-16"))
    ack = tmp_path / "out.997"
    result = CliRunner().invoke(cli, ["x12", "validate", str(file), "--ack", str(ack)])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(cli, ["x12", "validate", str(ack)])
    assert again.exit_code == 0, again.output
    assert "0 error(s), 0 warning(s)" in again.output
    data = ack.read_bytes()
    functional = data[: data.index(b"ISA", 3)]
    assert pyx12_errors(functional, pyx12_map) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no readable ISA"),
        (b"junk", "no readable ISA"),
        (b"ISA*00*          *00*   ", "no readable ISA"),
        (
            b"ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *261120*1405*"
            b"U*00401*000000101*0*P*>~\nIEA*0*000000101~\n",
            "no functional group to acknowledge",
        ),
    ],
    ids=["empty", "junk", "truncated-isa", "no-group"],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_no_ack_file_when_none_can_be_built(
    tmp_path: Path, data: bytes, reason: str, as_json: bool
) -> None:
    file = tmp_path / "in.edi"
    file.write_bytes(data)
    ack = tmp_path / "out.997"
    args = ["x12", "validate", str(file), "--ack", str(ack)] + (["--json"] if as_json else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert not ack.exists()
    assert "written to" not in result.output
    if as_json:
        report = json.loads(result.output)
        assert report["ack"]["path"] is None
        message = report["ack"]["error"]
    else:
        message = result.output
    assert "no acknowledgement can be built" in message and reason in message


@pytest.mark.parametrize(
    "args",
    [
        ["x12", "validate", str(SAMPLES / "850-004010-retailer.edi"), "--ack", "{out}"],
        [
            "translate",
            str(SAMPLES / "850-004010-retailer.edi"),
            "--to",
            "canonical",
            "--out",
            "{out}",
        ],
    ],
    ids=["validate-ack", "translate-out"],
)
def test_an_output_in_a_missing_directory_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "nodir" / "out.x"
    result = CliRunner().invoke(cli, [a.format(out=out) for a in args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert str(out) in result.output and "does not exist" in result.output
    assert not out.parent.exists()


@pytest.mark.parametrize(
    ("old", "new", "rejected", "written"),
    [
        ("GE*1*4211", "GE*3*4211", 1, "997 and TA1"),  # GE01 miscounts: AK9 R 5
        ("GE*1*4211", "GE*1*4299", 1, "997 and TA1"),  # GE02 is not GS06: AK9 R 4
        # A TA1 R answers alone (a 997 beside it would accept what must be sent again).
        ("IEA*1*000004211", "IEA*2*000004211", 1, "TA1"),  # IEA01 miscounts: TA1 R 021
        ("IEA*1*000004211", "IEA*1*000004299", 1, "TA1"),  # IEA02 is not ISA13: TA1 R 001
        ("GE*1*4211", "GE*1*4211", 0, "997 and TA1"),  # sound (ISA14 asks for a TA1)
    ],
)
def test_a_set_its_group_or_interchange_rejects_counts_as_rejected(
    tmp_path: Path, old: str, new: str, rejected: int, written: str
) -> None:
    """The count says what the acks do: a set with no error of its own is rejected all the
    same when its group's 997 (AK9 R) or its interchange's TA1 (R) rejects it."""
    text = (SAMPLES / "850-004010-retailer.edi").read_text()
    assert old in text
    file = tmp_path / "po.edi"
    file.write_text(text.replace(old, new))
    ack = tmp_path / "po.997"
    result = CliRunner().invoke(cli, ["x12", "validate", str(file), "--ack", str(ack), "--json"])
    report = json.loads(result.output)
    assert (report["transactions"], report["rejected"]) == (1, rejected)
    assert report["ack"]["kind"] == written
    acks = parse_acks(ack.read_bytes())
    said = [g.status for g in acks.groups] + [t.status for t in acks.technical]
    assert ("R" in said) == bool(rejected)
