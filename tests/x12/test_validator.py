"""The validator: one test per error class, each pinning code, positions, element and value.

Documents are built from a known-good 850 (or 856/997/999) by changing one thing. In every
document the ISA is file segment 1 and the GS segment 2, so transaction position ``k``
(ST = 1) is file position ``k + 2``.
"""

from __future__ import annotations

import pytest

from edigate.x12 import ErrorCode, Finding, TransactionSet, X12Reader
from edigate.x12.overlay import Overlay, RequiredSegment, apply_overlay
from edigate.x12.spec import SpecError, load_transaction
from edigate.x12.validator import (
    TransactionValidator,
    spec_version,
    validate_transaction,
    validator_for,
)

ISA_4010 = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*1200*U*"
    "00401*000000001*0*P*>~"
)
ISA_5010 = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*1200*^*"
    "00501*000000001*0*P*>~"
)

GOOD_850 = [
    "ST*850*0001",
    "BEG*00*SA*PO123**20261120",
    "REF*DP*042",
    "PER*BD*DANA*TE*5551234",
    "DTM*002*20261204",
    "N1*ST*STORE 42*92*0042",
    "N3*1 MAIN ST",
    "N4*CHICAGO*IL*60601*US",
    "PO1*1*10*CA*5.25*PE*UP*012345678905",
    "PID*F****WIDGET",
    "PO1*2*5*EA*1.50*PE*UP*012345678912",
    "CTT*2*15",
]


def transaction(
    body: list[str], version: str = "004010", functional_id: str = "PO", se: bool = True
) -> TransactionSet:
    """Wrap ST..(SE) in an interchange, read it back and return the one transaction."""
    isa = ISA_5010 if version.startswith("005") else ISA_4010
    segs = list(body)
    if se:
        segs.append(f"SE*{len(segs) + 1}*0001")
    text = (
        isa
        + f"GS*{functional_id}*SENDER*RECEIVER*20261120*1200*1*X*{version}~"
        + "~".join(segs)
        + "~GE*1*1~IEA*1*000000001~"
    )
    txs = [e for e in X12Reader(text.encode()).events() if isinstance(e, TransactionSet)]
    assert len(txs) == 1
    return txs[0]


def findings_of(body: list[str], **kw: object) -> list[Finding]:
    return validate_transaction(transaction(body, **kw))  # type: ignore[arg-type]


def replace(body: list[str], index: int, new: str | None) -> list[str]:
    """Body with segment ``index`` (0-based, ST = 0) replaced, or removed when ``new`` is None."""
    out = list(body)
    if new is None:
        del out[index]
    else:
        out[index] = new
    return out


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [str(f) for f in findings]
    return findings[0]


def at(f: Finding, in_tx: int) -> None:
    """The finding sits at transaction position ``in_tx`` and file position ``in_tx + 2``."""
    assert f.location.segment_in_transaction == in_tx
    assert f.location.segment == in_tx + 2
    assert f.location.transaction_control == "0001"


# ---------------------------------------------------------------------------- good documents
def test_good_850_has_no_findings() -> None:
    tx = transaction(GOOD_850)
    assert tx.findings == []
    assert validate_transaction(tx) == []


def test_good_850_in_005010_has_no_findings() -> None:
    assert findings_of(GOOD_850, version="005010") == []


GOOD_856 = [
    "ST*856*0001",
    "BSN*00*SHIP1*20261120*1200",
    "HL*1**S",
    "TD1*CTN25*2",
    "TD5*B*2*UPSN",
    "REF*BM*BOL1",
    "DTM*011*20261120",
    "N1*ST*STORE 42*92*0042",
    "HL*2*1*O",
    "PRF*PO123",
    "HL*3*2*I",
    "LIN**UP*012345678905",
    "SN1**10*EA",
    "HL*4*2*I",
    "LIN**UP*012345678912",
    "SN1**5*EA",
    "CTT*4*15",
]


def test_good_856_has_no_findings() -> None:
    assert findings_of(GOOD_856, functional_id="SH") == []


