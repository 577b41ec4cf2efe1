"""X12Writer and encode_segments: envelopes with the right counts, refusal of unwritable
values, and exact round trips with the reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edigate.errors import X12WriteError
from edigate.x12 import (
    GroupEnvelope,
    GroupTrailer,
    InterchangeEnvelope,
    InterchangeHeader,
    InterchangeTrailer,
    PartyId,
    SegmentEncoder,
    Separators,
    X12Reader,
    X12Writer,
    encode_segments,
    trim,
)
from tests.x12.test_reader import findings, group, interchange, purchase_order, render, transactions

STAMP = dt.datetime(2026, 11, 23, 9, 30)


def write_sample(seps: Separators, version: str = "00501", groups: int = 2) -> bytes:
    """Two groups with 2 and 1 transactions, written through the envelope API."""
    writer = X12Writer(seps)
    env = InterchangeEnvelope(
        PartyId("ZZ", "EDIGATE"), PartyId("01", "123456789"), 42, version=version, timestamp=STAMP
    )
    writer.begin_interchange(env)
    for g in range(1, groups + 1):
        writer.begin_group(GroupEnvelope("PR", "EDIGATE", "PARTNER", 100 + g, timestamp=STAMP))
        for t in range(1, 4 - g):
            writer.begin_transaction("855", t)
            writer.segment(["BAK", "00", "AD", f"PO{g}{t}", "20261123"])
            writer.segment(["PO1", "1", "5", "EA", "1.50", "", "VP", "SKU-1"])
            writer.segment(["ACK", "IA", "5", "EA"])
            writer.segment(["CTT", "1"])
            assert writer.end_transaction() == 6
        writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


# ---------------------------------------------------------------------- envelopes
@pytest.mark.parametrize(
    "seps",
    [
        Separators("*", ">", "~", "^", "\n"),
        Separators("|", "!", "\x1d", "\x1c", "\r\n"),
        Separators("\x07", "\x1f", "\\", None, ""),
    ],
)
def test_envelopes_have_counts_and_control_numbers_the_reader_accepts(seps: Separators) -> None:
    data = write_sample(seps, version="00501" if seps.repetition else "00401")
    events = list(X12Reader(data).events())
    assert findings(events) == []
    header = events[0]
    assert isinstance(header, InterchangeHeader)
    assert header.separators == seps and header.control_number == "000000042"
    assert (str(header.sender), str(header.receiver)) == ("ZZ:EDIGATE", "01:123456789")
    assert (header.date, header.time) == ("261123", "0930")
    txs = transactions(events)
    assert [(tx.group.control_number if tx.group else None, tx.control_number) for tx in txs] == [
        ("101", "0001"),
        ("101", "0002"),
        ("102", "0001"),
    ]
    assert all(tx.segment_count == 6 and tx.segments[-1][1] == "6" for tx in txs)
    assert [e.transaction_count for e in events if isinstance(e, GroupTrailer)] == [2, 1]
    trailer = events[-1]
    assert isinstance(trailer, InterchangeTrailer)
    assert trailer.segment == ["IEA", "2", "000000042"]


def test_isa_is_fixed_width_106_characters() -> None:
    data = write_sample(Separators("*", ">", "~", "^", "\n"))
    isa = data.split(b"\n", 1)[0]
    assert len(isa) == 106
    assert isa.startswith(b"ISA*00*          *00*          *ZZ*EDIGATE        *01*123456789      ")
    assert isa.endswith(b"*261123*0930*^*00501*000000042*0*P*>~")
    widths = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert [len(f) for f in isa[:-1].split(b"*")[1:]] == widths


def test_4010_isa11_is_u_even_when_a_repetition_separator_is_set() -> None:
    data = write_sample(Separators("*", ">", "~", "^", "\n"), version="00401")
    assert b"*U*00401*" in data.split(b"\n", 1)[0]


def test_isa_field_too_long_is_refused() -> None:
    writer = X12Writer()
    env = InterchangeEnvelope(PartyId("ZZ", "A" * 16), PartyId("ZZ", "B"), 1, timestamp=STAMP)
    with pytest.raises(X12WriteError, match="ISA06"):
        writer.begin_interchange(env)


def test_control_numbers_must_be_numeric_and_fit() -> None:
    writer = X12Writer()
    with pytest.raises(X12WriteError, match="ISA13"):
        writer.begin_interchange(
            InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1_000_000_000)
        )
    writer.begin_interchange(InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 7))
    with pytest.raises(X12WriteError, match="GS06"):
        writer.begin_group(GroupEnvelope("PO", "A", "B", "12X"))


def test_envelope_calls_out_of_order_are_refused() -> None:
    writer = X12Writer()
    with pytest.raises(X12WriteError, match="no interchange"):
        writer.begin_group(GroupEnvelope("PO", "A", "B", 1))
    with pytest.raises(X12WriteError, match="no transaction"):
        writer.end_transaction()
    writer.begin_interchange(InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1))
    writer.begin_group(GroupEnvelope("PO", "A", "B", 1))
    writer.begin_transaction("850", 1)
    with pytest.raises(X12WriteError, match="still open"):
        writer.end_group()
    with pytest.raises(X12WriteError, match="still open"):
        writer.begin_transaction("850", 2)


def test_writer_streams_to_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "out.edi"
    with path.open("wb") as stream:
        writer = X12Writer(Separators("*", ">", "~", None, "\n"), stream)
        writer.begin_interchange(
            InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 5, timestamp=STAMP)
        )
        writer.end_interchange()
        with pytest.raises(X12WriteError, match="getvalue"):
            writer.getvalue()
    events = list(X12Reader(path).events())
    assert findings(events) == [] and len(events) == 2


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("A*B", "element separator"),
        ("A~B", "segment terminator"),
        ("A>B", "component separator"),
        ("A^B", "repetition separator"),
        ("A\nB", "line break"),
        ("A\rB", "line break"),
    ],
)
def test_a_value_containing_a_separator_raises_naming_segment_and_element(
    value: str, what: str
) -> None:
    encoder = SegmentEncoder(Separators("*", ">", "~", "^", "\n"))
    with pytest.raises(X12WriteError) as caught:
        encoder.encode(["N1", "ST", "STORE", "92", value])
    err = caught.value
    assert (err.segment, err.element) == ("N1", 4)
    assert "N104" in str(err) and what in str(err)


def test_separator_inside_a_component_or_a_repeat_is_refused_too() -> None:
    encoder = SegmentEncoder(Separators("*", ">", "~", "^", "\n"))
    with pytest.raises(X12WriteError, match="REF02"):
        encoder.encode(["REF", "ZZ", ("A", "B>C")])
    with pytest.raises(X12WriteError, match="REF02"):
        encoder.encode(["REF", "ZZ", ["OK", "B^C"]])


def test_raw_mode_allows_component_and_repetition_characters_only() -> None:
    encoder = SegmentEncoder(Separators("*", ">", "~", "^", "\n"))
    assert encoder.encode(["REF", "ZZ", "A>B^C>D"], raw=True) == "REF*ZZ*A>B^C>D"
    with pytest.raises(X12WriteError, match="element separator"):
        encoder.encode(["REF", "ZZ", "A*B"], raw=True)


def test_composites_and_repeats() -> None:
    encoder = SegmentEncoder(Separators("*", ">", "~", "^", "\n"))
    assert encoder.encode(["SV1", ("HC", "99213", "", ""), "50"]) == "SV1*HC>99213*50"
    assert encoder.encode(["HI", ["A", ("BK", "3000"), ("BF", "4010")]]) == "HI*A^BK>3000^BF>4010"
    no_repetition = SegmentEncoder(Separators("*", ">", "~", None, "\n"))
    with pytest.raises(X12WriteError, match="repetition separator"):
        no_repetition.encode(["HI", ["A", "B"]])


def test_bad_tags_and_element_types_are_refused() -> None:
    encoder = SegmentEncoder(Separators())
    with pytest.raises(X12WriteError, match="invalid segment tag"):
        encoder.encode(["B G", "1"])
    with pytest.raises(X12WriteError, match="must be str, tuple or list"):
        encoder.encode(["REF", 5])  # type: ignore[list-item]


def test_trim_drops_trailing_empty_elements_only() -> None:
    assert trim(["N1", "ST", "", "92", "", ()]) == ["N1", "ST", "", "92"]
    assert trim(["CTT"]) == ["CTT"]


def test_invalid_separator_sets_are_refused() -> None:
    for seps in (
        Separators("*", "*", "~"),
        Separators("A", ">", "~"),
        Separators("*", ">", "\n", None, "\n"),
        Separators("*", ">", "~", None, " "),
    ):
        with pytest.raises(ValueError):
            SegmentEncoder(seps)


# ---------------------------------------------------------------------- round trips
def test_written_composites_and_repeats_read_back() -> None:
    seps = Separators("*", ">", "~", "^", "\n")
    writer = X12Writer(seps)
    writer.begin_interchange(
        InterchangeEnvelope(
            PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1, version="00501", timestamp=STAMP
        )
    )
    writer.begin_group(GroupEnvelope("HC", "A", "B", 1, version="005010", timestamp=STAMP))
    writer.begin_transaction("837", 1, convention="005010X222A1")
    writer.segment(["HI", [("ABK", "8901"), ("ABF", "87340")]])
    writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    (tx,) = transactions(X12Reader(writer.getvalue()).events())
    assert tx.segments[0] == ["ST", "837", "0001", "005010X222A1"]
    assert tx.segments[1] == ["HI", "ABK>8901^ABF>87340"]


@pytest.mark.parametrize(
    "seps",
    [
        Separators("*", ":", "~", None, "\n"),
        Separators("*", ":", "~", None, "\r\n"),
        Separators("*", ":", "~", None, ""),
        Separators("\x1c", "\x1f", "\x1d", "\x7f", "\r\n"),
        Separators("|", "!", "\n", None, ""),
    ],
)
def test_read_then_encode_reproduces_a_uniform_file_byte_for_byte(seps: Separators) -> None:
    version = "00501" if seps.repetition else "00401"
    orders = [purchase_order("0001", ["REF*ZZ*A:B", "MSG*caf\udce9"]), purchase_order("0002")]
    data = render(interchange([group(orders)], version=version), seps)
    segments = [seg for _, seg in X12Reader(data).segments()]
    assert encode_segments(segments, seps) == data
    writer = X12Writer(seps)
    writer.segments(segments, raw=True)
    assert writer.getvalue() == data


def test_round_trip_of_the_sample_is_exact(samples_dir: Path) -> None:
    for path in sorted((samples_dir / "x12").glob("*.edi")):
        data = path.read_bytes()
        header = next(X12Reader(data).events())
        assert isinstance(header, InterchangeHeader)
        segments = [seg for _, seg in X12Reader(data).segments()]
        assert encode_segments(segments, header.separators) == data, path.name
