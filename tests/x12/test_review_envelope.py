"""A reviewer's envelope findings, each as the user sees it: ``edigate x12 validate --ack``.

Every input is the retailer sample (one interchange, one group, one 850 of 32 segments)
with one change, so each test names the exact finding, its position and the ack rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.x12 import ErrorCode, InterchangeHeader, ReaderLimits, TransactionSet, X12Reader
from edigate.x12.acks import acknowledge

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "x12" / "850-004010-retailer.edi"
BASE = SAMPLE.read_bytes()
#: The sample as a second interchange, numbered 4213 (ISA13, GS06 and IEA02).
SECOND = BASE.replace(b"000004211", b"000004213").replace(b"*4211*", b"*4213*")
SECOND = SECOND.replace(b"GE*1*4211~", b"GE*1*4213~")


def validate(tmp_path: Path, data: bytes, kind: str = "997") -> tuple[int, list[str], list[str]]:
    """Exit code, the report lines and the ack's rows (AK*, IK*, TA1), as the CLI gives them."""
    path = tmp_path / "in.edi"
    path.write_bytes(data)
    ack = tmp_path / "out.ack"
    result = CliRunner().invoke(cli, ["x12", "validate", str(path), "--ack", str(ack)])
    rows: list[str] = []
    if ack.exists():
        segments = [s.strip() for s in ack.read_text().split("~") if s.strip()]
        rows = [s for s in segments if s.startswith(("AK", "IK", "TA1"))]
    report = [line.strip() for line in result.output.splitlines()]
    return result.exit_code, report, rows


def errors(report: list[str]) -> list[str]:
    """The findings of a report (not its closing line about the ack)."""
    found = [line for line in report if line.startswith(("error:", "warning:"))]
    return [line for line in found if "no acknowledgement can be built" not in line]


# ------------------------------------------------------------------ 1. junk between interchanges
JUNK = {
    "bom": b"\xef\xbb\xbf",
    "ctrl-z": b"\x1a",
    "nul": b"\x00\x00",
    "text": b"hello world\n",
}


@pytest.mark.parametrize("junk", sorted(JUNK))
def test_junk_before_the_next_isa_does_not_hide_that_interchange(tmp_path: Path, junk: str) -> None:
    data = BASE + JUNK[junk] + SECOND
    events = list(X12Reader(data).events())
    headers = [e.control_number for e in events if isinstance(e, InterchangeHeader)]
    assert headers == ["000004211", "000004213"]
    txs = [e for e in events if isinstance(e, TransactionSet)]
    assert [(t.group.control_number if t.group else None) for t in txs] == ["4211", "4213"]
    assert all(t.findings == [] for t in txs)

    code, report, rows = validate(tmp_path, data)
    sample = JUNK[junk].decode("utf-8", "surrogateescape")
    assert code == 1
    assert report[0].endswith("2 transaction(s), 0 rejected, 1 error(s), 0 warning(s)")
    assert errors(report) == [
        "error: segment 37: FILE unexpected data after the interchange ending at segment 36: "
        f"{sample!r} (value {sample!r})"
    ]
    assert rows == [
        "AK1*PO*4211",
        "AK2*850*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "AK1*PO*4213",
        "AK2*850*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "TA1*000004211*261120*1405*A*000",
        "TA1*000004213*261120*1405*A*000",
    ]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 18])
def test_junk_between_interchanges_reads_the_same_in_any_chunk_size(chunk_size: int) -> None:
    data = BASE + b"\x1ahello\n" + SECOND
    expected = list(X12Reader(data).events())
    assert list(X12Reader(data, chunk_size=chunk_size).events()) == expected
    assert sum(isinstance(e, InterchangeHeader) for e in expected) == 2


def test_blank_lines_between_interchanges_are_not_junk(tmp_path: Path) -> None:
    code, report, _ = validate(tmp_path, BASE + b"\r\n\n  \n" + SECOND)
    assert code == 0 and errors(report) == []