def test_good_997_and_999() -> None:
    ack997 = [
        "ST*997*0001",
        "AK1*PO*1",
        "AK2*850*0001",
        "AK3*BEG*2**8",
        "AK4*5*373*8*20261340",
        "AK5*R*5",
        "AK9*R*1*1*0",
    ]
    assert findings_of(ack997, functional_id="FA") == []
    ack999 = [
        "ST*999*0001*005010X231A1",
        "AK1*PO*1*005010",
        "AK2*850*0001",
        "IK3*BEG*2**8",
        "CTX*SITUATIONAL TRIGGER^OTHER TRIGGER*BEG*2",
        "IK4*5*373*8*20261340",
        "IK5*R*5",
        "AK9*R*1*1*0",
    ]
    assert findings_of(ack999, version="005010X231A1", functional_id="FA") == []


# ------------------------------------------------------------------------ segment problems
def test_missing_mandatory_segment_is_reported_where_expected() -> None:
    f = only(findings_of(replace(GOOD_850, 1, None)))  # no BEG
    assert f.code is ErrorCode.MANDATORY_SEGMENT_MISSING
    assert f.location.tag == "BEG"
    at(f, 2)  # the REF that came instead
    assert f.value is None
    assert f.extra == {}


def test_missing_mandatory_loop_names_the_loop() -> None:
    body = [s for s in GOOD_850 if not s.startswith(("PO1", "PID"))]
    body[-1] = "CTT*0"
    f = only(findings_of(body))
    assert f.code is ErrorCode.MANDATORY_SEGMENT_MISSING
    assert f.location.tag == "PO1"
    at(f, 9)  # CTT, where the PO1 loop was expected
    assert f.extra == {"loop_id": "PO1"}


def test_segment_over_max_use() -> None:
    body = [*GOOD_850[:4], "PER*IC*A", "PER*IC*B", "PER*IC*C", *GOOD_850[4:]]
    f = only(findings_of(body))
    assert f.code is ErrorCode.SEGMENT_OVER_MAX_USE
    assert f.location.tag == "PER"
    at(f, 7)  # the fourth PER
    assert f.value == "PER"


def test_loop_over_max() -> None:
    sacs = [f"SAC*C*D240***{n}" for n in range(1, 27)]  # the header SAC loop allows 25
    body = GOOD_850[:4] + sacs + GOOD_850[4:]
    f = only(findings_of(body))
    assert f.code is ErrorCode.LOOP_OVER_MAX
    assert f.location.tag == "SAC"
    at(f, 30)
    assert f.extra == {"loop_id": "SAC"}


def test_unknown_segment_does_not_lose_the_place() -> None:
    body = [*GOOD_850[:2], "ZZZ*1*2", *GOOD_850[2:]]
    f = only(findings_of(body))
    # ZZZ is no X12 segment at all: AK304 1, not 6 (which says "a segment, not of this set").
    assert f.code is ErrorCode.UNRECOGNIZED_SEGMENT
    assert f.code.x12 == "1"
    at(f, 3)
    assert f.value == "ZZZ"
    # REF, PER ... after it still match: no further findings at all.


def test_segment_of_another_set_is_not_in_the_set() -> None:
    body = [*GOOD_850[:2], "CLM*A37YH556*500***11:B:1", *GOOD_850[2:]]  # an 837 segment
    f = only(findings_of(body))
    assert f.code is ErrorCode.SEGMENT_NOT_IN_SET
    assert f.code.x12 == "6"
    at(f, 3)
    assert f.value == "CLM"


def test_segment_of_the_set_in_the_wrong_place_is_unexpected() -> None:
    body = [*GOOD_850[:2], "N3*1 MAIN ST", *GOOD_850[2:]]  # N3 only lives in N1 loops
    f = only(findings_of(body))
    assert f.code is ErrorCode.UNEXPECTED_SEGMENT
    at(f, 3)
    assert f.value == "N3"


def test_malformed_segment_id_is_unrecognized() -> None:
    body = [*GOOD_850[:2], "b%G*1", *GOOD_850[2:]]
    f = only(findings_of(body))
    assert f.code is ErrorCode.UNRECOGNIZED_SEGMENT
    at(f, 3)
    assert f.value == "b%G"


