"""Property tests: any legal separators and layout round-trip exactly through writer and
reader, and no mutation of a valid file makes the reader raise or hang.

Bounded (100-200 examples, small files) so the whole module runs in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.x12 import (
    Event,
    Finding,
    GroupEnvelope,
    GroupHeader,
    GroupTrailer,
    InterchangeEnvelope,
    InterchangeHeader,
    InterchangeTrailer,
    PartyId,
    Separators,
    TechnicalAck,
    TransactionSet,
    X12Reader,
    X12Writer,
    encode_segments,
)
from edigate.x12.summary import summarize
from edigate.x12.writer import Element

STAMP = dt.datetime(2026, 11, 23, 9, 30)

#: Characters a partner may declare as delimiters: punctuation, control characters and a
#: few non-ASCII ones (the corpus has an ellipsis terminator). Never letters, digits, space.
DELIMITER_POOL = (
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    + "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\r\n\x00")
    + "\x7f\u2026\u00a6"
)
TAGS = ["BEG", "REF", "N1", "N3", "PO1", "PID", "MSG", "DTM", "N9", "SDQ", "CTT"]
#: What values are made of: printable ASCII, a few non-ASCII letters, a no-break space.
VALUE_CHARS = string.ascii_letters + string.digits + string.punctuation + " éüß€\u00a0"


@dataclass(frozen=True)
class Layout:
    seps: Separators
    version: str


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    # About 1 in 10: the segment terminator is a line break, with no suffix.
    newline_terminator = draw(st.integers(0, 9)) == 0
    count = 3 if newline_terminator else 4
    chars = draw(
        st.lists(st.sampled_from(DELIMITER_POOL), min_size=count, max_size=count, unique=True)
    )
    with_repetition = draw(st.booleans())
    if newline_terminator:
        element, component, repetition = chars[0], chars[1], chars[2]
        segment, suffix = draw(st.sampled_from(["\n", "\r"])), ""
    else:
        element, component, segment, repetition = chars
        suffix = draw(st.sampled_from(["", "\n", "\r\n"]))
    rep = repetition if with_repetition else None
    return Layout(Separators(element, component, segment, rep, suffix), "00501" if rep else "00401")


def values(seps: Separators, *, min_size: int = 0) -> st.SearchStrategy[str]:
    allowed = "".join(c for c in VALUE_CHARS if c not in seps.delimiters())
    return st.text(alphabet=allowed, min_size=min_size, max_size=12)


@st.composite
def segments(draw: st.DrawFn, seps: Separators) -> list[Element]:
    tag = draw(st.sampled_from(TAGS))
    elements: list[Element] = [tag]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["simple", "simple", "composite", "repeat"]))
        if kind == "composite":
            elements.append(tuple(draw(st.lists(values(seps), min_size=1, max_size=4))))
        elif kind == "repeat" and seps.repetition:
            reps = draw(st.lists(values(seps, min_size=1), min_size=1, max_size=3))
            elements.append(list(reps))
        else:
            elements.append(draw(values(seps)))
    return elements


@st.composite
def interchanges(draw: st.DrawFn) -> tuple[Layout, list[list[list[Element]]], bytes]:
    """A layout, the transactions' bodies per group, and the file the writer made of them."""
    layout = draw(layouts())
    seps = layout.seps
    groups = draw(
        st.lists(
            st.lists(st.lists(segments(seps), min_size=1, max_size=5), min_size=1, max_size=3),
            min_size=1,
            max_size=2,
        )
    )
    writer = X12Writer(seps)
    sender = draw(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=15))
    writer.begin_interchange(
        InterchangeEnvelope(
            PartyId("ZZ", sender), PartyId("ZZ", "RECEIVER"), 7, layout.version, timestamp=STAMP
        )
    )
    for g, transactions in enumerate(groups, start=1):
        writer.begin_group(GroupEnvelope("PO", sender, "RECEIVER", g, timestamp=STAMP))
        for t, body in enumerate(transactions, start=1):
            writer.begin_transaction("850", t)
            for seg in body:
                writer.segment(seg)
            writer.end_transaction()
        writer.end_group()
    writer.end_interchange()
    return layout, groups, writer.getvalue()


