"""What real partner files do to the X12 layout, and what the reader makes of it.

Each test renders the same canonical interchange with other delimiters or formatting and
checks that the segments come out the same (or that the deviation is reported where it is).
"""

from __future__ import annotations

import pytest

from edigate.x12 import (
    ErrorCode,
    InterchangeHeader,
    InterchangeTrailer,
    Separators,
    Severity,
    TechnicalAck,
    X12Reader,
    components,
    repetitions,
)
from tests.x12.test_reader import (
    findings,
    group,
    interchange,
    isa,
    kinds,
    purchase_order,
    read,
    render,
    transactions,
    where,
)

#: The canonical interchange every layout test reads: two groups, three transactions, a
#: composite (``PO1*...*VP:X``-style values) and a repeated element once ``^`` is declared.
ORDERS = [
    group([purchase_order("0001", ["REF*ZZ*A:B:C"]), purchase_order("0002")], "1"),
    group([purchase_order("0003", ["N9*ZZ*R1^R2^R3"])], "2"),
]


def expected_segments(version: str = "00401", control: str = "000000001") -> list[list[str]]:
    """The canonical segments as the reader must return them (``*``-separated, unpadded)."""
    segs = interchange(ORDERS, version=version, control=control)
    return [seg.replace("{R}", "U").split("*") for seg in segs]


def canonical(segments: list[list[str]], seps: Separators) -> list[list[str]]:
    """Map elements read with ``seps`` back to the canonical characters ``:`` and ``^``."""
    table = str.maketrans({seps.component: ":", (seps.repetition or "^"): "^"})
    out = []
    for seg in segments:
        mapped = [value.translate(table) for value in seg]
        if mapped[0] == "ISA":
            mapped[11] = "U"
        out.append(mapped)
    return out


def segments_of(data: bytes, **kwargs: int) -> list[list[str]]:
    return [seg for _, seg in X12Reader(data, **kwargs).segments()]


# ---------------------------------------------------------------------- delimiters
DELIMITER_SETS = [
    pytest.param("\x07", "\x1d", "\x1c", None, id="bel-gs-fs"),
    pytest.param("\x1c", "\x1f", "\x1d", None, id="fs-us-gs"),
    pytest.param("\x7f", "\x1c", "\x07", "\x1d", id="del-fs-bel-rep-gs"),
    pytest.param("\x1d", "\x7f", "\x1c", "\x07", id="gs-del-fs-rep-bel"),
    pytest.param("|", "!", "\\", None, id="pipe-bang-backslash"),
    pytest.param("!", "\\", "|", "^", id="bang-backslash-pipe"),
    pytest.param("\\", "|", "!", None, id="backslash-pipe-bang"),
    pytest.param("*", ">", "~", "^", id="star-gt-tilde"),
]


@pytest.mark.parametrize(("element", "component", "segment", "repetition"), DELIMITER_SETS)
@pytest.mark.parametrize("suffix", ["", "\r", "\n", "\r\n"], ids=["none", "cr", "lf", "crlf"])
def test_any_declared_delimiters_with_any_line_ending(
    element: str, component: str, segment: str, repetition: str | None, suffix: str
) -> None:
    seps = Separators(element, component, segment, repetition, suffix)
    version = "00501" if repetition else "00401"
    data = render(interchange(ORDERS, version=version), seps)
    events = read(data)
    assert findings(events) == []
    header = events[0]
    assert isinstance(header, InterchangeHeader) and header.separators == seps
    assert canonical(segments_of(data), seps) == expected_segments(version)
    assert [tx.control_number for tx in transactions(events)] == ["0001", "0002", "0003"]


def test_newline_as_the_only_segment_terminator() -> None:
    for terminator in ("\n", "\r"):
        seps = Separators("*", ":", terminator, None, "")
        data = render(interchange(ORDERS), seps)
        assert b"~" not in data
        events = read(data)
        assert findings(events) == []
        assert events[0].separators.segment == terminator  # type: ignore[union-attr]
        assert segments_of(data) == expected_segments()