def test_segment_out_of_sequence() -> None:
    body = [*GOOD_850[:2], GOOD_850[4], GOOD_850[2], GOOD_850[3], *GOOD_850[5:]]  # DTM, REF, PER
    findings = findings_of(body)
    assert [(f.code, f.location.tag, f.location.segment_in_transaction) for f in findings] == [
        (ErrorCode.SEGMENT_OUT_OF_SEQUENCE, "REF", 4),
        (ErrorCode.SEGMENT_OUT_OF_SEQUENCE, "PER", 5),
    ]
    assert findings[0].location.segment == 6


def test_out_of_sequence_inside_a_loop_carries_the_loop_id() -> None:
    body = [*GOOD_850[:8], "N2*SECOND NAME", *GOOD_850[8:]]  # N2 after N4 in the N1 loop
    f = only(findings_of(body))
    assert f.code is ErrorCode.SEGMENT_OUT_OF_SEQUENCE
    at(f, 9)
    assert f.extra == {"loop_id": "N1"}


def test_every_problem_is_reported_not_just_the_first() -> None:
    body = replace(GOOD_850, 1, "BEG*XX*SA*PO123**20261340")
    body = replace(body, 2, "REF*DP")
    codes = [(f.code, f.location.describe()) for f in findings_of(body)]
    assert codes == [
        (ErrorCode.INVALID_CODE_VALUE, "segment 4 BEG01"),
        (ErrorCode.INVALID_DATE, "segment 4 BEG05"),
        (ErrorCode.CONDITIONAL_ELEMENT_MISSING, "segment 5 REF02"),
    ]


# ------------------------------------------------------------------------ element problems
def element(
    body: list[str], code: ErrorCode, in_tx: int, tag: str, pos: int, value: str | None, ref: str
) -> Finding:
    f = only(findings_of(body))
    assert f.code is code
    at(f, in_tx)
    assert (f.location.tag, f.location.element) == (tag, pos)
    assert f.value == value
    assert f.extra["data_element_ref"] == ref
    return f


def test_missing_mandatory_element() -> None:
    element(
        replace(GOOD_850, 1, "BEG*00**PO123**20261120"),
        ErrorCode.MANDATORY_ELEMENT_MISSING,
        2,
        "BEG",
        2,
        None,
        "92",
    )


def test_bad_code() -> None:
    f = element(
        replace(GOOD_850, 1, "BEG*0X*SA*PO123**20261120"),
        ErrorCode.INVALID_CODE_VALUE,
        2,
        "BEG",
        1,
        "0X",
        "353",
    )
    assert f.code.label == "AK4-7"


def test_bad_code_in_bak02() -> None:
    body = ["ST*855*0001", "BAK*00*XX*PO123*20261120", "PO1*1*10*CA*5.25", "CTT*1*10"]
    element(body, ErrorCode.INVALID_CODE_VALUE, 2, "BAK", 2, "XX", "587")


def test_bad_date() -> None:
    f = element(
        replace(GOOD_850, 1, "BEG*00*SA*PO123**20260230"),
        ErrorCode.INVALID_DATE,
        2,
        "BEG",
        5,
        "20260230",
        "373",
    )
    assert f.code.x12 == "8"


def test_six_digit_date_is_only_accepted_for_pre_4010_versions() -> None:
    body = replace(GOOD_850, 1, "BEG*00*SA*PO123**261120")
    element(body, ErrorCode.INVALID_DATE, 2, "BEG", 5, "261120", "373")
    assert findings_of(body, version="003010") == []


def test_bad_time() -> None:
    element(
        replace(GOOD_850, 4, "DTM*002*20261204*2561"),
        ErrorCode.INVALID_TIME,
        5,
        "DTM",
        3,
        "2561",
        "337",
    )


def test_too_long_and_5010_lengths() -> None:
    long_ref = "REF*DP*" + "9" * 31
    element(
        replace(GOOD_850, 2, long_ref), ErrorCode.ELEMENT_TOO_LONG, 3, "REF", 2, "9" * 31, "127"
    )
    assert (
        findings_of(replace(GOOD_850, 2, long_ref), version="005010") == []
    )  # 127 is 1..50 in 5010