def as_read(segment: list[Element], seps: Separators) -> list[str]:
    """What the reader returns for a written segment: composites and repeats joined."""

    def composite(value: tuple[str, ...]) -> str:
        parts = list(value)
        while parts and parts[-1] == "":
            parts.pop()
        return seps.component.join(parts)

    out: list[str] = []
    for element in segment:
        if isinstance(element, str):
            out.append(element)
        elif isinstance(element, tuple):
            out.append(composite(element))
        else:
            assert seps.repetition is not None
            reps = [composite(r) if isinstance(r, tuple) else r for r in element]
            out.append(seps.repetition.join(reps))
    return out


def all_findings(events: list[Event]) -> list[Finding]:
    out: list[Finding] = []
    for event in events:
        if isinstance(event, Finding):
            out.append(event)
        elif not isinstance(event, TechnicalAck):
            out.extend(event.findings)
    return out


FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(generated=interchanges(), chunk_size=st.sampled_from([1, 5, 64, 1 << 18]))
def test_writer_then_reader_round_trips_any_legal_layout(
    generated: tuple[Layout, list[list[list[Element]]], bytes], chunk_size: int
) -> None:
    layout, groups, data = generated
    seps = layout.seps
    events = list(X12Reader(data, chunk_size=chunk_size).events())
    assert all_findings(events) == []
    header = events[0]
    assert isinstance(header, InterchangeHeader) and header.separators == seps
    txs = [e for e in events if isinstance(e, TransactionSet)]
    expected = [body for group in groups for body in group]
    assert len(txs) == len(expected)
    for tx, body in zip(txs, expected, strict=True):
        assert tx.segments[1:-1] == [as_read(seg, seps) for seg in body]
        assert tx.segment_count == len(body) + 2
    # And the segments, written back with the same separators, are the same bytes.
    read_back = [seg for _, seg in X12Reader(data, chunk_size=chunk_size).segments()]
    assert encode_segments(read_back, seps) == data


# ---------------------------------------------------------------------- mutations
@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid file with 1-4 random byte flips, inserts, deletes or duplications."""
    _, _, data = draw(interchanges())
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buf:
            break
        at = draw(st.integers(0, len(buf) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "duplicate"]))
        if op == "flip":
            buf[at] = draw(st.integers(0, 255))
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del buf[at : at + draw(st.integers(1, 40))]
        else:
            buf[at:at] = buf[at : at + draw(st.integers(1, 120))]
    return bytes(buf)


EVENT_TYPES = (
    InterchangeHeader,
    GroupHeader,
    TransactionSet,
    GroupTrailer,
    InterchangeTrailer,
    TechnicalAck,
    Finding,
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=mutated(), chunk_size=st.sampled_from([1, 7, 64]))
def test_mutated_files_yield_structured_findings_never_exceptions(
    data: bytes, chunk_size: int
) -> None:
    events = list(X12Reader(data, chunk_size=chunk_size).events())
    assert len(events) <= len(data) + 2  # terminates: at most about one event per byte
    assert all(isinstance(e, EVENT_TYPES) for e in events)
    for finding in all_findings(events):
        assert finding.message and finding.code.label
        assert finding.location.segment is None or finding.location.segment >= 1
    # The same file read in one chunk gives the same events: no chunk-boundary effects.
    assert list(X12Reader(data).events()) == events
    segments = list(X12Reader(data, chunk_size=chunk_size).segments())
    assert all(isinstance(seg, list) and seg for _, seg in segments)
    summary = summarize(data)
    assert set(summary) >= {"interchanges", "errors"}