def test_a_stray_segment_after_the_iea_is_one_finding_naming_it(tmp_path: Path) -> None:
    code, report, _ = validate(tmp_path, BASE + b"IEA*1*000004211~\n")
    assert code == 1
    assert errors(report) == [
        "error: segment 37 IEA: FILE unexpected data after the interchange ending at segment "
        "36: 'IEA*1*000004211~\\n' (value 'IEA*1*000004211~\\n')"
    ]


# ------------------------------------------------------------------ 7. oversized segment
def test_a_transaction_that_lost_an_oversized_segment_is_rejected(tmp_path: Path) -> None:
    long_msg = b"MSG*" + b"A" * 2000
    data = BASE.replace(b"MSG*DELIVER TO RECEIVING DOCK 4, 7AM-3PM", long_msg)
    events = list(X12Reader(data, limits=ReaderLimits(max_segment_chars=1000)).events())
    (tx,) = [e for e in events if isinstance(e, TransactionSet)]
    (finding,) = tx.findings
    assert finding.code is ErrorCode.SEGMENT_TOO_LONG and finding.code.label == "AK3-8"
    location = finding.location
    assert (location.segment, location.tag, location.segment_in_transaction) == (15, "MSG", 13)
    assert finding.message == (
        "segment longer than 1000 characters (the reader's limit per segment): skipped up to "
        "its terminator"
    )


def test_the_cli_rejects_a_transaction_with_an_oversized_segment(tmp_path: Path) -> None:
    long_msg = b"MSG*" + b"A" * (1 << 20)
    data = BASE.replace(b"MSG*DELIVER TO RECEIVING DOCK 4, 7AM-3PM", long_msg)
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert report[0].endswith("1 transaction(s), 1 rejected, 1 error(s), 0 warning(s)")
    assert errors(report) == [
        "error: segment 15 MSG: AK3-8 segment longer than 1048576 characters (the reader's "
        "limit per segment): skipped up to its terminator (value 'MSG')"
    ]
    assert rows == [
        "AK1*PO*4211",
        "AK2*850*0001",
        "AK3*MSG*13**8",
        "AK5*R*5",
        "AK9*R*1*1*0",
        "TA1*000004211*261120*1405*A*000",
    ]


def test_an_oversized_segment_outside_a_transaction_stays_an_interchange_error() -> None:
    long_gs = b"ZZZ*" + b"A" * 2000 + b"~\n"
    data = BASE.replace(b"GS*PO*", long_gs + b"GS*PO*", 1)
    events = list(X12Reader(data, limits=ReaderLimits(max_segment_chars=1000)).events())
    trailer_findings = [f for e in events if hasattr(e, "findings") for f in e.findings]
    assert [(f.code, f.location.segment, f.location.tag) for f in trailer_findings] == [
        (ErrorCode.INVALID_INTERCHANGE_CONTENT, 2, "ZZZ")
    ]


# ------------------------------------------------------------------ 2. ISA element count
ISA_LINE = BASE.split(b"\n", 1)[0]


def test_isa_missing_an_element_is_022_and_gets_no_ta1(tmp_path: Path) -> None:
    data = BASE.replace(b"ISA*00*", b"ISA*", 1)  # ISA01 deleted: 15 elements
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert errors(report)[0] == (
        "error: segment 1 ISA: TA1-022 ISA has 15 elements separated by '*', expected 16 (a "
        "field is missing or holds the separator): its fields cannot be located, so no TA1 "
        "can answer this interchange (value '15')"
    )
    assert not any("ISA16" in line or "TA1-004" in line for line in report)
    assert rows == []
    assert report[-1].startswith("error: no acknowledgement can be built")