def test_too_short() -> None:
    element(
        replace(GOOD_850, 7, "N4*C*IL*60601*US"), ErrorCode.ELEMENT_TOO_SHORT, 8, "N4", 1, "C", "19"
    )


def test_invalid_character() -> None:
    element(
        replace(GOOD_850, 6, "N3*1 MAIN\x07ST"),
        ErrorCode.INVALID_CHARACTER,
        7,
        "N3",
        1,
        "1 MAIN\x07ST",
        "166",
    )
    element(
        replace(GOOD_850, 8, "PO1*1*1O*CA*5.25*PE*UP*012345678905"),
        ErrorCode.INVALID_CHARACTER,
        9,
        "PO1",
        2,
        "1O",
        "330",
    )


def test_numeric_lengths_do_not_count_sign_and_point() -> None:
    ok = replace(GOOD_850, 8, "PO1*1*-12345678901234.5*CA*5.25*PE*UP*012345678905")
    body = replace(ok, 11, "CTT*2")
    assert findings_of(body) == []  # 15 digits: the maximum for R 1..15
    element(
        replace(body, 8, "PO1*1*1234567890123456*CA*5.25*PE*UP*012345678905"),
        ErrorCode.ELEMENT_TOO_LONG,
        9,
        "PO1",
        2,
        "1234567890123456",
        "330",
    )


def test_element_findings_in_a_loop_carry_loop_id() -> None:
    f = only(findings_of(replace(GOOD_850, 7, "N4*CHICAGO*ILL*60601*US")))
    assert f.extra == {"data_element_ref": "156", "loop_id": "N1"}


def test_too_many_elements() -> None:
    f = only(findings_of(replace(GOOD_850, 2, "REF*DP*042*DESC*IA>1*EXTRA")))
    assert f.code is ErrorCode.TOO_MANY_ELEMENTS
    at(f, 3)
    assert (f.location.element, f.value) == (5, "EXTRA")
    # Trailing empty elements are tolerated.
    assert findings_of(replace(GOOD_850, 2, "REF*DP*042****")) == []


def test_too_many_components() -> None:
    # A simple element holding the component separator (">").
    f = only(findings_of(replace(GOOD_850, 8, "PO1*1*10*CA>X*5.25*PE*UP*012345678905")))
    assert f.code is ErrorCode.TOO_MANY_COMPONENTS
    at(f, 9)
    assert (f.location.element, f.location.component, f.value) == (3, None, "CA>X")
    # A composite with more components than defined: C040 has six.
    f = only(findings_of(replace(GOOD_850, 2, "REF*DP*042**IA>1>IT>2>CT>3>XX")))
    assert f.code is ErrorCode.TOO_MANY_COMPONENTS
    assert (f.location.element, f.location.component) == (4, 7)
    assert f.extra["composite_ref"] == "C040"


def test_composite_components_are_checked() -> None:
    f = only(findings_of(replace(GOOD_850, 2, "REF*DP*042**IA>1>IT")))  # P0304 inside C040
    assert f.code is ErrorCode.CONDITIONAL_ELEMENT_MISSING
    assert (f.location.tag, f.location.element, f.location.component) == ("REF", 4, 4)
    f = only(findings_of(replace(GOOD_850, 2, "REF*DP*042**>1")))  # C04001 mandatory
    assert f.code is ErrorCode.MANDATORY_ELEMENT_MISSING
    assert (f.location.element, f.location.component) == (4, 1)
    assert f.extra["data_element_ref"] == "128"


def test_repetitions_in_5010() -> None:
    # REF02 does not repeat: a repetition separator (^) inside it is an error in 5010 ...
    f = only(findings_of(replace(GOOD_850, 2, "REF*DP*04^2"), version="005010"))
    assert f.code is ErrorCode.TOO_MANY_REPETITIONS
    at(f, 3)
    assert (f.location.element, f.value) == (2, "04^2")
    # ... but plain data in 4010, where ISA11 is not a separator.
    assert findings_of(replace(GOOD_850, 2, "REF*DP*04^2")) == []