def test_newline_terminator_with_cr_before_it_is_formatting() -> None:
    data = render(interchange(ORDERS), Separators("*", ":", "\n", None, "")).replace(b"\n", b"\r\n")
    assert findings(read(data)) == []
    assert segments_of(data) == expected_segments()


def test_cr_terminator_followed_by_lf_and_a_ta1_ending_in_the_component_separator() -> None:
    """Regression (corpus JeffN825 TA1): a TA1 whose last value is ``+`` (ISA16) was taken as
    proof that ISA16 is missing once the file was rewritten without indentation."""
    seps = Separators(">", "+", "\r", "^", "\n")
    segs = [isa(version="00501"), "TA1*900000001*100624*1430*R*006*:", "IEA*0*000000001"]
    data = render(segs, seps)
    events = read(data)
    # The trailing '+' is a sixth TA1 element: noted, never read as a missing ISA16.
    assert [(f.code, f.location.element, f.severity) for f in findings(events)] == [
        (ErrorCode.INVALID_TECHNICAL_ACK, 6, Severity.WARNING)
    ]
    assert events[0].separators == seps  # type: ignore[union-attr]
    ack = events[1]
    assert isinstance(ack, TechnicalAck) and ack.segment[-1] == "+"


def test_missing_isa16_is_a_warning_and_the_terminator_is_what_ends_every_segment() -> None:
    text = render(interchange(ORDERS)).decode()
    data = text.replace("*P*:~\n", "*P*~\n").encode()
    events = read(data)
    assert where(events) == [(ErrorCode.INVALID_COMPONENT_SEPARATOR, 1, 16)]
    assert findings(events)[0].severity is Severity.WARNING
    assert events[0].separators.segment == "~"  # type: ignore[union-attr]
    assert len(transactions(events)) == 3


def test_utf8_bom_is_skipped() -> None:
    data = b"\xef\xbb\xbf" + render(interchange(ORDERS), Separators("*", ":", "~", None, "\r\n"))
    events = read(data)
    assert findings(events) == []
    assert segments_of(data) == expected_segments()


def test_indented_segments_are_read_without_the_indentation() -> None:
    text = render(interchange(ORDERS)).decode()
    data = "\n".join(("    " * (i % 3)) + line for i, line in enumerate(text.split("\n")))
    assert findings(read(data.encode())) == []
    assert segments_of(data.encode()) == expected_segments()


# ---------------------------------------------------------------------- ISA layouts
def test_isa_padded_with_no_break_spaces() -> None:
    segs = interchange(ORDERS)
    segs[0] = (
        segs[0]
        .replace("          ", "\u00a0" * 10)
        .replace("SENDER         ", "SENDER\u00a0\u00a0")
    )
    data = render(segs)
    events = read(data)
    header = events[0]
    assert isinstance(header, InterchangeHeader)
    assert (header.sender.id, header.receiver.id) == ("SENDER", "RECEIVER")
    # ISA06 is 8 characters now: only its width is a warning, nothing else.
    assert where(events) == [(ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 6)]
    assert all(f.severity is Severity.WARNING for f in findings(events))
    assert len(transactions(events)) == 3


def test_unpadded_isa_is_a_warning_per_field_and_is_still_read() -> None:
    segs = interchange(ORDERS)
    segs[0] = "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*261123*930*{R}*00401*000000001*0*P*:"
    events = read(render(segs))
    assert where(events) == [
        (ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 2),
        (ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 4),
        (ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 6),
        (ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 8),
        (ErrorCode.INVALID_CONTROL_STRUCTURE, 1, 10),
        (ErrorCode.INVALID_INTERCHANGE_TIME, 1, 10),
    ]
    width = [f for f in findings(events) if f.code is ErrorCode.INVALID_CONTROL_STRUCTURE]
    assert all(f.severity is Severity.WARNING for f in width)
    assert "ISA06 should be 15 characters wide, is 6" in width[2].message
    header = events[0]
    assert isinstance(header, InterchangeHeader) and header.sender.id == "SENDER"
    assert len(transactions(events)) == 3