def test_isa_with_a_separator_inside_a_field_is_answered_from_the_fixed_layout(
    tmp_path: Path,
) -> None:
    data = BASE.replace(b"*ACMERETAIL     *", b"*ACME*RETAIL    *", 1)  # 17, width kept
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert errors(report)[0] == (
        "error: segment 1 ISA: TA1-022 ISA has 17 elements separated by '*', expected 16 (a "
        "field is missing or holds the separator): its fields are read at the fixed "
        "positions of the 106-character layout (value '17')"
    )
    assert rows == ["TA1*000004211*261120*1405*R*022"]  # ISA13 as sent, not ISA12 shifted
    ack = (tmp_path / "out.ack").read_text()
    assert ack.startswith("ISA*00*          *00*          *ZZ*EDIGATEDIST    *ZZ*ACME RETAIL    *")


def test_isa_with_an_extra_element_out_of_layout_gets_no_ta1(tmp_path: Path) -> None:
    data = BASE.replace(b"*ACMERETAIL     *", b"*ACME*RETAIL*", 1)
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert "TA1-022 ISA has 17 elements" in errors(report)[0]
    assert "no TA1 can answer this interchange" in errors(report)[0]
    assert rows == []


@pytest.mark.parametrize("suffix", [b"~", b"~\n", b"~\r\n"])
def test_a_well_formed_isa_is_still_read_whatever_follows_it(suffix: bytes) -> None:
    data = BASE.replace(b"~\n", suffix)
    events = list(X12Reader(data).events())
    assert [f for e in events if hasattr(e, "findings") for f in e.findings] == []
    assert sum(isinstance(e, TransactionSet) for e in events) == 1


# ------------------------------------------------------------------ 6. file cut inside the ISA
@pytest.mark.parametrize(
    ("size", "message", "rows"),
    [
        (60, "file ends inside the ISA: it has 7 of its 16 elements", []),
        (
            104,
            "file ends inside the ISA: ISA16 and the segment terminator are missing",
            ["TA1*000004211*261120*1405*R*023"],
        ),
        (
            105,
            "file ends inside the ISA: no segment terminator after ISA16",
            ["TA1*000004211*261120*1405*R*023"],
        ),
    ],
)
def test_a_file_cut_inside_the_isa_is_one_023(
    tmp_path: Path, size: int, message: str, rows: list[str]
) -> None:
    code, report, ack_rows = validate(tmp_path, BASE[:size])
    assert code == 1
    assert errors(report) == [f"error: segment 1 ISA: TA1-023 {message}"]
    assert ack_rows == rows


# ------------------------------------------------------------------ 3. GS elements
GS = b"GS*PO*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~"


def with_gs(gs: bytes) -> bytes:
    return BASE.replace(GS, gs, 1)


def test_gs_date_and_time_must_be_real(tmp_path: Path) -> None:
    code, report, rows = validate(
        tmp_path, with_gs(b"GS*PO*ACMERETAIL*EDIGATEDIST*20261340*2561*4211*X*004010~")
    )
    assert code == 1
    assert errors(report) == [
        "error: segment 2 GS04: AK9-1 GS04 (Date) '20261340' is not a valid date (CCYYMMDD) "
        "(value '20261340')",
        "error: segment 2 GS05: AK9-1 GS05 (Time) '2561' is not a valid time (HHMM[SS[dd]]) "
        "(value '2561')",
    ]
    # Rejected whole, saying why (AK905 1): no set of it accepted, none AK5 A.
    assert rows == [
        "AK1*PO*4211",
        "AK2*850*0001",
        "AK5*R",
        "AK9*R*1*1*0*1",
        "TA1*000004211*261120*1405*A*000",
    ]


def test_empty_gs_elements_are_missing_mandatory_elements(tmp_path: Path) -> None:
    code, report, rows = validate(tmp_path, with_gs(b"GS*PO*****4211**~"))
    assert code == 1
    names = [
        "GS02 (Application Sender's Code)",
        "GS03 (Application Receiver's Code)",
        "GS04 (Date)",
        "GS05 (Time)",
        "GS07 (Responsible Agency Code)",
        "GS08 (Version / Release / Industry Identifier Code)",
    ]
    assert errors(report) == [
        f"error: segment 2 {name[:4]}: AK9-1 {name} is empty: it is mandatory" for name in names
    ]
    assert rows[2:4] == ["AK5*R", "AK9*R*1*1*0*1"]