def test_too_many_repetitions_of_a_repeating_element() -> None:
    triggers = "^".join(f"T{n}" for n in range(1, 12))  # CTX01 repeats up to 10 times
    body = [
        "ST*999*0001",
        "AK1*PO*1",
        "AK2*850*0001",
        "IK3*BEG*2**8",
        f"CTX*{triggers}",
        "IK5*R*5",
        "AK9*R*1*1*0",
    ]
    f = only(findings_of(body, version="005010X231A1", functional_id="FA"))
    assert f.code is ErrorCode.TOO_MANY_REPETITIONS
    at(f, 5)
    assert (f.location.element, f.location.repetition, f.value) == (1, 11, "T11")


# ------------------------------------------------------------------------------ syntax rules
def rule(body: list[str], code: ErrorCode, in_tx: int, tag: str, pos: int, rule_text: str) -> None:
    f = only(findings_of(body))
    assert f.code is code
    at(f, in_tx)
    assert (f.location.tag, f.location.element) == (tag, pos)
    assert f.message.startswith(rule_text)


def test_rule_paired() -> None:
    rule(
        replace(GOOD_850, 3, "PER*BD*DANA*TE"),
        ErrorCode.CONDITIONAL_ELEMENT_MISSING,
        4,
        "PER",
        4,
        "P0304",
    )


def test_rule_required() -> None:
    rule(
        replace(GOOD_850, 2, "REF*DP"), ErrorCode.CONDITIONAL_ELEMENT_MISSING, 3, "REF", 2, "R0203"
    )


def test_rule_conditional() -> None:
    rule(
        replace(GOOD_850, 7, "N4*CHICAGO*IL*60601*US**DOCK4"),
        ErrorCode.CONDITIONAL_ELEMENT_MISSING,
        8,
        "N4",
        5,
        "C0605",
    )


def test_rule_exclusion() -> None:
    body = [*GOOD_850[:5], "TD3*TL*********ABCD", *GOOD_850[5:]]  # TD301 and TD310
    f = only(findings_of(body))
    assert f.code is ErrorCode.EXCLUSION_VIOLATED
    at(f, 6)
    assert (f.location.tag, f.location.element, f.value) == ("TD3", 10, "ABCD")
    assert f.message.startswith("E0110")


def test_rule_list_conditional() -> None:
    body = [*GOOD_850[:2], "CUR*BY*USD********007", *GOOD_850[2:]]  # CUR10 needs CUR11/12
    rule(body, ErrorCode.CONDITIONAL_ELEMENT_MISSING, 3, "CUR", 11, "L101112")


# -------------------------------------------------------------------------- totals and HL
def test_ctt_line_count_wrong() -> None:
    f = element(
        replace(GOOD_850, 11, "CTT*3*15"), ErrorCode.INVALID_CODE_VALUE, 12, "CTT", 1, "3", "354"
    )
    assert "2 PO1" in f.message


def test_ctt_hash_total_wrong() -> None:
    element(
        replace(GOOD_850, 11, "CTT*2*16"), ErrorCode.INVALID_CODE_VALUE, 12, "CTT", 2, "16", "347"
    )


def test_hash_total_ignores_decimal_points_the_x12_way() -> None:
    body = replace(GOOD_850, 8, "PO1*1*1.5*CA*5.25*PE*UP*012345678905")
    assert findings_of(replace(body, 11, "CTT*2*6.5")) == []  # arithmetic sum
    assert findings_of(replace(body, 11, "CTT*2*20")) == []  # 15 + 5: digits, point ignored


def test_hl_numbering_wrong() -> None:
    body = replace(GOOD_856, 8, "HL*3*1*O")  # HL*2 is numbered 3
    findings = findings_of(body, functional_id="SH")
    first = findings[0]
    assert (first.code, first.location.tag, first.location.element, first.value) == (
        ErrorCode.INVALID_CODE_VALUE,
        "HL",
        1,
        "3",
    )
    at(first, 9)
    assert first.extra == {"data_element_ref": "628"}
    # The next HL reuses 3 and points at parent 2, which no longer exists; so does the last.
    assert [
        (f.location.segment_in_transaction, f.location.element, f.value) for f in findings[1:]
    ] == [
        (11, 1, "3"),
        (11, 2, "2"),
        (14, 2, "2"),
    ]


