"""X12Reader: envelope events, positions, control numbers and counts, streaming, limits.

Inputs are built here from canonical text (``*`` element, ``:`` component, ``^`` repetition,
one segment per string) and rendered with the separators each test wants; see
:func:`render`. The formatting edge cases (delimiters, line breaks, ISA layouts) live in
``test_reader_edge_cases.py``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from edigate.x12 import (
    ErrorCode,
    Event,
    Finding,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Level,
    ReaderLimits,
    Separators,
    Severity,
    TechnicalAck,
    TransactionSet,
    X12Reader,
    encode_segments,
    read_events,
)

STAR = Separators("*", ":", "~", None, "\n")


# ---------------------------------------------------------------------- builders
def isa(control: str = "000000001", version: str = "00401") -> str:
    """A fixed-width ISA in canonical text; ``{R}`` becomes ISA11 when rendered."""
    return (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*0930*"
        f"{{R}}*{version}*{control}*0*P*:"
    )


def purchase_order(control: str = "0001", extra: Sequence[str] = ()) -> list[str]:
    """An 850 with a correct SE01; ``extra`` segments go after the BEG."""
    segs = [f"ST*850*{control}", f"BEG*00*SA*PO{control}**20261120", *extra]
    segs += ["PO1*1*2*EA*9.99**VP*SKU1", "CTT*1"]
    return [*segs, f"SE*{len(segs) + 1}*{control}"]


def group(
    transactions: Iterable[list[str]], control: str = "1", functional_id: str = "PO"
) -> list[str]:
    txs = list(transactions)
    body = [seg for tx in txs for seg in tx]
    head = f"GS*{functional_id}*SENDER*RECEIVER*20261123*0930*{control}*X*004010"
    return [head, *body, f"GE*{len(txs)}*{control}"]


def interchange(
    groups: Iterable[list[str]] | None = None,
    *,
    control: str = "000000001",
    version: str = "00401",
) -> list[str]:
    grps = list(groups) if groups is not None else [group([purchase_order()])]
    body = [seg for grp in grps for seg in grp]
    return [isa(control, version), *body, f"IEA*{len(grps)}*{control}"]


def render(segments: Iterable[str], seps: Separators = STAR) -> bytes:
    """Canonical text to bytes with ``seps``: ``*`` ``:`` ``^`` translated, terminator added."""
    table = str.maketrans({"*": seps.element, ":": seps.component, "^": seps.repetition or "^"})
    isa11 = seps.repetition or "U"
    end = seps.segment + seps.suffix
    text = "".join(s.translate(table).replace("{R}", isa11) + end for s in segments)
    return text.encode("utf-8", "surrogateescape")


def read(data: bytes | Path, **kwargs: object) -> list[Event]:
    return list(read_events(data, **kwargs))


def findings(events: Iterable[Event]) -> list[Finding]:
    """Every finding, standalone or attached to a header, transaction or trailer."""
    out: list[Finding] = []
    for event in events:
        if isinstance(event, Finding):
            out.append(event)
        elif not isinstance(event, TechnicalAck):
            out.extend(event.findings)
    return out


def where(events: Iterable[Event]) -> list[tuple[ErrorCode, int | None, int | None]]:
    """Findings as ``(code, file segment position, element)``, in file order."""
    found = [(f.code, f.location.segment, f.location.element) for f in findings(events)]
    return sorted(found, key=lambda item: item[1] or 0)


def kinds(events: Iterable[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def transactions(events: Iterable[Event]) -> list[TransactionSet]:
    return [e for e in events if isinstance(e, TransactionSet)]


# ---------------------------------------------------------------------- the happy path
def test_well_formed_interchange_yields_each_envelope_level_in_order() -> None:
    events = read(render(interchange()))
    assert kinds(events) == [
        "InterchangeHeader",
        "GroupHeader",
        "TransactionSet",
        "GroupTrailer",
        "InterchangeTrailer",
    ]
    assert findings(events) == []
    header, gs, tx, ge, iea = events
    assert isinstance(header, InterchangeHeader)
    assert (header.sender.qualifier, header.sender.id) == ("ZZ", "SENDER")
    assert str(header.receiver) == "ZZ:RECEIVER"
    assert (header.control_number, header.version, header.usage) == ("000000001", "00401", "P")
    assert header.test is False and header.ack_requested is False
    assert header.separators == STAR
    assert isinstance(gs, GroupHeader)
    assert (gs.functional_id, gs.control_number, gs.version, gs.position) == (
        "PO",
        "1",
        "004010",
        2,
    )
    assert isinstance(tx, TransactionSet)
    assert (tx.set_id, tx.control_number, tx.position, tx.segment_count) == ("850", "0001", 3, 5)
    assert tx.segments[1] == ["BEG", "00", "SA", "PO0001", "", "20261120"]
    assert tx.segments[-1] == ["SE", "5", "0001"]
    assert tx.complete and tx.version == "004010" and tx.group is gs and tx.interchange is header
    assert isinstance(ge, GroupTrailer) and ge.transaction_count == 1 and ge.position == 8
    assert isinstance(iea, InterchangeTrailer) and iea.group_count == 1 and iea.position == 9


def test_transaction_segment_i_sits_at_file_position_st_plus_i() -> None:
    data = render(
        interchange([group([purchase_order("0001"), purchase_order("0002", ["REF*DP*7"])])])
    )
    by_position = dict(X12Reader(data).segments())
    for tx in transactions(read(data)):
        for i, segment in enumerate(tx.segments):
            assert by_position[tx.position + i] == segment


def test_segments_yields_every_segment_with_its_file_position() -> None:
    data = render(interchange())
    segments = list(X12Reader(data).segments())
    assert [pos for pos, _ in segments] == list(range(1, 10))
    assert [seg[0] for _, seg in segments] == [
        "ISA", "GS", "ST", "BEG", "PO1", "CTT", "SE", "GE", "IEA",
    ]  # fmt: skip
    assert segments[0][1][16] == ":" and segments[0][1][6] == "SENDER         "


def test_reader_accepts_a_path_and_a_binary_stream(tmp_path: Path) -> None:
    data = render(interchange())
    path = tmp_path / "po.edi"
    path.write_bytes(data)
    expected = read(data)
    assert read(path) == expected
    assert read(str(path)) == expected
    with path.open("rb") as stream:
        assert list(X12Reader(stream).events()) == expected


def test_several_groups_per_interchange_each_with_its_own_counts() -> None:
    data = render(
        interchange(
            [
                group([purchase_order("0001"), purchase_order("0002")], "11"),
                group([purchase_order("0001")], "12"),
            ]
        )
    )
    events = read(data)
    assert findings(events) == []
    headers = [e for e in events if isinstance(e, GroupHeader)]
    trailers = [e for e in events if isinstance(e, GroupTrailer)]
    assert [(g.control_number, g.functional_id) for g in headers] == [("11", "PO"), ("12", "PO")]
    assert [t.transaction_count for t in trailers] == [2, 1]
    assert [t.header for t in trailers] == headers
    txs = transactions(events)
    assert [tx.group.control_number for tx in txs if tx.group] == ["11", "11", "12"]
    iea = events[-1]
    assert isinstance(iea, InterchangeTrailer) and iea.group_count == 2


def test_same_st02_in_two_groups_is_fine_but_twice_in_one_group_is_not() -> None:
    ok = interchange([group([purchase_order("0001")], "1"), group([purchase_order("0001")], "2")])
    assert findings(read(render(ok))) == []
    dup = interchange([group([purchase_order("0001"), purchase_order("0001")])])
    assert where(read(render(dup))) == [(ErrorCode.DUPLICATE_TRANSACTION_CONTROL_NUMBER, 8, 2)]


def test_technical_acks_become_events_and_do_not_count_as_groups() -> None:
    segs = [
        isa(),
        "TA1*000000007*261123*0930*A*000",
        "TA1*000000008*261123*0931*R*024",
        *group([purchase_order()]),
        "IEA*1*000000001",
    ]
    events = read(render(segs))
    assert findings(events) == []
    acks = [e for e in events if isinstance(e, TechnicalAck)]
    assert [a.segment for a in acks] == [
        ["TA1", "000000007", "261123", "0930", "A", "000"],
        ["TA1", "000000008", "261123", "0931", "R", "024"],
    ]
    assert [a.position for a in acks] == [2, 3]
    assert all(a.interchange.control_number == "000000001" for a in acks)
    assert kinds(events)[:4] == ["InterchangeHeader", "TechnicalAck", "TechnicalAck", "GroupHeader"]


def test_ta1_only_interchange_whose_iea_counts_the_ta1s_is_a_warning() -> None:
    segs = [isa(), "TA1*000000007*261123*0930*R*024", "IEA*1*000000001"]
    events = read(render(segs))
    assert kinds(events) == ["InterchangeHeader", "TechnicalAck", "InterchangeTrailer"]
    (finding,) = findings(events)
    assert finding.code is ErrorCode.GROUP_COUNT_MISMATCH
    assert finding.severity is Severity.WARNING and "TA1" in finding.message


# ---------------------------------------------------------------------- control numbers, counts
def _with(segments: list[str], old: str, new: str) -> list[str]:
    assert old in segments, old
    return [new if s == old else s for s in segments]


@pytest.mark.parametrize(
    ("old", "new", "code", "segment", "element", "label"),
    [
        ("SE*5*0001", "SE*6*0001", ErrorCode.SEGMENT_COUNT_MISMATCH, 7, 1, "AK5-4"),
        ("SE*5*0001", "SE*5*0002", ErrorCode.TRANSACTION_CONTROL_MISMATCH, 7, 2, "AK5-3"),
        ("GE*1*1", "GE*2*1", ErrorCode.TRANSACTION_COUNT_MISMATCH, 8, 1, "AK9-5"),
        ("GE*1*1", "GE*1*2", ErrorCode.GROUP_CONTROL_MISMATCH, 8, 2, "AK9-4"),
        ("IEA*1*000000001", "IEA*3*000000001", ErrorCode.GROUP_COUNT_MISMATCH, 9, 1, "TA1-021"),
        (
            "IEA*1*000000001",
            "IEA*1*000000002",
            ErrorCode.INTERCHANGE_CONTROL_MISMATCH,
            9,
            2,
            "TA1-001",
        ),
        ("ST*850*0001", "ST*850*01", ErrorCode.INVALID_TRANSACTION_CONTROL_NUMBER, 3, 2, "AK5-7"),
        ("ST*850*0001", "ST*85*0001", ErrorCode.INVALID_TRANSACTION_ID, 3, 1, "AK5-6"),
    ],
)
def test_control_number_and_count_mismatches_are_reported_where_they_are(
    old: str, new: str, code: ErrorCode, segment: int, element: int, label: str
) -> None:
    events = read(render(_with(interchange(), old, new)))
    # The ST02 change also breaks the SE02 match; only the finding under test is asserted.
    found = [f for f in findings(events) if f.code is code]
    assert len(found) == 1, where(events)
    (finding,) = found
    assert (finding.location.segment, finding.location.element) == (segment, element)
    assert finding.code.label == label and finding.is_error
    assert finding.location.tag == new.split("*")[0]
    assert finding.message  # says what was expected
    # Each finding rides on the event of its level, so acks can be built per level.
    carrier = {
        Level.TRANSACTION: TransactionSet,
        Level.GROUP: GroupTrailer,
        Level.INTERCHANGE: InterchangeTrailer,
    }[code.level]
    assert any(finding in e.findings for e in events if isinstance(e, carrier))


def test_transaction_findings_carry_the_envelope_control_numbers() -> None:
    events = read(render(_with(interchange(), "SE*5*0001", "SE*4*0001")))
    (finding,) = findings(events)
    loc = finding.location
    assert (loc.interchange_control, loc.group_control, loc.transaction_control) == (
        "000000001",
        "1",
        "0001",
    )
    assert loc.segment_in_transaction == 5 and loc.tag == "SE"
    assert "SE01 says 4" in finding.message and "5 segments" in finding.message


def test_iea02_with_other_padding_is_only_a_warning() -> None:
    events = read(render(_with(interchange(), "IEA*1*000000001", "IEA*1*1")))
    (finding,) = findings(events)
    assert finding.code is ErrorCode.INTERCHANGE_CONTROL_MISMATCH
    assert finding.severity is Severity.WARNING and "padding" in finding.message


# ---------------------------------------------------------------------- missing trailers
def test_missing_se_is_reported_where_the_next_envelope_segment_stands() -> None:
    segs = interchange([group([purchase_order("0001"), purchase_order("0002")])])
    segs.remove("SE*5*0001")
    events = read(render(segs))
    assert where(events) == [(ErrorCode.TRANSACTION_TRAILER_MISSING, 7, None)]
    first, second = transactions(events)
    assert first.findings[0].location.transaction_control == "0001"
    assert not first.complete and first.segment_count == 4
    assert second.findings == [] and second.complete  # reading went on
    trailer = next(e for e in events if isinstance(e, GroupTrailer))
    assert trailer.transaction_count == 2 and trailer.findings == []


def test_missing_ge_is_reported_at_the_iea() -> None:
    segs = interchange()
    segs.remove("GE*1*1")
    events = read(render(segs))
    assert where(events) == [(ErrorCode.GROUP_TRAILER_MISSING, 8, None)]
    trailer = next(e for e in events if isinstance(e, GroupTrailer))
    assert trailer.segment is None and trailer.findings[0].code.label == "AK9-3"


def test_missing_iea_at_end_of_file_is_a_premature_end() -> None:
    segs = interchange()
    segs.remove("IEA*1*000000001")
    events = read(render(segs))
    assert where(events) == [(ErrorCode.PREMATURE_END_OF_FILE, 9, None)]
    trailer = events[-1]
    assert isinstance(trailer, InterchangeTrailer) and trailer.segment is None


def test_missing_se_ge_and_iea_before_the_next_interchange() -> None:
    first = interchange()[:-3]  # ISA GS ST BEG PO1 CTT: no SE, GE or IEA
    second = interchange(control="000000002")
    events = read(render(first + second))
    assert where(events) == [
        (ErrorCode.TRANSACTION_TRAILER_MISSING, 7, None),
        (ErrorCode.GROUP_TRAILER_MISSING, 7, None),
        (ErrorCode.PREMATURE_END_OF_FILE, 7, None),
    ]
    assert [e.control_number for e in events if isinstance(e, InterchangeHeader)] == [
        "000000001",
        "000000002",
    ]
    assert len(transactions(events)) == 2


def test_st_outside_a_group_and_stray_segments_are_reported() -> None:
    segs = [isa(), *purchase_order(), "REF*ZZ*STRAY", "IEA*0*000000001"]
    events = read(render(segs))
    assert where(events) == [
        (ErrorCode.TRANSACTION_NOT_IN_GROUP, 2, None),
        (ErrorCode.INVALID_INTERCHANGE_CONTENT, 7, None),
    ]
    assert len(transactions(events)) == 1


# ---------------------------------------------------------------------- empty segments, junk
def test_empty_segment_is_an_error_at_its_position_and_reading_continues() -> None:
    """Regression: pyx12 stops reading at ``~~`` and silently loses the rest of the file."""
    orders = [purchase_order(f"{n:04d}") for n in range(1, 51)]
    data = render(interchange([group(orders)]))
    broken = data.replace(b"BEG*00*SA*PO0003**20261120~\n", b"BEG*00*SA*PO0003**20261120~~\n")
    assert broken != data
    events = read(broken)
    txs = transactions(events)
    assert [tx.control_number for tx in txs] == [f"{n:04d}" for n in range(1, 51)]
    (finding,) = findings(events)  # SE01 counted without the empty segment is right
    third = txs[2]
    assert finding in third.findings
    # Reported on the BEG it follows, where the terminator is doubled (AK3 needs a tag).
    assert finding.code is ErrorCode.EMPTY_SEGMENT and finding.code.label == "AK3-8"
    assert (finding.location.tag, finding.location.segment) == ("BEG", third.position + 1)
    assert finding.location.segment_in_transaction == 2
    assert third.segments[2] == [""] and third.empty == [2]
    assert [third.place(i) for i in range(len(third.segments))] == [1, 2, 3, 3, 4, 5]
    trailer = next(e for e in events if isinstance(e, GroupTrailer))
    assert trailer.transaction_count == 50


def test_empty_segment_between_transactions_is_reported_in_the_group() -> None:
    data = render(interchange([group([purchase_order("0001"), purchase_order("0002")])]))
    broken = data.replace(b"SE*5*0001~\n", b"SE*5*0001~~\n")
    events = read(broken)
    assert where(events) == [(ErrorCode.INVALID_INTERCHANGE_CONTENT, 8, None)]
    assert len(transactions(events)) == 2


def test_junk_after_the_iea_is_reported_with_its_position() -> None:
    data = render(interchange()) + b"this is not EDI\n"
    events = read(data)
    assert kinds(events)[-1] == "Finding"
    (finding,) = findings(events)
    assert finding.code is ErrorCode.JUNK_AFTER_INTERCHANGE and finding.code.level is Level.FILE
    assert finding.location.segment == 10 and "this is not EDI" in (finding.value or "")


def test_stray_segments_after_the_iea_are_reported_once() -> None:
    data = render([*interchange(), "GS*PO*X*Y*20261123*0930*9*X*004010", "ST*850*0001"])
    (finding,) = findings(read(data))
    assert finding.code is ErrorCode.JUNK_AFTER_INTERCHANGE
    assert (finding.location.segment, finding.location.tag) == (10, "GS")


def test_a_file_without_an_isa_is_one_file_level_finding() -> None:
    events = read(b"hello, this is a CSV file\n1,2,3\n")
    assert kinds(events) == ["Finding"]
    assert where(events) == [(ErrorCode.NO_INTERCHANGE, 1, None)]


def test_empty_input_yields_nothing() -> None:
    assert read(b"") == []
    assert read(b"\n\r\n  \n") == []


# ---------------------------------------------------------------------- chunk boundaries
def _chunk_cases() -> dict[str, bytes]:
    orders = [purchase_order(f"{n:04d}", [f"MSG*LINE {n} " + "X" * (n * 7)]) for n in range(1, 30)]
    one = interchange([group(orders[:15], "1"), group(orders[15:], "2")])
    two = interchange([group(orders[:3])], control="000000002", version="00501")
    return {
        "plain": render(one),
        "crlf_and_bom": b"\xef\xbb\xbf" + render(one, Separators("*", ">", "~", None, "\r\n")),
        "two_interchanges_other_separators": render(one)
        + render(two, Separators("|", "!", "\x1d", "^", "\r\n")),
        "control_characters": render(one, Separators("\x1c", "\x1d", "\x07", None, "")),
        "newline_terminator": render(one, Separators("*", ":", "\n", None, "")),
        "empty_segments_and_junk": render(one).replace(b"CTT*1~", b"CTT*1~~", 3) + b"junk\n",
        "wrapped_80": _wrap(render(one, Separators("*", ":", "~", None, "")), 80),
        "missing_trailers": render(one[:-3] + two),
        "non_utf8_bytes": render(one).replace(b"LINE 1 ", b"LINE \xe9\xa0\xff\xc3\xa9 "),
    }


def _wrap(data: bytes, width: int) -> bytes:
    return b"\n".join(data[i : i + width] for i in range(0, len(data), width)) + b"\n"


@pytest.mark.parametrize("case", sorted(_chunk_cases()))
def test_events_do_not_depend_on_the_chunk_size(case: str) -> None:
    data = _chunk_cases()[case]
    expected = read(data)
    assert len(transactions(expected)) >= 3
    for chunk_size in (1, 7, 64):
        assert read(data, chunk_size=chunk_size) == expected, chunk_size
        assert list(X12Reader(data, chunk_size=chunk_size).segments()) == list(
            X12Reader(data).segments()
        )


# ---------------------------------------------------------------------- streaming, limits
def _write_many(path: Path, orders: int) -> int:
    """Write a big interchange without holding it in memory; returns its size in bytes."""
    with path.open("wb") as out:
        out.write(render([isa(), "GS*PO*SENDER*RECEIVER*20261123*0930*1*X*004010"]))
        for n in range(1, orders + 1):
            out.write(render(purchase_order(f"{n:05d}", ["MSG*" + "FILLER TEXT " * 8] * 4)))
        out.write(render([f"GE*{orders}*1", "IEA*1*000000001"]))
    return path.stat().st_size


def test_reading_streams_with_memory_bounded_by_the_chunk_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.edi"
    size = _write_many(path, 20_000)
    assert size > 8_000_000
    count = 0
    tracemalloc.start()
    try:
        for event in X12Reader(path, chunk_size=64 * 1024).events():
            if isinstance(event, TransactionSet):
                count += 1
                assert event.findings == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte file"


def test_oversized_segment_becomes_a_finding_and_reading_continues() -> None:
    long_msg = "MSG*" + "X" * 5000
    segs = interchange([group([purchase_order("0001", [long_msg]), purchase_order("0002")])])
    data = render(segs)
    limits = ReaderLimits(max_segment_chars=1000)
    expected = read(data, limits=limits)
    for chunk_size in (1, 7, 64, 1 << 20):
        events = read(data, limits=limits, chunk_size=chunk_size)
        assert events == expected
    assert where(expected) == [(ErrorCode.SEGMENT_TOO_LONG, 5, None)]
    first, second = transactions(expected)
    assert first.segments[2] == [""] and first.segment_count == 6  # placeholder keeps positions
    assert second.findings == [] and second.segments[1][3] == "PO0002"


def test_oversized_garbage_without_any_terminator_ends_the_interchange() -> None:
    data = render(interchange()[:4]) + b"X" * 50_000
    events = read(data, limits=ReaderLimits(max_segment_chars=1000), chunk_size=4096)
    codes = [code for code, _, _ in where(events)]
    assert ErrorCode.SEGMENT_TOO_LONG in codes  # inside the transaction: it is rejected
    assert ErrorCode.PREMATURE_END_OF_FILE in codes


def test_too_many_segments_in_a_transaction_becomes_a_finding() -> None:
    refs = [f"REF*ZZ*{n}" for n in range(60)]
    segs = interchange([group([purchase_order("0001", refs), purchase_order("0002")])])
    data = render(segs)
    limits = ReaderLimits(max_transaction_segments=10)
    expected = read(data, limits=limits)
    for chunk_size in (1, 7, 64):
        assert read(data, limits=limits, chunk_size=chunk_size) == expected
    big, small = transactions(expected)
    (finding,) = big.findings  # the SE01 count still matches: dropped segments are counted
    assert finding.code is ErrorCode.TRANSACTION_TOO_LARGE and finding.location.segment == 3
    assert big.segment_count == 65 and len(big.segments) == 11 and not big.complete
    assert big.segments[:2] == [
        ["ST", "850", "0001"],
        ["BEG", "00", "SA", "PO0001", "", "20261120"],
    ]
    assert big.segments[-1] == ["SE", "65", "0001"]
    assert small.findings == [] and small.complete


# ---------------------------------------------------------------------- lossless decoding
def test_non_utf8_bytes_survive_a_read_write_round_trip_byte_for_byte() -> None:
    data = render(interchange([group([purchase_order("0001", ["MSG*PLACEHOLDER"])])]))
    data = data.replace(b"PLACEHOLDER", b"caf\xe9 \xa0NBSP \xff\x80 caf\xc3\xa9 \xe2\x82\xac")
    for chunk_size in (1, 2, 3, 1 << 20):
        segments = [seg for _, seg in X12Reader(data, chunk_size=chunk_size).segments()]
        assert encode_segments(segments, STAR) == data


def test_ebcdic_input_is_detected_and_round_trips() -> None:
    text = render(interchange()).decode("ascii")
    data = text.encode("cp037")
    reader = X12Reader(data)
    events = list(reader.events())
    assert reader.encoding == "cp037"
    assert findings(events) == [] and len(transactions(events)) == 1
    header = events[0]
    assert isinstance(header, InterchangeHeader) and header.encoding == "cp037"
    segments = [seg for _, seg in X12Reader(data).segments()]
    assert encode_segments(segments, STAR, encoding="cp037") == data


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_input_is_detected(encoding: str) -> None:
    events = read(render(interchange()).decode("ascii").encode(encoding))
    assert findings(events) == []
    assert transactions(events)[0].segments[1][3] == "PO0001"