def test_gs07_must_be_x_or_t(tmp_path: Path) -> None:
    code, report, rows = validate(
        tmp_path, with_gs(b"GS*PO*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*Q*004010~")
    )
    assert code == 1
    assert errors(report) == [
        "error: segment 2 GS07: AK9-1 GS07 (Responsible Agency Code) 'Q' is not a valid code "
        "(X, T) (value 'Q')"
    ]
    assert rows[2:4] == ["AK5*R", "AK9*R*1*1*0*1"]
    t = with_gs(b"GS*PO*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*T*004010~")
    assert validate(tmp_path, t)[0] == 0


def test_yymmdd_group_date_is_accepted_only_before_004010() -> None:
    old = b"GS*PO*ACMERETAIL*EDIGATEDIST*261120*1405*4211*X*003040~"
    events = list(X12Reader(with_gs(old)).events())
    assert [f for e in events if hasattr(e, "findings") for f in e.findings] == []
    new = b"GS*PO*ACMERETAIL*EDIGATEDIST*261120*1405*4211*X*004010~"
    found = [f for e in X12Reader(with_gs(new)).events() for f in getattr(e, "findings", [])]
    assert [(f.code, f.location.element) for f in found] == [(ErrorCode.INVALID_GROUP_DATE, 4)]


def test_a_set_in_a_group_of_another_functional_id_is_rejected(tmp_path: Path) -> None:
    code, report, rows = validate(
        tmp_path, with_gs(b"GS*IN*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~")
    )
    assert code == 1
    assert errors(report) == [
        "error: segment 3 ST01: AK5-6 ST01 850 does not belong in a GS01 'IN' group (GS at "
        "segment 2): transaction set 850 is sent in a GS01 'PO' group (value '850')"
    ]
    assert rows == [
        "AK1*IN*4211",
        "AK2*850*0001",
        "AK5*R*6",
        "AK9*R*1*1*0",
        "TA1*000004211*261120*1405*A*000",
    ]


@pytest.mark.parametrize("gs01", [b"OW", b"RG", b"ZZ"])
def test_a_known_set_in_a_group_of_a_gs01_no_table_knows_is_rejected(
    tmp_path: Path, gs01: bytes
) -> None:
    """Judged from the set's side: an 850 belongs in a PO group, whatever the GS01 is."""
    gs = b"GS*" + gs01 + b"*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~"
    code, report, rows = validate(tmp_path, with_gs(gs))
    assert code == 1
    assert errors(report) == [
        f"error: segment 3 ST01: AK5-6 ST01 850 does not belong in a GS01 '{gs01.decode()}' "
        "group (GS at segment 2): transaction set 850 is sent in a GS01 'PO' group "
        "(value '850')"
    ]
    assert rows[:4] == [f"AK1*{gs01.decode()}*4211", "AK2*850*0001", "AK5*R*6", "AK9*R*1*1*0"]


@pytest.mark.parametrize(("st01", "gs01"), [(b"865", b"PO"), (b"860", b"PR")])
def test_a_purchase_order_change_in_another_group_is_rejected(st01: bytes, gs01: bytes) -> None:
    gs = b"GS*" + gs01 + b"*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~"
    data = with_gs(gs).replace(b"ST*850*", b"ST*" + st01 + b"*", 1)
    found = [f for e in X12Reader(data).events() for f in getattr(e, "findings", [])]
    assert [(f.code, f.location.tag, f.location.element) for f in found] == [
        (ErrorCode.INVALID_TRANSACTION_ID, "ST", 1)
    ]