def test_hl_parent_must_come_first() -> None:
    f = only(findings_of(replace(GOOD_856, 8, "HL*2*3*O"), functional_id="SH"))
    assert (f.location.tag, f.location.element, f.value) == ("HL", 2, "3")
    assert f.extra == {"data_element_ref": "734"}


# ------------------------------------------------------------------------- envelope edges
def test_empty_segment_is_skipped_and_not_counted() -> None:
    """``~~`` after segment 3: SE01 counts the segments written, and the bad DTM written
    5th is AK302 5, though it is the 6th segment of the file's text after the ST."""
    body = [*GOOD_850[:3], "", *replace(GOOD_850, 4, "DTM*002*2026120X")[3:]]
    tx = transaction([*body, f"SE*{len(body)}*0001"], se=False)
    assert [f.code for f in tx.findings] == [ErrorCode.EMPTY_SEGMENT]  # the reader's
    f = only(validate_transaction(tx))
    assert f.code is ErrorCode.INVALID_DATE
    assert (f.location.segment_in_transaction, f.location.segment) == (5, 2 + 6)


def test_st_and_se_elements_are_left_to_the_reader() -> None:
    tx = transaction(replace(GOOD_850, 0, "ST*850*12"))
    assert validate_transaction(tx) == []


def test_missing_se_is_not_reported_twice() -> None:
    tx = transaction(GOOD_850, se=False)
    assert ErrorCode.TRANSACTION_TRAILER_MISSING in [f.code for f in tx.findings]
    assert validate_transaction(tx) == []


def test_unsupported_transaction_set() -> None:
    f = only(findings_of(["ST*940*0001", "W05*N*1"], functional_id="OW"))
    assert f.code is ErrorCode.TRANSACTION_NOT_SUPPORTED
    assert (f.location.segment, f.location.segment_in_transaction, f.value) == (3, 1, "940")


# ---------------------------------------------------------------------------- API contract
@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("004010", ("004010", False, True)),
        ("004010VICS", ("004010", False, True)),
        ("004030", ("004010", False, False)),
        ("005010", ("005010", False, True)),
        ("005010X231A1", ("005010", False, True)),
        ("005040", ("005010", False, False)),
        ("006020", ("005010", False, False)),
        ("003040", ("004010", True, False)),
        ("", ("004010", True, False)),
    ],
)
def test_version_mapping(version: str, expected: tuple[str, bool, bool]) -> None:
    assert spec_version(version) == expected


def test_validator_for_is_cached_and_flags_approximations() -> None:
    v = validator_for("850", "004010")
    assert isinstance(v, TransactionValidator)
    assert v is validator_for("850", "004010VICS")
    assert v.family == "004010" and not v.approximate
    old = validator_for("850", "003050")
    assert old is not None and old.approximate and old.legacy_dates
    assert validator_for("940", "004010") is None
    assert validator_for("999", "005010") is not None


# ---------------------------------------------------------------------------------- overlays
ACME = Overlay(
    name="acme",
    required_segments=(RequiredSegment("REF", where={"REF01": "IA"}),),
    required_elements=("PER02",),
    codes={"PO103": ("EA", "CA")},
    max_lengths={"N102": 10},
    loop_max={"PO1": 2},
)


def test_overlay_passes_a_conforming_order() -> None:
    body = [*GOOD_850[:3], "REF*IA*VENDOR1", *GOOD_850[3:]]
    body = replace(body, 6, "N1*ST*STORE 42*92*0042")
    assert validate_transaction(transaction(body), ACME) == []


def test_overlay_required_segment_with_qualifier() -> None:
    f = only(validate_transaction(transaction(GOOD_850), ACME))
    assert f.code is ErrorCode.MANDATORY_SEGMENT_MISSING
    assert f.location.tag == "REF"
    at(f, 4)  # the PER: the first segment past the REF position
    assert "REF01=IA" in f.message