def test_isa_hard_wrapped_at_80_columns() -> None:
    data = render(interchange(ORDERS))
    isa_line, rest = data.split(b"\n", 1)
    assert len(isa_line) == 106
    wrapped = isa_line[:80] + b"\n" + isa_line[80:] + b"\n" + rest
    events = read(wrapped)
    assert findings(events) == []
    assert segments_of(wrapped) == expected_segments()


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 18])
def test_whole_file_hard_wrapped_at_80_columns(chunk_size: int) -> None:
    flat = render(interchange(ORDERS), Separators("*", ":", "~", None, ""))
    wrapped = b"\r\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
    assert wrapped.count(b"\r\n") >= 6
    events = read(wrapped, chunk_size=chunk_size)
    assert findings(events) == []
    assert segments_of(wrapped, chunk_size=chunk_size) == expected_segments()


def test_unusable_isa_is_reported_and_the_next_interchange_is_read() -> None:
    good = render(interchange(ORDERS, control="000000002"))
    events = read(b"ISA*00*too short~\n" + good)
    assert kinds(events)[:2] == ["Finding", "InterchangeHeader"]
    # Its count stops at the next ISA: no ISA16 or terminator taken from that one to blame.
    (finding,) = findings(events)
    assert finding.code is ErrorCode.INVALID_CONTROL_STRUCTURE
    assert finding.message == (
        "ISA is incomplete: found 1 of 16 elements separated by '*' before the next ISA"
    )
    headers = [e for e in events if isinstance(e, InterchangeHeader)]
    assert [h.control_number for h in headers] == ["000000002"]
    assert len(transactions(events)) == 3


def test_file_ending_inside_the_isa_is_one_finding() -> None:
    events = read(render(interchange(ORDERS))[:60])
    assert where(events) == [(ErrorCode.PREMATURE_END_OF_FILE, 1, None)]
    assert findings(events)[0].message == "file ends inside the ISA: it has 7 of its 16 elements"


# ---------------------------------------------------------------------- several interchanges
def test_several_interchanges_each_with_its_own_separators() -> None:
    layouts = [
        Separators("*", ":", "~", None, "\n"),
        Separators("|", "!", "\x1d", "^", "\r\n"),
        Separators("\x1c", "\x1f", "\\", None, ""),
    ]
    data = b"".join(
        render(interchange(ORDERS, control=f"00000000{n}", version=version), seps)
        for n, (seps, version) in enumerate(
            zip(layouts, ["00401", "00501", "00401"], strict=True), start=1
        )
    )
    events = read(data)
    assert findings(events) == []
    headers = [e for e in events if isinstance(e, InterchangeHeader)]
    trailers = [e for e in events if isinstance(e, InterchangeTrailer)]
    assert [h.separators for h in headers] == layouts
    assert [h.position for h in headers] == [1, 24, 47]
    assert [t.position for t in trailers] == [23, 46, 69]
    assert [tx.separators for tx in transactions(events)] == [s for s in layouts for _ in range(3)]
    segments = list(X12Reader(data).segments())
    assert [pos for pos, _ in segments] == list(range(1, 70))
    third = [seg for pos, seg in segments if pos >= 47]
    assert canonical(third, layouts[2]) == expected_segments(control="000000003")


# ---------------------------------------------------------------------- repetition, composites
def test_5010_repetition_separator_is_declared_by_isa11() -> None:
    seps = Separators("*", ">", "~", "^", "\n")
    data = render(interchange(ORDERS, version="00501"), seps)
    events = read(data)
    assert findings(events) == []
    assert events[0].separators.repetition == "^"  # type: ignore[union-attr]
    n9 = transactions(events)[2].segments[2]
    assert n9 == ["N9", "ZZ", "R1^R2^R3"]
    assert repetitions(n9[2], seps) == ("R1", "R2", "R3")
    ref = transactions(events)[0].segments[2]
    assert components(ref[2], seps) == ("A", "B", "C")
    assert components("PLAIN", seps) == ("PLAIN",)


