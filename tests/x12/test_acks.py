"""997/999/TA1: building from findings, parsing what partners send, and the round trip.

Inbound files are written out here segment by segment, so each test shows the X12 it
acknowledges. Validator findings are made by hand in the shape the validator emits them
(segment and element positions, ``loop_id`` / ``data_element_ref`` in ``extra``).
Every ack built here goes through :func:`round_trip`: our reader must find no error in it
and our parser must read back exactly the rows the builder wrote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.errors import X12Error
from edigate.x12 import (
    ErrorCode,
    Finding,
    Level,
    Location,
    Separators,
    Severity,
    TransactionSet,
    X12Reader,
    validate_transaction,
)
from edigate.x12.acks import (
    AckBuilder,
    Acknowledgements,
    AckOptions,
    CounterControlNumbers,
    ElementError,
    GroupAck,
    InterchangeAck,
    SegmentError,
    acknowledge,
    parse_acks,
)

STAMP = dt.datetime(2026, 11, 23, 9, 30)
OPTIONS = AckOptions(timestamp=STAMP)
ISA = (
    "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *261120*1405*{rep}*"
    "{version}*{control}*{ack}*{usage}*>~\n"
)


# ---------------------------------------------------------------------- inbound builders
def tx(control: str, set_id: str = "850", st03: str | None = None, body: str | None = None) -> str:
    """An 850 of five segments: ST, BEG, PO1 (position 3), CTT, SE."""
    lines = (
        body
        if body is not None
        else f"BEG*00*SA*PO{control}**20261120~\nPO1*1*10*EA*2.5**VN*W1~\nCTT*1~\n"
    )
    count = 2 + lines.count("~")
    st = f"ST*{set_id}*{control}" + (f"*{st03}" if st03 else "") + "~\n"
    return f"{st}{lines}SE*{count}*{control}~\n"


def group(
    *txs: str,
    gs06: str = "101",
    functional: str = "PO",
    version: str = "004010",
    sender: str = "BUYERAPP",
    receiver: str = "SELLERAPP",
    ge: bool = True,
) -> str:
    gs = f"GS*{functional}*{sender}*{receiver}*20261120*1405*{gs06}*X*{version}~\n"
    return gs + "".join(txs) + (f"GE*{len(txs)}*{gs06}~\n" if ge else "")


def interchange(
    *groups: str,
    control: str = "000000101",
    ack: str = "0",
    usage: str = "P",
    version: str = "00401",
    iea_control: str | None = None,
    iea_count: int | None = None,
    iea: bool = True,
) -> bytes:
    rep = "^" if version >= "00402" else "U"
    head = ISA.format(rep=rep, version=version, control=control, ack=ack, usage=usage)
    count = len(groups) if iea_count is None else iea_count
    tail = f"IEA*{count}*{iea_control or control}~\n" if iea else ""
    return (head + "".join(groups) + tail).encode()


def three_pos(**kw: object) -> bytes:
    return interchange(group(tx("0001"), tx("0002"), tx("0003"), **kw))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- findings (validator shape)
def element(
    code: ErrorCode,
    position: int,
    tag: str,
    el: int,
    value: str | None = None,
    *,
    ref: str | None = None,
    component: int | None = None,
    repetition: int | None = None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    extra = {"data_element_ref": ref} if ref else {}
    loc = Location(
        tag=tag,
        element=el,
        component=component,
        repetition=repetition,
        segment_in_transaction=position,
    )
    return Finding(code, loc, f"{tag}{el:02d} bad", value=value, severity=severity, extra=extra)


def segment(
    code: ErrorCode,
    position: int,
    tag: str,
    *,
    loop: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    extra = {"loop_id": loop} if loop else {}
    loc = Location(tag=tag, segment_in_transaction=position)
    return Finding(code, loc, f"{tag} bad", severity=severity, extra=extra)


# ---------------------------------------------------------------------- checks
def all_findings(data: bytes) -> list[Finding]:
    """Every finding the reader reports anywhere in ``data``."""
    out: list[Finding] = []
    for event in X12Reader(data).events():
        if isinstance(event, Finding):
            out.append(event)
        else:
            out.extend(getattr(event, "findings", []))
    return out


def round_trip(result: Acknowledgements) -> Acknowledgements:
    """Our reader finds no error in what we built; our parser reads back the same rows."""
    for out in result.outputs:
        if out.functional is not None:
            errors = [f for f in all_findings(out.functional) if f.is_error]
            assert errors == [], [str(f) for f in errors]
            parsed = parse_acks(out.functional)
            assert parsed.errors == [], [str(f) for f in parsed.errors]
            assert parsed.groups == out.groups
        if out.technical is not None:
            errors = [f for f in all_findings(out.technical) if f.is_error]
            assert errors == [], [str(f) for f in errors]
            parsed = parse_acks(out.technical)
            assert parsed.errors == [], [str(f) for f in parsed.errors]
            assert parsed.technical == [out.ta1]
            assert parsed.groups == []
    return result


def build(
    data: bytes,
    kind: str | None = "997",
    findings: dict[str, list[Finding]] | None = None,
    **options: object,
) -> Acknowledgements:
    opts = AckOptions(timestamp=STAMP, **options)  # type: ignore[arg-type]
    table = findings or {}
    result = acknowledge(
        data,
        kind,  # type: ignore[arg-type]
        control_numbers=CounterControlNumbers(),
        validate=lambda t: table.get(t.control_number, []),
        options=opts,
    )
    return round_trip(result)


def lines(data: bytes) -> list[str]:
    return [s.strip() for s in data.decode().split("~") if s.strip()]


def body(data: bytes) -> list[str]:
    """The segments between ST and SE of a one-transaction ack."""
    segs = lines(data)
    start = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    return segs[start + 1 : end]


# ---------------------------------------------------------------------- statuses
@pytest.mark.parametrize("kind", ["997", "999"])
def test_clean_group_accepts_every_transaction(kind: str) -> None:
    result = build(three_pos(), kind)
    five = "IK5" if kind == "999" else "AK5"
    ak1 = "AK1*PO*101*004010" if kind == "999" else "AK1*PO*101"
    assert body(result.functional) == [
        ak1,
        "AK2*850*0001",
        f"{five}*A",
        "AK2*850*0002",
        f"{five}*A",
        "AK2*850*0003",
        f"{five}*A",
        "AK9*A*3*3*3",
    ]
    (g,) = result.groups
    assert (g.status, g.declared, g.received, g.accepted, g.rejected) == ("A", 3, 3, 3, [])
    assert result.technical == b""  # clean and no TA1 requested


def test_one_bad_transaction_of_three_is_partial() -> None:
    bad = element(ErrorCode.INVALID_CODE_VALUE, 3, "PO1", 3, "XX", ref="355")
    bad = replace(bad, extra={**bad.extra, "loop_id": "PO1"})
    result = build(three_pos(), "997", {"0002": [bad]})
    assert body(result.functional) == [
        "AK1*PO*101",
        "AK2*850*0001",
        "AK5*A",
        "AK2*850*0002",
        "AK3*PO1*3*PO1*8",
        "AK4*3*355*7*XX",
        "AK5*R*5",
        "AK2*850*0003",
        "AK5*A",
        "AK9*P*3*3*2",
    ]
    (g,) = result.groups
    assert [t.control_number for t in g.rejected] == ["0002"]
    (seg,) = g.rejected[0].segment_errors
    assert seg == SegmentError(
        "PO1", 3, "PO1", "8", (ElementError(3, None, None, "355", "7", "XX"),)
    )


def test_all_rejected_group_is_rejected() -> None:
    f = element(ErrorCode.MANDATORY_ELEMENT_MISSING, 2, "BEG", 3)
    result = build(three_pos(), "997", {c: [f] for c in ("0001", "0002", "0003")})
    assert body(result.functional)[-1] == "AK9*R*3*3*0"
    assert [t.status for t in result.groups[0].transactions] == ["R", "R", "R"]
    assert body(result.functional)[2:5] == ["AK3*BEG*2**8", "AK4*3**1", "AK5*R*5"]


def test_missing_group_trailer_is_ak905_3() -> None:
    data = interchange(group(tx("0001"), tx("0002"), ge=False))
    result = build(data, "997")
    # The group is rejected whole: no set of it is accepted (AK904 0, AK5 R).
    assert body(result.functional)[-4:-1] == ["AK5*R", "AK2*850*0002", "AK5*R"]
    assert body(result.functional)[-1] == "AK9*R*2*2*0*3"
    assert result.groups[0].codes == ("3",)


def test_group_count_and_control_mismatch_codes() -> None:
    text = three_pos().decode().replace("GE*3*101", "GE*4*102")
    result = build(text.encode(), "999")
    assert body(result.functional)[-1] == "AK9*R*4*3*0*5*4"
    assert [t.status for t in result.groups[0].transactions] == ["R", "R", "R"]


def test_warnings_only_are_accepted_with_errors_noted() -> None:
    warn = element(
        ErrorCode.INVALID_CODE_VALUE, 3, "PO1", 3, "ZZ", ref="355", severity=Severity.WARNING
    )
    result = build(three_pos(), "997", {"0001": [warn]})
    assert body(result.functional)[:5] == [
        "AK1*PO*101",
        "AK2*850*0001",
        "AK3*PO1*3**8",
        "AK4*3*355*7*ZZ",
        "AK5*E*5",
    ]
    assert body(result.functional)[-1] == "AK9*E*3*3*3"
    assert result.groups[0].transactions[0].accepted
    quiet = build(three_pos(), "997", {"0001": [warn]}, note_warnings=False)
    assert body(quiet.functional)[:3] == ["AK1*PO*101", "AK2*850*0001", "AK5*A"]
    assert body(quiet.functional)[-1] == "AK9*A*3*3*3"


def test_ak404_value_is_sanitized() -> None:
    nasty = "A*B~C>D\nE" + "x" * 200
    f = element(ErrorCode.ELEMENT_TOO_LONG, 2, "BEG", 3, nasty, ref="324")
    result = build(three_pos(), "997", {"0001": [f]})
    ak4 = next(s for s in body(result.functional) if s.startswith("AK4"))
    value = ak4.split("*")[4]
    assert value == ("A B C D E" + "x" * 200)[:99]
    assert len(value) == 99


def test_missing_mandatory_segment_names_tag_and_expected_position() -> None:
    f = segment(ErrorCode.MANDATORY_SEGMENT_MISSING, 4, "CTT", loop="PO1")
    g = segment(ErrorCode.UNRECOGNIZED_SEGMENT, 3, "PO1")
    h = element(ErrorCode.INVALID_DATE, 2, "BEG", 5, "20261399", ref="373")
    result = build(three_pos(), "997", {"0003": [f, g, h]})
    assert body(result.functional)[5:11] == [
        "AK2*850*0003",
        "AK3*BEG*2**8",
        "AK4*5*373*8*20261399",
        "AK3*PO1*3**1",
        "AK3*CTT*4*PO1*3",
        "AK5*R*5",
    ]


def test_segment_error_with_element_errors_keeps_its_own_code() -> None:
    findings = [
        segment(ErrorCode.SEGMENT_OUT_OF_SEQUENCE, 3, "PO1"),
        element(ErrorCode.ELEMENT_TOO_SHORT, 3, "PO1", 2, "1"),
    ]
    result = build(three_pos(), "997", {"0001": findings})
    assert body(result.functional)[2:5] == ["AK3*PO1*3**7", "AK4*2**4*1", "AK5*R*5"]


def test_reader_findings_become_ak5_codes() -> None:
    text = three_pos().decode()
    text = text.replace("SE*5*0002", "SE*9*0002").replace("SE*5*0003", "SE*5*0033")
    result = build(text.encode(), "997")
    rows = {t.control_number: (t.status, t.codes) for t in result.groups[0].transactions}
    assert rows == {"0001": ("A", ()), "0002": ("R", ("4",)), "0003": ("R", ("3",))}
    assert body(result.functional)[-1] == "AK9*P*3*3*1"


def test_ak5_carries_at_most_five_codes() -> None:
    codes = [
        ErrorCode.TRANSACTION_NOT_SUPPORTED,
        ErrorCode.TRANSACTION_TRAILER_MISSING,
        ErrorCode.TRANSACTION_CONTROL_MISMATCH,
        ErrorCode.SEGMENT_COUNT_MISMATCH,
        ErrorCode.INVALID_TRANSACTION_ID,
        ErrorCode.INVALID_TRANSACTION_CONTROL_NUMBER,
    ]
    findings = [Finding(c, Location(segment_in_transaction=1, tag="ST"), "x") for c in codes]
    result = build(three_pos(), "997", {"0001": findings})
    assert result.groups[0].transactions[0].codes == ("1", "2", "3", "4", "6")


def test_999_carries_versions_and_repetition_position() -> None:
    data = interchange(
        group(tx("0001", st03="005010X999"), tx("0002"), version="005010X999"),
        version="00501",
    )
    f = element(ErrorCode.TOO_MANY_REPETITIONS, 3, "PO1", 7, "W1", ref="234", repetition=2)
    result = build(data, "999", {"0001": [f]})
    segs = lines(result.functional)
    assert segs[0][82:89] == "^*00501"  # ISA11 repetition separator, ISA12
    assert segs[1].endswith("*X*005010X231A1")
    assert segs[2] == "ST*999*0001*005010X231A1"
    assert body(result.functional)[:5] == [
        "AK1*PO*101*005010X999",
        "AK2*850*0001*005010X999",
        "IK3*PO1*3**8",
        "IK4*7>>2*234*12*W1",
        "IK5*R*5",
    ]
    assert result.groups[0].version == "005010X999"


def test_997_maps_5010_only_element_codes() -> None:
    f = element(ErrorCode.TOO_MANY_COMPONENTS, 3, "PO1", 7, "W1", component=3, repetition=2)
    result = build(three_pos(), "997", {"0001": [f]})
    assert "AK4*7>3**3*W1" in body(result.functional)  # C030 has no repetition in 4010


# ---------------------------------------------------------------------- envelopes
def test_envelope_swaps_parties_and_takes_numbers_from_the_sequence() -> None:
    data = interchange(group(tx("0001")), usage="T")
    numbers = CounterControlNumbers(interchange=500, group=70, transaction=9000)
    result = acknowledge(data, "997", control_numbers=numbers, options=OPTIONS)
    segs = lines(result.functional)
    assert segs[0] == (
        "ISA*00*          *00*          *ZZ*SELLER         *ZZ*BUYER          *261123*0930*U*"
        "00401*000000500*0*T*>"
    )
    assert segs[1] == "GS*FA*SELLERAPP*BUYERAPP*20261123*0930*70*X*004010"
    assert segs[2] == "ST*997*9000"
    assert segs[-3:] == ["SE*6*9000", "GE*1*70", "IEA*1*000000500"]
    assert result.groups[0].ack_control_number == "9000"
    assert numbers.next_interchange() == 501  # the ack used exactly one of each
    assert numbers.next_group() == 71
    assert numbers.next_transaction() == 9001


def test_mirrors_inbound_separators_and_honours_an_override() -> None:
    text = three_pos().decode().replace("*", "|").replace("~\n", "!\r\n").replace("|>!", "|^!")
    mirrored = build(text.encode(), "997")
    assert mirrored.functional.decode().splitlines()[1].startswith("GS|FA|SELLERAPP")
    assert mirrored.functional.decode().split("\r\n")[0].endswith("|^!")
    seps = Separators("*", ":", "~", "^", "\n")
    chosen = build(text.encode(), "999", separators=seps)
    assert chosen.functional.decode().startswith("ISA*00*")
    assert lines(chosen.functional)[0].endswith("*^*00501*000000001*0*P*:")


def test_groups_share_an_fa_group_only_with_the_same_application_codes() -> None:
    same = interchange(group(tx("0001"), gs06="1"), group(tx("0001"), gs06="2"))
    result = build(same, "997")
    segs = lines(result.functional)
    assert [s.split("*")[0] for s in segs].count("GS") == 1
    assert "GE*2*1" in segs
    assert [g.control_number for g in result.groups] == ["1", "2"]
    other = interchange(group(tx("0001"), gs06="1"), group(tx("0001"), gs06="2", sender="DC2"))
    result = build(other, "997")
    segs = lines(result.functional)
    assert [s for s in segs if s.startswith("GS")] == [
        "GS*FA*SELLERAPP*BUYERAPP*20261123*0930*1*X*004010",
        "GS*FA*SELLERAPP*DC2*20261123*0930*2*X*004010",
    ]
    assert lines(result.functional)[-1] == "IEA*2*000000001"


def test_acks_are_not_acknowledged() -> None:
    ack = "ST*997*0001~\nAK1*PO*7~\nAK9*A*1*1*1~\nSE*4*0001~\n"
    data = interchange(group(ack, functional="FA", gs06="9"), group(tx("0001"), gs06="10"))
    result = build(data, "997")
    assert [g.control_number for g in result.groups] == ["10"]


def test_streaming_builder_returns_rows_as_it_goes() -> None:
    builder = AckBuilder("999", CounterControlNumbers(), OPTIONS)
    rows = []
    outputs = []
    bad = element(ErrorCode.INVALID_CODE_VALUE, 3, "PO1", 3, "XX")
    for event in X12Reader(three_pos()).events():
        if isinstance(event, TransactionSet):
            rows.append(builder.transaction(event, [bad] if event.control_number == "0002" else []))
        else:
            out = builder.feed(event)
            if out is not None:
                outputs.append(out)
    assert [r.status for r in rows if r is not None] == ["A", "R", "A"]
    (out,) = outputs
    assert out.groups[0].status == "P"
    assert out.functional is not None and out.technical is None
    assert out.ta1 == InterchangeAck("000000101", "261120", "1405", "A", "000")


def test_builder_refuses_events_out_of_order() -> None:
    builder = AckBuilder("997")
    events = list(X12Reader(three_pos()).events())
    with pytest.raises(X12Error):
        builder.feed(events[1])  # a GS before any ISA
    with pytest.raises(X12Error):
        AckBuilder("850")  # type: ignore[arg-type]


def test_control_number_counter_wraps_at_nine_digits() -> None:
    numbers = CounterControlNumbers(interchange=999_999_999)
    assert [numbers.next_interchange() for _ in range(2)] == [999_999_999, 1]


# ---------------------------------------------------------------------- TA1
def test_ta1_for_control_number_mismatch_answers_alone() -> None:
    """A TA1 R sends the whole interchange back: a 997 accepting its (fine) group beside it
    would tell a partner that reconciles by 997 that the PO was taken."""
    data = interchange(group(tx("0001")), iea_control="000000999")
    result = build(data, "997")
    assert lines(result.technical)[1] == "TA1*000000101*261120*1405*R*001"
    assert lines(result.technical)[2] == "IEA*0*000000002"
    assert result.outputs[0].ta1.status == "R"
    assert result.groups == [] and result.functional == b""
    # With no TA1 sent (the partner's policy), the 997 of the readable group is the answer.
    quiet = build(data, "997", ta1="never")
    assert quiet.technical == b"" and quiet.outputs[0].ta1.status == "R"
    assert [g.status for g in quiet.groups] == ["A"]


def test_ta1_requested_for_a_clean_interchange_is_accepted() -> None:
    result = build(interchange(group(tx("0001")), ack="1"), "999")
    assert lines(result.technical)[1] == "TA1*000000101*261120*1405*A*000"
    assert lines(result.technical)[0][82:89] == "^*00501"


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (interchange(group(tx("0001")), iea=False), "023"),
        (interchange(group(tx("0001")), iea_count=3), "021"),
    ],
)
def test_ta1_notes_envelope_errors(data: bytes, note: str) -> None:
    result = build(data, "997")
    assert lines(result.technical)[1] == f"TA1*000000101*261120*1405*R*{note}"
    assert result.groups == []  # the TA1 R answers alone
    assert [g.status for g in build(data, "997", ta1="never").groups] == ["A"]


def test_ta1_policies() -> None:
    mismatch = interchange(group(tx("0001")), iea_control="000000999", ack="0")
    requested = interchange(group(tx("0001")), ack="1")
    assert build(mismatch, "997", ta1="never").technical == b""
    assert build(mismatch, "997", ta1="on_request").technical == b""
    assert build(requested, "997", ta1="on_error").technical == b""
    assert build(requested, "997", ta1="on_request").technical != b""
    clean = interchange(group(tx("0001")))
    assert lines(build(clean, "997", ta1="always").technical)[1].endswith("*A*000")


def test_ta1_only() -> None:
    result = build(interchange(group(tx("0001")), ack="1"), None)
    assert result.functional == b""
    assert lines(result.technical)[1] == "TA1*000000101*261120*1405*A*000"


def test_ta1_for_an_unusable_isa() -> None:
    text = interchange(group(tx("0001"))).decode().replace("*>~\n", "*A~\n", 1)
    result = build(text.encode(), "997")
    assert result.functional == b""
    assert lines(result.technical)[1] == "TA1*000000101*261120*1405*R*027"
    assert any(f.code is ErrorCode.NO_INTERCHANGE for f in result.findings)


def test_transaction_outside_a_group_is_an_interchange_error() -> None:
    data = interchange(tx("0009"), group(tx("0001")), iea_count=1)
    result = build(data, "997")
    assert lines(result.technical)[1].endswith("*R*024")
    assert result.groups == []
    assert [g.received for g in build(data, "997", ta1="never").groups] == [1]


def test_warning_only_interchange_is_noted_when_a_ta1_is_asked_for() -> None:
    data = interchange(group(tx("0001")), ack="1", iea_control="101")  # same number, unpadded
    result = build(data, "997")
    assert lines(result.technical)[1] == "TA1*000000101*261120*1405*E*001"


# ---------------------------------------------------------------------- round trip (property)
_CODES = [c for c in ErrorCode if c.level in (Level.SEGMENT, Level.ELEMENT, Level.TRANSACTION)]
_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120)


@st.composite
def findings_for(draw: st.DrawFn) -> list[Finding]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        code = draw(st.sampled_from(_CODES))
        position = draw(st.integers(1, 5))
        tag = draw(st.sampled_from(["BEG", "PO1", "CTT", "N1", "REF"]))
        el = draw(st.integers(1, 20))
        loc = Location(
            tag=tag,
            element=el,
            component=draw(st.none() | st.integers(1, 9)),
            repetition=draw(st.none() | st.integers(1, 9)),
            segment_in_transaction=position,
        )
        extra: dict[str, object] = {}
        if draw(st.booleans()):
            extra["loop_id"] = draw(st.sampled_from(["PO1", "N1", "2000A", "*~"]))
        if draw(st.booleans()):
            extra["data_element_ref"] = draw(st.sampled_from(["355", "12345", "x"]))
        severity = draw(st.sampled_from(list(Severity)))
        out.append(Finding(code, loc, "m", draw(st.none() | _TEXT), severity, extra))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["997", "999"]),
    a=findings_for(),
    b=findings_for(),
    note=st.booleans(),
)
def test_any_findings_round_trip(kind: str, a: list[Finding], b: list[Finding], note: bool) -> None:
    result = build(three_pos(), kind, {"0001": a, "0003": b}, note_warnings=note)
    (g,) = result.groups
    for row, found in zip(g.transactions, (a, [], b), strict=True):
        errors = any(f.is_error for f in found)
        noted = any(not f.is_error for f in found) and note
        assert row.status == ("R" if errors else "E" if noted else "A")
    assert g.accepted == sum(t.accepted for t in g.transactions)


# ---------------------------------------------------------------------- parsing partners' acks
CORPUS_GROUPS = {
    "x12-997/bots__997_1.x12": [("997", "PO", "214", "A", 1, 1, 1, [("850", "000000390", "A")])],
    "x12-997/stupidedi__004010_FA997_1.edi": [
        ("997", "AG", "160", "A", 1, 1, 1, [("824", "0160", "A")])
    ],
    "x12-997/staedi__simple997.edi": [
        ("997", "HC", "000001", "R", 1, 1, 0, [("837", "0021", "R")])
    ],
    "x12-997/staedi__optionalInterchangeServices.edi": [("997", "HC", "000001", "A", 1, 1, 1, [])],
    "x12-997/staedi__extraDelimiter997.edi": [
        ("997", "HC", "000001", "R", 1, 1, 0, [("837", "0021", "R")])
    ],
    "x12-999/staedi__simple999.edi": [
        (
            "999",
            "HC",
            "17456",
            "P",
            3,
            3,
            1,
            [("837", "0001", "A"), ("837", "0002", "R"), ("837", "0003", "R")],
        )
    ],
    "x12-999/oopfactory__DHS_Wisconsin_Sample.txt": [
        (
            "999",
            "HC",
            "17456",
            "P",
            3,
            3,
            1,
            [("837", "0001", "A"), ("837", "002", "R"), ("837", "0003", "R")],
        )
    ],
    "x12-999/stupidedi__X231A1_999_3-837s.edi": [
        (
            "999",
            "HC",
            "17456",
            "P",
            3,
            3,
            1,
            [("837", "0001", "A"), ("837", "0002", "R"), ("837", "0003", "R")],
        )
    ],
    "x12-999/pyx12__834_ls_le_ls_5010.999.txt": [
        ("999", "BE", "146", "A", 1, 1, 1, [("834", "146001", "A")])
    ],
    "x12-999/pyx12__834_lui_id_5010.999.txt": [
        ("999", "BE", "13360001", "A", 1, 1, 1, [("834", "0001", "A")])
    ]
    * 4,
}


def _summary(g: GroupAck) -> tuple[object, ...]:
    return (
        g.kind,
        g.functional_id,
        g.control_number,
        g.status,
        g.declared,
        g.received,
        g.accepted,
        [(t.set_id, t.control_number, t.status) for t in g.transactions],
    )


@pytest.mark.parametrize("name", sorted(CORPUS_GROUPS))
def test_parse_corpus_acks(corpus_dir: Path, name: str) -> None:
    acks = parse_acks((corpus_dir / name).read_bytes())
    assert [_summary(g) for g in acks.groups] == CORPUS_GROUPS[name]


def test_parse_corpus_ack_details(corpus_dir: Path) -> None:
    (g,) = parse_acks((corpus_dir / "x12-997/staedi__simple997.edi").read_bytes()).groups
    (t,) = g.transactions
    assert t.codes == ("5",)
    assert t.segment_errors == (
        SegmentError("NM1", 8, None, "8", (ElementError(8, None, None, "66", "7", "MI"),)),
    )
    (g,) = parse_acks((corpus_dir / "x12-999/staedi__simple999.edi").read_bytes()).groups
    assert g.version == "005010X222"
    second, third = g.transactions[1], g.transactions[2]
    assert second.segment_errors[0].tag == "CLM"
    assert second.segment_errors[0].elements == (ElementError(2, None, None, "782", "1", None),)
    assert second.segment_errors[0].context == (("CLM01:123456789",),)
    assert (third.segment_errors[0].tag, third.segment_errors[0].code) == ("REF", "3")
    assert len(third.segment_errors[0].context) == 2
    many = parse_acks(
        (corpus_dir / "x12-997/staedi__simple997-multiple-interchanges.edi").read_bytes()
    )
    assert [(i.control_number, [g.status for g in i.groups]) for i in many.interchanges] == [
        ("000000001", ["R"]),
        ("000000002", ["R"]),
        ("000000003", ["R"]),
    ]
    six = parse_acks((corpus_dir / "x12-997/bots__997_6.x12").read_bytes())
    assert [(g.ack_control_number, g.status, g.accepted) for g in six.groups] == [
        ("0007", "A", 2),
        ("0008", "A", 2),
        ("0044", "A", 2),
        ("0045", "A", 2),
    ]


def test_parse_corpus_odd_acks_give_findings(corpus_dir: Path) -> None:
    empty = parse_acks((corpus_dir / "x12-997/staedi__empty997.edi").read_bytes())
    assert empty.groups == []
    assert any(
        f.code is ErrorCode.MANDATORY_SEGMENT_MISSING and f.location.tag == "AK1"
        for f in empty.errors
    )
    extra = parse_acks((corpus_dir / "x12-997/staedi__extraDelimiter997.edi").read_bytes())
    assert any(f.code is ErrorCode.INVALID_CHARACTER for f in extra.errors)  # AK302 'AK302-R1^..'
    expected = {
        "staedi__invalid997.edi": {
            (ErrorCode.INVALID_CODE_VALUE, "AK1"),  # AK101 'HC NOT IN CODESET'
            (ErrorCode.INVALID_CHARACTER, "AK4"),  # AK402 '66 NON NUMERIC'
        },
        "staedi__invalid999.edi": {
            (ErrorCode.UNEXPECTED_SEGMENT, "IK5"),  # IK5 before AK1
            (ErrorCode.TOO_MANY_ELEMENTS, "AK2"),
            (ErrorCode.INVALID_CODE_VALUE, "IK5"),  # IK5*Q
        },
        "staedi__invalid997_min.edi": {(ErrorCode.INVALID_CODE_VALUE, "AK1")},
    }
    for name, codes in expected.items():
        parsed = parse_acks((corpus_dir / "malformed" / name).read_bytes())
        assert codes <= {(f.code, f.location.tag) for f in parsed.errors}, name
        assert len(parsed.groups) == 1, name  # what could be read is still there


TA1_FILES: dict[str, list[tuple[str, str, str | None]]] = {
    "oboe__justTA1TestCase.edi": [("723010635", "R", "024")],
    "staedi__x12_interchange_ack.txt": [("000000050", "A", "000")],
    "oboe__withTA1TestCase.edi": [("723010535", "R", "024")],
    "oopfactory__TechnicalAcknowledgment_Sample1.txt": [("0659", "A", None), ("0660", "A", None)],
    "oopfactory__TechnicalAcknowledgment_SampleFromJeffN825.txt": [("900000001", "R", "006")],
}


@pytest.mark.parametrize("name", sorted(TA1_FILES))
def test_parse_corpus_ta1(corpus_dir: Path, name: str) -> None:
    acks = parse_acks((corpus_dir / "x12-other" / name).read_bytes())
    assert [(t.control_number, t.status, t.note_code) for t in acks.technical] == TA1_FILES[name]
    assert acks.groups == []
    missing_note = [f for f in acks.errors if f.location.tag == "TA1" and f.location.element == 5]
    assert bool(missing_note) == (TA1_FILES[name][0][2] is None)


def test_parse_ta1_with_group_reports_the_non_ack(corpus_dir: Path) -> None:
    acks = parse_acks((corpus_dir / "x12-other/oboe__withTA1TestCase.edi").read_bytes())
    assert any(f.code is ErrorCode.TRANSACTION_NOT_SUPPORTED for f in acks.errors)


def _ack_file(*segments: str, set_id: str = "997") -> bytes:
    inner = "".join(s + "~\n" for s in segments)
    count = len(segments) + 2
    st = f"ST*{set_id}*0001~\n{inner}SE*{count}*0001~\n"
    return interchange(_fa_group(st))


def _fa_group(st_se: str) -> str:
    return f"GS*FA*A*B*20261120*1405*5*X*004010~\n{st_se}GE*1*5~\n"


@pytest.mark.parametrize(
    ("segments", "code", "tag"),
    [
        (["AK1*PO*7", "AK2*850*0001", "AK9*R*1*1*0"], ErrorCode.MANDATORY_SEGMENT_MISSING, "AK5"),
        (["AK1*PO*7", "AK2*850*0001", "AK4*1**7", "AK5*R"], ErrorCode.UNEXPECTED_SEGMENT, "AK4"),
        (["AK1*PO*7", "AK9*Q*1*1*1"], ErrorCode.INVALID_CODE_VALUE, "AK9"),
        (["AK1*PO*7", "AK9*A*one*1*1"], ErrorCode.INVALID_CHARACTER, "AK9"),
        (["AK1*PO*7", "AK2*850*0001", "AK5*Z", "AK9*R*1*1*0"], ErrorCode.INVALID_CODE_VALUE, "AK5"),
        (["AK1*PO*7"], ErrorCode.MANDATORY_SEGMENT_MISSING, "AK9"),
        (["AK2*850*0001", "AK1*PO*7", "AK9*A*1*1*1"], ErrorCode.UNEXPECTED_SEGMENT, "AK2"),
        (["AK1*PO*7", "BEG*00", "AK9*A*0*0*0"], ErrorCode.SEGMENT_NOT_IN_SET, "BEG"),
        (["AK1*PO*7", "AK1*PO*8", "AK9*A*0*0*0"], ErrorCode.SEGMENT_OVER_MAX_USE, "AK1"),
        (["AK1**7", "AK9*A*0*0*0"], ErrorCode.MANDATORY_ELEMENT_MISSING, "AK1"),
    ],
)
def test_parse_malformed_acks_gives_findings(
    segments: list[str], code: ErrorCode, tag: str
) -> None:
    acks = parse_acks(_ack_file(*segments))
    found = [(f.code, f.location.tag) for f in acks.findings]
    assert (code, tag) in found
    hit = next(f for f in acks.findings if (f.code, f.location.tag) == (code, tag))
    assert hit.location.segment is not None and hit.location.segment_in_transaction is not None


def test_parse_keeps_what_it_could_read() -> None:
    acks = parse_acks(_ack_file("AK1*PO*7", "AK2*850*0001", "AK3*PO1*3", "AK9*R*1*1*0"))
    (g,) = acks.groups
    (t,) = g.transactions
    assert (t.status, t.segment_errors[0].tag, g.status) == ("", "PO1", "R")


def test_parse_mixed_families_is_a_warning() -> None:
    acks = parse_acks(
        _ack_file("AK1*PO*7", "AK2*850*0001", "IK3*PO1*3**8", "IK5*R*5", "AK9*R*1*1*0")
    )
    assert acks.errors == []
    assert [f.severity for f in acks.findings] == [Severity.WARNING, Severity.WARNING]
    assert acks.groups[0].transactions[0].segment_errors[0].code == "8"


def test_parse_a_non_ack_is_a_finding(samples_dir: Path) -> None:
    acks = parse_acks(samples_dir / "x12" / "850-004010-retailer.edi")
    assert acks.groups == []
    assert [f.code for f in acks.errors] == [ErrorCode.TRANSACTION_NOT_SUPPORTED]


def test_validate_callback_may_repeat_reader_findings() -> None:
    text = three_pos().decode().replace("SE*5*0002", "SE*9*0002")
    result = acknowledge(text.encode(), "997", validate=lambda t: list(t.findings), options=OPTIONS)
    assert result.groups[0].transactions[1].codes == ("4",)


@pytest.mark.parametrize(
    ("segment", "ak4"),
    [
        # A simple element holding a component separator: a delimiter in data (6), not
        # an element too many; pyx12 says 6 too.
        ("PO1*1*10*CA>X*2.5**VN*W1~\n", "AK4*3*355*6*CA X"),
        # A composite with a component too many: 3, the nearest 004010 code to 5010's 13.
        ("PO1*1*10*EA*2.5**VN*W1~\nREF*DP*1**ZZ>A>ZZ>B>ZZ>C>ZZ~\n", "AK4*4>7**3*ZZ A ZZ B ZZ C ZZ"),
    ],
)
def test_a_997_names_a_delimiter_in_data_6_and_a_component_too_many_3(
    segment: str, ak4: str
) -> None:
    body_text = f"BEG*00*SA*PO1**20261120~\n{segment}CTT*1~\n"
    data = interchange(group(tx("0001", body=body_text)))
    result = acknowledge(
        data,
        "997",
        control_numbers=CounterControlNumbers(),
        validate=validate_transaction,
        options=OPTIONS,
    )
    assert ak4 in body(result.functional)