def test_overlay_required_element_codes_length_and_loop_max() -> None:
    body = [*GOOD_850[:3], "REF*IA*VENDOR1", "PER*BD**TE*5551234", *GOOD_850[4:]]
    body = replace(body, 6, "N1*ST*STORE NUMBER 42*92*0042")
    body = replace(body, 9, "PO1*1*10*PK*5.25*PE*UP*012345678905")
    body = [*body[:-1], "PO1*3*1*EA*1", "CTT*3*16"]
    got = [
        (f.code, f.location.describe(), f.value)
        for f in validate_transaction(transaction(body), ACME)
    ]
    assert got == [
        (ErrorCode.MANDATORY_ELEMENT_MISSING, "segment 7 PER02", None),
        (ErrorCode.ELEMENT_TOO_LONG, "segment 9 N102", "STORE NUMBER 42"),
        (ErrorCode.INVALID_CODE_VALUE, "segment 12 PO103", "PK"),
        (ErrorCode.LOOP_OVER_MAX, "segment 15 PO1", "PO1"),
    ]


def test_overlay_requires_a_plain_segment_and_scopes_to_loops() -> None:
    overlay = Overlay(
        required_segments=(RequiredSegment("PID", loop="PO1"),),
        max_lengths={"PO1/PID05": 5},
    )
    got = [
        (f.code, f.location.describe())
        for f in validate_transaction(transaction(GOOD_850), overlay)
    ]
    assert got == [
        (ErrorCode.ELEMENT_TOO_LONG, "segment 12 PID05"),
        (ErrorCode.MANDATORY_SEGMENT_MISSING, "segment 14 PID"),  # second PO1 has none
    ]


def test_overlay_compiles_once_per_object() -> None:
    assert validator_for("850", "004010", ACME) is validator_for("850", "004010", ACME)
    twin = Overlay(name="acme", codes={"PO103": ("EA", "CA")})
    assert validator_for("850", "004010", twin) is not validator_for("850", "004010", ACME)
    assert validator_for("850", "004010", ACME) is not validator_for("850", "004010")


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        (Overlay(codes={"ZZZ01": ("A",)}), "ZZZ"),
        (Overlay(codes={"PO103": ("TOOLONG",)}), "do not fit"),
        (Overlay(max_lengths={"N102": 0}), "below the minimum"),
        (Overlay(loop_max={"XYZ": 3}), "loop XYZ"),
        (Overlay(required_segments=(RequiredSegment("N3"),)), "not a segment of loop header"),
        (Overlay(required_elements=("BEG99",)), "BEG has 12 elements"),
    ],
)
def test_overlay_mistakes_are_config_errors(overlay: Overlay, message: str) -> None:
    """Strictly applied (as partners check does when a map loads), a mistake is an error;
    the validator, meeting it on a file of another version family, validates without it
    rather than failing every document."""
    with pytest.raises(SpecError, match=message):
        apply_overlay(load_transaction("850", "004010"), overlay)
    assert validator_for("850", "004010", overlay) is not None


def test_an_overlay_key_of_another_family_is_passed_over_on_what_arrives() -> None:
    """max_segments {IN2: 2} matches nothing in the 850: a load-time problem, but at run
    time the rest of the overlay still applies (here: PO103 codes)."""
    overlay = Overlay(codes={"PO103": ("EA",)}, segment_max={"IN2": 2})
    with pytest.raises(SpecError, match="max_segments IN2 matches no segment"):
        apply_overlay(load_transaction("850", "004010"), overlay)
    validator = validator_for("850", "004010", overlay)
    assert validator is not None
    assert validate_transaction(transaction(GOOD_850)) == []
    found = validate_transaction(transaction(GOOD_850), overlay)  # its PO103 is CA
    assert [(f.location.tag, f.location.element) for f in found] == [("PO1", 3)]


def test_a_nul_in_an_element_is_a_control_character_not_a_repetition() -> None:
    """004010 has no repetition separator; the validator's stand-in for none is NUL, so a
    NUL in the data was reported as 'holds repetitions' (AK4-12, written as AK4*...*3)."""
    body = [s.replace("PER*BD*DANA", "PER*BD*DA\x00NA") for s in GOOD_850]
    (finding,) = validate_transaction(transaction(body))
    assert finding.code is ErrorCode.INVALID_CHARACTER
    assert (finding.location.tag, finding.location.element) == ("PER", 2)
    assert "control or undecodable character" in finding.message