def test_a_set_no_table_knows_is_not_judged_by_its_gs01() -> None:
    data = with_gs(b"GS*RG*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~")
    data = data.replace(b"ST*850*", b"ST*879*", 1)
    found = [f for e in X12Reader(data).events() for f in getattr(e, "findings", [])]
    assert found == []


# ------------------------------------------------------------------ 4. ISA11 before 00402
def test_a_symbol_in_a_00401_isa11_is_016_and_no_repetition_separator(tmp_path: Path) -> None:
    data = BASE.replace(b"*1405*U*00401*", b"*1405*^*00401*", 1)
    data = data.replace(b"N3*1 CORPORATE WAY~", b"N3*1 CORPORATE WAY^STE 2~", 1)
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    assert header.separators.repetition is None
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert errors(report) == [
        "error: segment 1 ISA11: TA1-016 ISA11 is '^' in a 00401 interchange, where it is the "
        "standards identifier and must be U (a repetition separator only from 00402 on) "
        "(value '^')"
    ]
    # '^' is data in N301: the 850 itself is fine, but the TA1 rejects the envelope and
    # answers alone (no 997 saying the 850 was accepted).
    assert rows == ["TA1*000004211*261120*1405*R*016"]


def test_a_letter_other_than_u_in_a_00401_isa11_is_016() -> None:
    data = BASE.replace(b"*1405*U*00401*", b"*1405*X*00401*", 1)
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    assert [(f.code, f.location.element, f.value) for f in header.findings] == [
        (ErrorCode.INVALID_STANDARDS_ID, 11, "X")
    ]


def test_from_00402_on_a_symbol_in_isa11_is_the_repetition_separator() -> None:
    data = BASE.replace(b"*1405*U*00401*", b"*1405*^*00402*", 1)
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    assert header.separators.repetition == "^" and header.findings == []


@pytest.mark.parametrize("version", [b"00999", b"00040", b"00410", b"00901"])
def test_an_isa12_outside_code_list_i11_is_a_017_warning_and_the_orders_are_read(
    tmp_path: Path, version: bytes
) -> None:
    """Not a version at all, but the envelope reads the same and GS08 says what the
    documents are: a partner with a typo in ISA12 keeps trading, and is told (TA1 E 017)."""
    data = BASE.replace(b"*U*00401*", b"*U*" + version + b"*", 1)
    code, report, rows = validate(tmp_path, data)
    assert code == 0
    assert errors(report) == [
        f"warning: segment 1 ISA12: TA1-017 ISA12 '{version.decode()}' is not an interchange "
        "control version of code list I11 (00200 to 008xx, e.g. 00401 or 00501); read by the "
        f"groups' GS08 versions (warning) (value '{version.decode()}')"
    ]
    # GS08 004010 picks the 997 (a 5-digit '00999' once passed for a 005010 and got a 999).
    assert rows == [
        "AK1*PO*4211",
        "AK2*850*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "TA1*000004211*261120*1405*E*017",
    ]


def test_with_no_isa12_version_isa11_is_neither_checked_nor_a_repetition_separator() -> None:
    data = BASE.replace(b"*U*00401*", b"*^*00040*", 1)
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    assert header.separators.repetition is None
    assert [(f.code, f.location.element) for f in header.findings] == [
        (ErrorCode.INVALID_VERSION_ID, 12)
    ]


def test_a_ta1_alone_for_an_unknown_isa12_is_enveloped_in_a_real_version() -> None:
    """``acknowledge(data, None)`` copies the sender's ISA12 into the TA1's envelope, but
    not one that is no version: the partner would reject our TA1 in turn."""
    data = BASE.replace(b"*U*00401*", b"*U*00999*", 1)
    (output,) = acknowledge(data, None).outputs
    assert output.technical is not None
    isa = output.technical.split(b"~")[0].decode()
    assert isa.split("*")[12] == "00401"
    assert b"TA1*000004211*261120*1405*E*017~" in output.technical