def test_u_in_a_00501_isa_is_a_warning_and_no_repetition_separator() -> None:
    data = render(interchange(ORDERS, version="00501"), Separators("*", ">", "~", None, "\n"))
    events = read(data)
    assert where(events) == [(ErrorCode.INVALID_STANDARDS_ID, 1, 11)]
    (finding,) = findings(events)
    assert finding.severity is Severity.WARNING and finding.value == "U"
    seps = events[0].separators  # type: ignore[union-attr]
    assert seps.repetition is None
    n9 = transactions(events)[2].segments[2]
    assert repetitions(n9[2], seps) == ("R1^R2^R3",)  # '^' is data without ISA11


def test_u_in_a_00401_isa_is_the_standards_id_not_a_separator() -> None:
    events = read(render(interchange(ORDERS)))
    assert findings(events) == []
    assert events[0].separators.repetition is None  # type: ignore[union-attr]


# ---------------------------------------------------------------------- service segments, blanks
def test_interchange_service_segments_between_isa_and_gs_are_accepted() -> None:
    segs = interchange(ORDERS)
    segs[1:1] = ["ISB*1", "ISE*200601*0515*04"]
    events = read(render(segs))
    assert findings(events) == []
    assert len(transactions(events)) == 3


def test_blank_lines_after_a_newline_terminated_interchange_are_not_segments() -> None:
    data = render(interchange(ORDERS), Separators("*", ":", "\n", None, "")) + b"\n\n\r\n"
    assert findings(read(data)) == []
    assert segments_of(data) == expected_segments()


def test_empty_segment_inside_a_transaction_is_yielded_by_segments() -> None:
    data = render(interchange(ORDERS)).replace(b"CTT*1~", b"CTT*1~~", 1)
    segs = segments_of(data)
    assert segs[6] == ["CTT", "1"] and segs[7] == [""] and segs[8][0] == "SE"


@pytest.mark.parametrize(
    ("ta1", "element", "message"),
    [
        ("TA1*0659*100624*1430*A*000", 1, "TA101 (Interchange Control Number) '0659' is not "
         "9 digits"),
        ("TA1*000000659*20110922*1430*A*000", 2, "TA102 (Interchange Date) '20110922' is not "
         "a date YYMMDD"),
        ("TA1*000000659*100631*1430*A*000", 2, "TA102 (Interchange Date) '100631' is not a "
         "date YYMMDD"),
        ("TA1*000000659*100624*2460*A*000", 3, "TA103 (Interchange Time) '2460' is not a "
         "time HHMM"),
        ("TA1*000000659*100624*1430*X*000", 4, "TA104 (Interchange Acknowledgment Code) 'X' "
         "is not A, E or R"),
        ("TA1*000000659*100624*1430*A*00", 5, "TA105 (Interchange Note Code) '00' is not 3 "
         "characters"),
        ("TA1*000000659*100624*1430*A", 5, "TA105 (Interchange Note Code) is missing: it is "
         "mandatory"),
        ("TA1*000000659**1430*A*000", 2, "TA102 (Interchange Date) is missing: it is "
         "mandatory"),
    ],
)  # fmt: skip
def test_each_ta1_element_is_checked_at_its_position(ta1: str, element: int, message: str) -> None:
    events = read(render([isa(), ta1, "IEA*0*000000001"]))
    (found,) = findings(events)
    assert found.code is ErrorCode.INVALID_TECHNICAL_ACK and found.code.label == "TA1-024"
    assert (found.location.segment, found.location.tag, found.location.element) == (
        2,
        "TA1",
        element,
    )
    assert found.message == message and found.is_error


def test_a_sound_ta1_has_no_finding() -> None:
    assert not findings(read(render([isa(), "TA1*000000659*100624*1430*R*006", "IEA*0*000000001"])))