@pytest.mark.parametrize("version", ["00200", "00305", "00403", "00501", "00801"])
def test_isa12_versions_in_code_list_i11_are_read_without_a_finding(version: str) -> None:
    isa11 = b"U" if version < "00402" else b"^"  # the repetition separator from 00402 on
    data = BASE.replace(b"*U*00401*", b"*" + isa11 + b"*" + version.encode() + b"*", 1)
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    assert header.findings == [] and header.version == version


# ------------------------------------------------------------------ 5. GS06 used twice
def two_groups_numbered(first: bytes, second: bytes) -> bytes:
    """The sample's group twice in one interchange, numbered ``first`` and ``second``."""
    head, rest = BASE.split(b"\n", 1)
    group_text = rest[: rest.index(b"IEA*")]
    one = group_text.replace(b"*4211*X*", b"*" + first + b"*X*").replace(
        b"GE*1*4211", b"GE*1*" + first
    )
    two = group_text.replace(b"*4211*X*", b"*" + second + b"*X*").replace(
        b"GE*1*4211", b"GE*1*" + second
    )
    return head + b"\n" + one + two + b"IEA*2*000004211~\n"


def test_a_gs06_used_twice_in_an_interchange_is_ak905_19(tmp_path: Path) -> None:
    events = list(X12Reader(two_groups_numbered(b"7", b"7")).events())
    found = [f for e in events for f in getattr(e, "findings", [])]
    assert [(f.code, f.location.segment, f.location.element) for f in found] == [
        (ErrorCode.DUPLICATE_GROUP_CONTROL_NUMBER, 36, 6)
    ]
    assert found[0].code.label == "AK9-19"
    assert found[0].message == "GS06 7 is used twice in this interchange"
    assert not [
        f
        for e in X12Reader(two_groups_numbered(b"7", b"8")).events()
        for f in getattr(e, "findings", [])
    ]


def test_duplicate_gs06_in_a_999_is_19_and_in_a_004010_997_is_6(tmp_path: Path) -> None:
    code, report, rows = validate(tmp_path, two_groups_numbered(b"7", b"7"))
    assert code == 1
    assert errors(report) == [
        "error: segment 36 GS06: AK9-19 GS06 7 is used twice in this interchange (value '7')"
    ]
    # In 004010, AK905 19 means "S1E security end segment missing": 6 stands in.
    assert [r for r in rows if r.startswith("AK")] == [
        "AK1*PO*7",
        "AK2*850*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "AK1*PO*7",
        "AK2*850*0001",
        "AK5*R",  # rejected with its group
        "AK9*R*1*1*0*6",
    ]
    path = tmp_path / "in.edi"
    path.write_bytes(two_groups_numbered(b"7", b"7"))
    ack = tmp_path / "out.999"
    CliRunner().invoke(cli, ["x12", "validate", str(path), "--ack", str(ack), "--kind", "999"])
    ak9 = [s.strip() for s in ack.read_text().split("~") if s.strip().startswith("AK9")]
    assert ak9 == ["AK9*A*1*1*1", "AK9*R*1*1*0*19"]


# ------------------------------------------------------------------ auto: 997 or 999 each
DISTRIBUTOR = SAMPLE.with_name("850-005010-distributor.edi").read_bytes()


def ack_sets(tmp_path: Path, data: bytes) -> tuple[str, list[tuple[str, str, str]]]:
    """The report's closing line, and (ISA12, GS08, ST01) of each 997/999 written."""
    path = tmp_path / "in.edi"
    path.write_bytes(data)
    ack = tmp_path / "out.ack"
    result = CliRunner().invoke(cli, ["x12", "validate", str(path), "--ack", str(ack)])
    found, isa12, gs08 = [], "", ""
    for segment in (s.strip() for s in ack.read_text().split("~")):
        els = segment.split("*")
        if els[0] == "ISA":
            isa12 = els[12]
        elif els[0] == "GS":
            gs08 = els[8]
        elif els[0] == "ST":
            found.append((isa12, gs08, els[1]))
    return result.output.splitlines()[-1], found


@pytest.mark.parametrize("first_005010", [False, True])
def test_auto_answers_each_interchange_in_its_own_version(
    tmp_path: Path, first_005010: bool
) -> None:
    """A 004010 interchange beside a 005010 one in the same file still gets a 997."""
    parts = [DISTRIBUTOR, BASE] if first_005010 else [BASE, DISTRIBUTOR]
    closing, found = ack_sets(tmp_path, b"".join(parts))
    expected = [("00401", "004010", "997"), ("00501", "005010X231A1", "999")]
    assert found == (expected[::-1] if first_005010 else expected)
    names = "999, 997" if first_005010 else "997, 999"
    assert closing == f"{names} and TA1 written to {tmp_path / 'out.ack'}"


def test_auto_asks_gs08_when_isa12_names_no_version(tmp_path: Path) -> None:
    data = DISTRIBUTOR.replace(b"*00501*", b"*00999*", 1)
    assert data != DISTRIBUTOR
    assert ack_sets(tmp_path, BASE + data)[1] == [
        ("00401", "004010", "997"),
        ("00501", "005010X231A1", "999"),
    ]


# ------------------------------------------------------------------ empty segments
def test_an_empty_segment_is_an_ak3_on_the_segment_it_follows_and_is_not_counted(
    tmp_path: Path,
) -> None:
    """``~~`` after N3 (the 15th segment of the 850): one rule for SE01 and AK302, the
    segments the sender wrote. So SE01 32 is right, and the N4 after it is still 16."""
    data = BASE.replace(b"N3*1 CORPORATE WAY~", b"N3*1 CORPORATE WAY~~", 1)
    data = data.replace(b"N4*CHICAGO*IL*60601*US~", b"N4*CHICAGO*IL*60601*USAA~", 1)
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert errors(report) == [
        "error: segment 17 N3: AK3-8 empty segment after N3 (two segment terminators in a "
        "row; not counted in SE01)",
        "error: segment 19 N404: AK4-5 N404 (Country Code) 'USAA' is longer than 3 (value 'USAA')",
    ]
    assert rows[:6] == [
        "AK1*PO*4211",
        "AK2*850*0001",
        "AK3*N3*15**8",
        "AK3*N4*16*N1*8",
        "AK4*4*26*5*USAA",
        "AK5*R*5",
    ]


def test_an_se01_that_counts_an_empty_segment_is_ak5_4(tmp_path: Path) -> None:
    data = BASE.replace(b"N3*1 CORPORATE WAY~", b"N3*1 CORPORATE WAY~~", 1)
    code, report, rows = validate(tmp_path, data.replace(b"SE*32*0001", b"SE*33*0001", 1))
    assert code == 1
    assert errors(report)[1] == (
        "error: segment 35 SE01: AK5-4 SE01 says 33, but the transaction has 32 segments "
        "(ST through SE, not counting 1 empty) (value '33')"
    )
    assert rows[2:4] == ["AK3*N3*15**8", "AK5*R*4*5"]


# ------------------------------------------------------------------ TA1 segments
def test_a_bad_ta1_in_an_interchange_is_reported_and_answered_with_ta1_r_024(
    tmp_path: Path,
) -> None:
    head = BASE.split(b"GS*", 1)[0]
    data = head + b"TA1*0659*20110922*0512*A~\nIEA*0*000004211~\n"
    code, report, rows = validate(tmp_path, data)
    assert code == 1
    assert errors(report) == [
        "error: segment 2 TA101: TA1-024 TA101 (Interchange Control Number) '0659' is not "
        "9 digits (value '0659')",
        "error: segment 2 TA102: TA1-024 TA102 (Interchange Date) '20110922' is not a date "
        "YYMMDD (value '20110922')",
        "error: segment 2 TA105: TA1-024 TA105 (Interchange Note Code) is missing: it is mandatory",
    ]
    assert rows == ["TA1*000004211*261120*1405*R*024"]
