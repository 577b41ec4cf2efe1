"""Streaming X12 reader: bytes in, envelope events out, every problem a :class:`Finding`.

Two levels, one tokenizer:

* :meth:`X12Reader.segments` yields every segment with its 1-based position in the file.
* :meth:`X12Reader.events` yields interchange and group headers and trailers, and each
  transaction set whole (ST..SE), checking control numbers and counts on the way.

The input is read in chunks and decoded incrementally, so memory is bounded by the chunk size
plus the largest transaction. Bytes are decoded as UTF-8 with ``surrogateescape`` (or EBCDIC
cp037 when the file starts with an EBCDIC ``ISA``): every byte survives, and
:func:`edigate.x12.writer` encodes it back unchanged.

Line breaks that are not delimiters are formatting, never data, so they are dropped before
splitting: this handles CR/LF after terminators and files hard-wrapped at 80 columns alike.

Usage::

    for event in X12Reader(open("po.edi", "rb")).events():
        if isinstance(event, TransactionSet):
            print(event.set_id, event.control_number, len(event.segments))
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .events import (
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Segment,
    TechnicalAck,
    TransactionSet,
)
from .findings import ErrorCode, Finding, Level, Location, Severity
from .isa import (
    ISA_LOOKAHEAD,
    IsaParse,
    build_header,
    looks_like_isa,
    parse_isa,
    valid_hhmm,
    valid_yymmdd,
)
from .separators import LINE_BREAKS, Separators
from .spec import GROUP_OF_SET, valid_date, valid_time

Source = bytes | bytearray | memoryview | BinaryIO | str | os.PathLike[str]

_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})
#: Interchange-level service segments of X12.5 (grade of service, deferred delivery,
#: delivery notice) that may stand between the ISA and the first GS.
_INTERCHANGE_SERVICES = frozenset({"ISB", "ISE", "TA3"})
#: GS01..GS08, as the findings name them.
_GS_NAMES = (
    "Functional Identifier Code",
    "Application Sender's Code",
    "Application Receiver's Code",
    "Date",
    "Time",
    "Group Control Number",
    "Responsible Agency Code",
    "Version / Release / Industry Identifier Code",
)
_BLANK = " \t\r\n\x0b\x0c"
_LEADING_JUNK = " \t\r\n\x0b\x0c\ufeff\x00\x1a"
_EBCDIC_ISA = b"\xc9\xe2\xc1"
#: Characters of junk quoted in its finding.
_JUNK_SAMPLE = 40
#: Bytes read before guessing the encoding, so tiny chunk sizes sniff the same way.
_SNIFF_BYTES = 1024


def _lenient(error: UnicodeError) -> tuple[str, int]:
    """``surrogateescape`` where it can (bytes from 0x80), U+FFFD where it cannot.

    UTF-16 input can break in ways ``surrogateescape`` refuses (an odd trailing byte below
    0x80); that must become bad data the reader reports, not an exception.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + b) if b >= 0x80 else "\ufffd" for b in bad), error.end


_LENIENT = "edigate-x12-lenient"
codecs.register_error(_LENIENT, _lenient)


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Bounds that keep a hostile file from taking the memory of the gateway."""

    max_segment_chars: int = 1 << 20
    max_transaction_segments: int = 500_000


def components(value: str, separators: Separators) -> tuple[str, ...]:
    """Split a composite element into its components (always a tuple, even for one)."""
    return tuple(value.split(separators.component))


def repetitions(value: str, separators: Separators) -> tuple[str, ...]:
    """Split a repeated element (5010 ISA11) into its repeats."""
    if separators.repetition is None:
        return (value,)
    return tuple(value.split(separators.repetition))


class X12Reader:
    """Read X12 from bytes, a binary stream or a path. Iterate once."""

    def __init__(
        self,
        source: Source,
        *,
        chunk_size: int = 1 << 18,
        limits: ReaderLimits | None = None,
    ) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self.limits = limits or ReaderLimits()
        self.encoding = "utf-8"

    # ------------------------------------------------------------------ public iteration
    def events(self) -> Iterator[Event]:
        """Envelope events in file order. Never raises on bad input."""
        structure = _Structure(self.limits)
        for region in self._regions():
            kind = region[0]
            if kind == "parts":
                yield from structure.feed(region[1], region[2], region[3])
            elif kind == "isa":
                yield from structure.start_interchange(region[1])
            elif kind == "oversized":
                structure.oversized_segment(region[1], region[2])
            else:  # "finding"
                finding: Finding = region[1]
                if finding.code.level is Level.FILE or not structure.in_interchange:
                    yield finding
                else:
                    structure.interchange_finding(finding)
        yield from structure.finish()

    def segments(self) -> Iterator[tuple[int, Segment]]:
        """Every segment as ``(position, elements)``; findings are not reported here.

        An empty segment inside an interchange is yielded as ``[""]`` (it is an error there);
        blank lines outside one are formatting and skipped, as :meth:`events` does.
        """
        inside = False
        for region in self._regions():
            if region[0] == "parts":
                parts, position, seps = region[1], region[2], region[3]
                blank = _blank_chars(seps)
                es = seps.element
                for part in parts:
                    position += 1
                    els = part.lstrip(blank).split(es)
                    tag = els[0]
                    if tag == "IEA":
                        inside = False
                    elif tag == "ISA":
                        inside = True
                    elif not tag and not inside:
                        continue
                    yield position, els
            elif region[0] == "isa":
                inside = True
                yield region[1].position, region[1].segment

    # ------------------------------------------------------------------ tokenizer
    def _texts(self) -> Iterator[str]:
        """Decoded text chunks. Sniffs EBCDIC from the first bytes."""
        stream, close = _open(self._source)
        try:
            first = stream.read(self._chunk_size)
            while 0 < len(first) < _SNIFF_BYTES:
                extra = stream.read(self._chunk_size)
                if not extra:
                    break
                first += extra
            self.encoding = sniff_encoding(first)
            errors = "surrogateescape" if self.encoding == "utf-8" else _LENIENT
            decoder = codecs.getincrementaldecoder(self.encoding)(errors=errors)
            chunk = first
            while chunk:
                text = decoder.decode(chunk)
                if text:
                    yield text
                chunk = stream.read(self._chunk_size)
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        finally:
            if close:
                stream.close()

    def _regions(self) -> Iterator[tuple]:  # type: ignore[type-arg]
        """Cut the text into ISAs and runs of whole segments under one set of separators.

        Yields ``("isa", header)``, ``("parts", [segment texts], position_before, separators)``,
        ``("finding", Finding)`` and ``("oversized", position, tag)``.
        """
        texts = self._texts()
        buf = ""
        eof = False
        seps: Separators | None = None
        position = 0
        seen_interchange = False
        skipping_oversized = False
        max_seg = self.limits.max_segment_chars

        def more() -> bool:
            nonlocal buf, eof
            if eof:
                return False
            text = next(texts, None)
            if text is None:
                eof = True
                return False
            buf = buf + text if buf else text
            return True

        while True:
            if not buf and not more():
                break
            if seps is None:
                # Between interchanges: whitespace, an ISA, or junk. A BOM, NULs or Ctrl-Z are
                # tolerated before the first ISA only: after an IEA they are reported as junk.
                start = _skip(buf, 0, _BLANK if seen_interchange else _LEADING_JUNK)
                if start == len(buf):
                    buf = ""
                    if not more():
                        break
                    continue
                if len(buf) - start < 4 and not eof:
                    more()
                    continue
                if not looks_like_isa(buf, start):
                    nxt = _find_isa(buf, start + 1)
                    # The sample in the finding must not depend on where a chunk ended.
                    if not eof and len(buf) < (nxt if nxt >= 0 else start + _JUNK_SAMPLE) + 4:
                        more()
                        continue
                    yield (
                        "finding",
                        _junk_finding(buf, start, nxt, position, seen_interchange),
                    )
                    if nxt < 0:
                        # Keep a short tail: an ISA may straddle the chunk boundary.
                        buf = buf[-3:]
                        while more():
                            nxt = _find_isa(buf, 0)
                            if nxt >= 0:
                                break
                            buf = buf[-3:]
                        if nxt < 0:
                            break
                    buf = buf[nxt:]
                    continue
                # Hold the ISA and the lines after it (they tell a missing ISA16 apart), so
                # the parse never depends on where a chunk ended.
                if len(buf) - start < ISA_LOOKAHEAD and more():
                    continue
                parse = parse_isa(buf, start, position + 1, at_eof=eof)
                if parse is None:
                    more()
                    continue
                position += 1
                if parse.separators is None:
                    for finding in parse.findings:
                        yield ("finding", finding)
                    # Unusable ISA: skip to the next one, even one the bad ISA ran into; the
                    # skipped text is reported as junk.
                    nxt = _find_isa(buf, start + 3)
                    buf = buf[nxt:] if 0 <= nxt < parse.end else buf[parse.end :]
                    continue
                buf = buf[parse.end :]
                seen_interchange = True
                seps = parse.separators
                yield ("isa", build_header(parse, position, self.encoding))
                continue

            # Inside an interchange: take whole segments up to the last terminator, or up to
            # the next ISA (which may declare other separators).
            term = seps.segment
            boundary = _find_isa_boundary(buf, term)
            if boundary >= 0:
                end = boundary
                next_seps: Separators | None = None
            else:
                cut = buf.rfind(term)
                if cut < 0:
                    if eof:
                        end = len(buf)
                    else:
                        if len(buf) > max_seg and _segment_chars(buf, seps) > max_seg:
                            if not skipping_oversized:
                                position += 1
                                yield ("oversized", position, _tag_of(buf, seps))
                                skipping_oversized = True
                            buf = ""
                        more()
                        continue
                else:
                    end = cut + 1
                next_seps = seps
            # The IEA ends the interchange: what follows it is read as at the start of a file,
            # so junk before the next ISA (a BOM, Ctrl-Z, a line of text) cannot hide it.
            first = 0
            if skipping_oversized:  # not inside the rest of the oversized segment
                first = buf.find(term, 0, end) + 1
                first = first if first > 0 else end
            iea_end = _find_iea_end(buf, first, end, seps)
            if iea_end >= 0:
                end, next_seps = iea_end, None
            region, buf = buf[:end], buf[end:]
            if skipping_oversized:
                # Drop the rest of the oversized segment, up to its terminator.
                end = region.find(term)
                region = region[end + 1 :] if end >= 0 else ""
                skipping_oversized = end < 0 and next_seps is not None
            parts = _split(region, seps)
            if parts:
                if len(region) > max_seg:  # only then can one segment be too long
                    yield from _cut_oversized(parts, position, seps, max_seg)
                else:
                    yield ("parts", parts, position, seps)
                position += len(parts)
            seps = next_seps
            if eof and not buf:
                break


class _ControlNumbers:
    """The ST02s seen in one group, to find duplicates in constant memory for the usual case.

    Consecutive numbers of one width (0001, 0002, ...) are kept as a range; only numbers
    that break the run go into a set. A set of every ST02 would grow with the file.
    """

    __slots__ = ("first", "last", "others", "width")

    def __init__(self) -> None:
        self.width = 0
        self.first = 0
        self.last = -1
        self.others: set[str] = set()

    def add(self, control: str) -> bool:
        """Record ``control``; False when it was seen before."""
        if control in self.others:
            return False
        if control.isdigit() and control.isascii():
            number = int(control)
            if len(control) == self.width:
                if self.first <= number <= self.last:
                    return False
                if number == self.last + 1:
                    self.last = number
                    return True
            elif self.last < self.first:  # no run yet: start one
                self.width, self.first, self.last = len(control), number, number
                return True
        self.others.add(control)
        return True


class _Structure:
    """The envelope state machine: turns segments into events and checks the envelope."""

    def __init__(self, limits: ReaderLimits) -> None:
        self.limits = limits
        self.isa: InterchangeHeader | None = None
        self.isa_findings: list[Finding] = []
        self.gs: GroupHeader | None = None
        self.group_findings: list[Finding] = []
        #: ST01s that do not belong in the open group (by its GS01), and the GS06s seen.
        self.foreign_sets: frozenset[str] = frozenset()
        self.group_controls: set[str] = set()
        self.group_count = 0
        self.ta1_count = 0
        self.tx: TransactionSet | None = None
        self.tx_segments: list[Segment] | None = None
        self.tx_dropped = 0
        self.tx_empty = 0
        self.tx_count = 0
        self.tx_controls = _ControlNumbers()
        self.out: list[Event] = []
        self.position = 0
        self.orphan_run = False
        self.seps: Separators | None = None

    @property
    def in_interchange(self) -> bool:
        return self.isa is not None

    # ---------------------------------------------------------------- hot loop
    def feed(self, parts: list[str], position: int, seps: Separators) -> Iterator[Event]:
        self.seps = seps
        es = seps.element
        blank = _blank_chars(seps)
        out = self.out
        segs = self.tx_segments
        envelope = _ENVELOPE
        for part in parts:
            position += 1
            if not part or part[0] in blank:
                part = part.lstrip(blank)
                if not part:
                    self.empty_segment(position)
                    segs = self.tx_segments
                    if out:
                        yield from out
                        out.clear()
                    continue
            els = part.split(es)
            tag = els[0]
            if tag in envelope:
                self.position = position
                self.envelope(tag, els, position)
                segs = self.tx_segments
                if out:
                    yield from out
                    out.clear()
            elif segs is not None:
                segs.append(els)
            else:
                self.orphan(els, position)
                if out:
                    yield from out
                    out.clear()
        self.position = position
        if segs is not None and len(segs) > self.limits.max_transaction_segments:
            self.truncate_transaction()

    # ---------------------------------------------------------------- envelope segments
    def start_interchange(self, header: InterchangeHeader) -> Iterator[Event]:
        self.position = header.position
        if self.isa is not None:
            self.close_interchange(None, header.position)
        self.isa = header
        self.isa_findings = []
        self.group_count = 0
        self.group_controls = set()
        self.ta1_count = 0
        self.orphan_run = False
        self.seps = header.separators
        self.out.append(header)
        yield from self.out
        self.out.clear()

    def envelope(self, tag: str, els: Segment, pos: int) -> None:
        if self.isa is not None:  # after the IEA, a run of stray segments is one finding
            self.orphan_run = False
        if tag == "ST":
            self.open_transaction(els, pos)
        elif tag == "SE":
            self.close_transaction(els, pos)
        elif tag == "GS":
            self.open_group(els, pos)
        elif tag == "GE":
            self.close_group(els, pos)
        elif tag == "IEA":
            self.close_interchange(els, pos)
        elif tag == "TA1":
            self.technical_ack(els, pos)
        else:  # ISA not at a boundary we could see, e.g. after indentation
            self.inline_isa(els, pos)

    def open_transaction(self, els: Segment, pos: int) -> None:
        isa = self.isa
        if isa is None:
            self.orphan(els, pos)
            return
        if self.tx is not None:
            self._close_open_transaction(pos)
        set_id = els[1].strip() if len(els) > 1 else ""
        control = els[2].strip() if len(els) > 2 else ""
        tx = TransactionSet(set_id, control, [els], pos, isa, self.gs)
        self.tx = tx
        self.tx_segments = tx.segments
        self.tx_dropped = 0
        self.tx_empty = 0
        # The usual ST: a 3-character ID, a new control number of 4 to 9, inside a group.
        if (
            len(set_id) == 3
            and set_id.isalnum()
            and 4 <= len(control) <= 9
            and self.gs is not None
            and set_id not in self.foreign_sets
            and self.tx_controls.add(control)
        ):
            return
        loc = Location(
            segment=pos,
            tag="ST",
            segment_in_transaction=1,
            interchange_control=isa.control_number,
            group_control=self.gs.control_number if self.gs else None,
            transaction_control=control,
        )
        if not (len(set_id) == 3 and set_id.isalnum()):
            tx.findings.append(
                Finding(
                    ErrorCode.INVALID_TRANSACTION_ID,
                    _with(loc, element=1),
                    f"ST01 must be a 3-character transaction set ID, got {set_id!r}",
                    value=set_id,
                )
            )
        if not 4 <= len(control) <= 9:
            tx.findings.append(
                Finding(
                    ErrorCode.INVALID_TRANSACTION_CONTROL_NUMBER,
                    _with(loc, element=2),
                    f"ST02 must be 4 to 9 characters, got {control!r}",
                    value=control,
                )
            )
        elif not self.tx_controls.add(control):  # the same answer when asked again
            tx.findings.append(
                Finding(
                    ErrorCode.DUPLICATE_TRANSACTION_CONTROL_NUMBER,
                    _with(loc, element=2),
                    f"ST02 {control} is used twice in this functional group",
                    value=control,
                )
            )
        if self.gs is not None and set_id in self.foreign_sets:
            tx.findings.append(self._foreign_set(self.gs, set_id, _with(loc, element=1)))
        if self.gs is None:
            tx.findings.append(
                Finding(
                    ErrorCode.TRANSACTION_NOT_IN_GROUP,
                    loc,
                    "ST outside a functional group: expected GS before it",
                )
            )

    def close_transaction(self, els: Segment, pos: int) -> None:
        tx = self.tx
        if tx is None or self.tx_segments is None:
            self.orphan(els, pos)
            return
        segs = self.tx_segments
        if len(segs) > self.limits.max_transaction_segments:
            self.truncate_transaction()
        segs.append(els)
        tx.segment_count = len(segs) + self.tx_dropped
        # Empty segments are reported on their own and not counted: the sender's SE01
        # counts the segments it wrote, and ``~~`` is most likely a doubled terminator.
        count = tx.segment_count - self.tx_empty
        declared = els[1].strip() if len(els) > 1 else ""
        if (
            len(els) == 3 and els[2] == tx.control_number and declared == str(count)
        ):  # the usual SE: right count, right control number, nothing to report
            self._emit_transaction()
            return
        loc = Location(
            segment=pos,
            tag="SE",
            segment_in_transaction=count,
            interchange_control=tx.interchange.control_number,
            group_control=tx.group.control_number if tx.group else None,
            transaction_control=tx.control_number,
        )
        if declared != str(count) and not (declared.isdigit() and int(declared) == count):
            empties = f", not counting {self.tx_empty} empty" if self.tx_empty else ""
            tx.findings.append(
                Finding(
                    ErrorCode.SEGMENT_COUNT_MISMATCH,
                    _with(loc, element=1),
                    f"SE01 says {declared or 'nothing'}, but the transaction has {count} "
                    f"segments (ST through SE{empties})",
                    value=declared,
                )
            )
        trailer_control = els[2].rstrip() if len(els) > 2 else ""
        if trailer_control != tx.control_number:
            tx.findings.append(
                Finding(
                    ErrorCode.TRANSACTION_CONTROL_MISMATCH,
                    _with(loc, element=2),
                    f"SE02 {trailer_control!r} does not match ST02 {tx.control_number!r}",
                    value=trailer_control,
                )
            )
        self._emit_transaction()

    def _close_open_transaction(self, pos: int) -> None:
        """The transaction ended without an SE (another envelope segment or EOF came first)."""
        tx = self.tx
        assert tx is not None and self.tx_segments is not None
        if len(self.tx_segments) > self.limits.max_transaction_segments:
            self.truncate_transaction()
        tx.segment_count = len(self.tx_segments) + self.tx_dropped
        tx.findings.append(
            Finding(
                ErrorCode.TRANSACTION_TRAILER_MISSING,
                Location(
                    segment=pos,
                    tag="SE",
                    interchange_control=tx.interchange.control_number,
                    group_control=tx.group.control_number if tx.group else None,
                    transaction_control=tx.control_number,
                ),
                f"transaction set {tx.set_id} {tx.control_number} (ST at segment "
                f"{tx.position}) has no SE before segment {pos}",
            )
        )
        self._emit_transaction()

    def _emit_transaction(self) -> None:
        assert self.tx is not None
        self.out.append(self.tx)
        self.tx = None
        self.tx_segments = None
        self.tx_count += 1

    def truncate_transaction(self) -> None:
        """Keep the first segments up to the limit, count the rest, and say so once.

        Keeping a fixed prefix (not whatever a chunk held) makes the result independent of
        the chunk size.
        """
        tx, segs = self.tx, self.tx_segments
        assert tx is not None and segs is not None
        limit = self.limits.max_transaction_segments
        if self.tx_dropped == 0:
            tx.findings.append(
                Finding(
                    ErrorCode.TRANSACTION_TOO_LARGE,
                    Location(
                        segment=tx.position,
                        tag="ST",
                        segment_in_transaction=1,
                        interchange_control=tx.interchange.control_number,
                        group_control=tx.group.control_number if tx.group else None,
                        transaction_control=tx.control_number,
                    ),
                    f"transaction set has more than {limit} segments; segments after "
                    f"segment {tx.position + limit - 1} are counted but not kept",
                )
            )
        self.tx_dropped += len(segs) - limit
        del segs[limit:]

    def open_group(self, els: Segment, pos: int) -> None:
        isa = self.isa
        if isa is None:
            self.orphan(els, pos)
            return
        if self.tx is not None:
            self._close_open_transaction(pos)
        if self.gs is not None:
            self._close_open_group(pos)
        values = [v.strip() for v in els] + [""] * (9 - len(els))
        gs = GroupHeader(
            segment=els,
            position=pos,
            interchange=isa,
            functional_id=values[1],
            sender=values[2],
            receiver=values[3],
            date=values[4],
            time=values[5],
            control_number=values[6],
            agency=values[7],
            version=values[8],
        )
        loc = Location(segment=pos, tag="GS", interchange_control=isa.control_number)
        if len(els) < 9:
            gs.findings.append(
                Finding(
                    ErrorCode.GROUP_ELEMENT_MISSING,
                    _with(loc, element=len(els)),
                    f"GS has {len(els) - 1} elements, needs 8 (GS01..GS08)",
                )
            )
        if not (gs.control_number.isdigit() and len(gs.control_number) <= 9):
            gs.findings.append(
                Finding(
                    ErrorCode.INVALID_GROUP_CONTROL_NUMBER,
                    _with(loc, element=6),
                    f"GS06 must be 1 to 9 digits, got {gs.control_number!r}",
                    value=gs.control_number,
                )
            )
        elif gs.control_number in self.group_controls:
            gs.findings.append(
                Finding(
                    ErrorCode.DUPLICATE_GROUP_CONTROL_NUMBER,
                    _with(loc, element=6),
                    f"GS06 {gs.control_number} is used twice in this interchange",
                    value=gs.control_number,
                )
            )
        self.group_controls.add(gs.control_number)
        gs.findings.extend(_group_element_findings(values, len(els), loc, isa.version))
        self.foreign_sets = _foreign_sets(gs.functional_id)
        self.gs = gs
        self.group_findings = []
        self.group_count += 1
        self.tx_count = 0
        self.tx_controls = _ControlNumbers()
        self.out.append(gs)

    @staticmethod
    def _foreign_set(gs: GroupHeader, set_id: str, loc: Location) -> Finding:
        """ST01 names a set of another functional group than GS01 says (X12.6: a group holds
        sets of one functional identifier): that set is rejected as AK502 6, the code for an
        invalid transaction set identifier."""
        expected = GROUP_OF_SET[set_id]
        return Finding(
            ErrorCode.INVALID_TRANSACTION_ID,
            loc,
            f"ST01 {set_id} does not belong in a GS01 {gs.functional_id!r} group "
            f"(GS at segment {gs.position}): transaction set {set_id} is sent in a GS01 "
            f"{expected!r} group",
            value=set_id,
        )

    def close_group(self, els: Segment, pos: int) -> None:
        gs = self.gs
        if gs is None:
            self.orphan(els, pos)
            return
        if self.tx is not None:
            self._close_open_transaction(pos)
        loc = Location(
            segment=pos,
            tag="GE",
            interchange_control=gs.interchange.control_number,
            group_control=gs.control_number,
        )
        declared = els[1].strip() if len(els) > 1 else ""
        if not (declared.isdigit() and int(declared) == self.tx_count):
            self.group_findings.append(
                Finding(
                    ErrorCode.TRANSACTION_COUNT_MISMATCH,
                    _with(loc, element=1),
                    f"GE01 says {declared or 'nothing'}, but the group has {self.tx_count} "
                    "transaction sets",
                    value=declared,
                )
            )
        control = els[2].rstrip() if len(els) > 2 else ""
        if control != gs.control_number:
            self.group_findings.append(
                Finding(
                    ErrorCode.GROUP_CONTROL_MISMATCH,
                    _with(loc, element=2),
                    f"GE02 {control!r} does not match GS06 {gs.control_number!r}",
                    value=control,
                )
            )
        self.out.append(GroupTrailer(gs, els, pos, self.tx_count, self.group_findings))
        self.gs = None
        self.group_findings = []

    def _close_open_group(self, pos: int) -> None:
        gs = self.gs
        assert gs is not None
        self.group_findings.append(
            Finding(
                ErrorCode.GROUP_TRAILER_MISSING,
                Location(
                    segment=pos,
                    tag="GE",
                    interchange_control=gs.interchange.control_number,
                    group_control=gs.control_number,
                ),
                f"functional group {gs.control_number} (GS at segment {gs.position}) has no GE "
                f"before segment {pos}",
            )
        )
        self.out.append(GroupTrailer(gs, None, pos, self.tx_count, self.group_findings))
        self.gs = None
        self.group_findings = []

    def close_interchange(self, els: Segment | None, pos: int) -> None:
        isa = self.isa
        if isa is None:
            assert els is not None
            self.orphan(els, pos)
            return
        if self.tx is not None:
            self._close_open_transaction(pos)
        if self.gs is not None:
            self._close_open_group(pos)
        findings = self.isa_findings
        loc = Location(segment=pos, tag="IEA", interchange_control=isa.control_number)
        if els is None:
            findings.append(
                Finding(
                    ErrorCode.PREMATURE_END_OF_FILE,
                    loc,
                    f"interchange {isa.control_number} (ISA at segment {isa.position}) has no "
                    f"IEA before segment {pos}",
                )
            )
        else:
            declared = els[1].strip() if len(els) > 1 else ""
            counts_ta1 = self.group_count == 0 and declared == str(self.ta1_count) != "0"
            if not (declared.isdigit() and int(declared) == self.group_count):
                findings.append(
                    Finding(
                        ErrorCode.GROUP_COUNT_MISMATCH,
                        _with(loc, element=1),
                        f"IEA01 says {declared or 'nothing'}, but the interchange has "
                        f"{self.group_count} functional groups"
                        + (" (it seems to count the TA1 segments)" if counts_ta1 else ""),
                        value=declared,
                        severity=Severity.WARNING if counts_ta1 else Severity.ERROR,
                    )
                )
            control = els[2].rstrip() if len(els) > 2 else ""
            if control != isa.control_number:
                same_number = control.isdigit() and isa.control_number.isdigit()
                same_number = same_number and int(control) == int(isa.control_number)
                findings.append(
                    Finding(
                        ErrorCode.INTERCHANGE_CONTROL_MISMATCH,
                        _with(loc, element=2),
                        f"IEA02 {control!r} does not match ISA13 {isa.control_number!r}"
                        + (" (same number, different padding)" if same_number else ""),
                        value=control,
                        severity=Severity.WARNING if same_number else Severity.ERROR,
                    )
                )
        self.out.append(InterchangeTrailer(isa, els, pos, self.group_count, findings))
        self.isa = None
        self.isa_findings = []

    def technical_ack(self, els: Segment, pos: int) -> None:
        if self.tx_segments is not None:
            self.tx_segments.append(els)
        elif self.isa is None:
            self.orphan(els, pos)
        else:
            self.ta1_count += 1
            loc = Location(segment=pos, tag="TA1", interchange_control=self.isa.control_number)
            self.isa_findings.extend(_technical_ack_findings(els, loc))
            self.out.append(TechnicalAck(els, pos, self.isa))

    def inline_isa(self, els: Segment, pos: int) -> None:
        seps = self.seps
        assert seps is not None
        if len(els) == 17 and els[16] == seps.component:
            parse = IsaParse(els, seps, 0)
            header = build_header(parse, pos, self.isa.encoding if self.isa else "utf-8")
            if self.isa is not None:
                self.close_interchange(None, pos)
            self.isa = header
            self.isa_findings = []
            self.group_count = 0
            self.group_controls = set()
            self.out.append(header)
            return
        finding = Finding(
            ErrorCode.INVALID_CONTROL_STRUCTURE,
            Location(segment=pos, tag="ISA"),
            "ISA inside an interchange that cannot be read with the current separators",
        )
        self.interchange_finding(finding)

    # ---------------------------------------------------------------- problems
    def orphan(self, els: Segment, pos: int) -> None:
        """A segment where none may stand: report the first of each run."""
        if els[0] in _INTERCHANGE_SERVICES and self.isa is not None and self.gs is None:
            return  # ISB/ISE/TA3: optional interchange service segments (X12.5), not content
        if self.orphan_run:
            return
        self.orphan_run = True
        tag = els[0]
        if self.isa is None:
            self.out.append(
                Finding(
                    ErrorCode.JUNK_AFTER_INTERCHANGE,
                    Location(segment=pos, tag=tag),
                    f"segment {tag!r} outside any interchange (after IEA or before ISA)",
                    value=tag,
                )
            )
            return
        where = "functional group" if self.gs is not None else "interchange"
        expected = "ST" if self.gs is not None else "GS"
        finding = Finding(
            ErrorCode.INVALID_INTERCHANGE_CONTENT,
            Location(
                segment=pos,
                tag=tag,
                interchange_control=self.isa.control_number,
                group_control=self.gs.control_number if self.gs else None,
            ),
            f"segment {tag!r} outside a transaction set in the {where}: expected {expected}",
            value=tag,
        )
        if self.gs is not None:
            self.group_findings.append(finding)
        else:
            self.isa_findings.append(finding)

    def empty_segment(self, pos: int) -> None:
        """``~~`` inside a transaction: an error on the segment it follows (the terminator
        is doubled there), which AK3 can name; the empty one is not counted (see
        :meth:`TransactionSet.place`)."""
        tx = self.tx
        segs = self.tx_segments
        if tx is not None and segs is not None:
            logical = len(segs) + self.tx_dropped  # its index, had nothing been dropped
            before, empties, n = logical - 1, tx.empty, len(tx.empty)
            while n and empties[n - 1] == before:  # ~~~: the segment before all of them
                n, before = n - 1, before - 1
            tag = next((s[0] for s in reversed(segs) if s != [""]), "ST")
            empties.append(logical)
            segs.append([""])
            self.tx_empty += 1
            tx.findings.append(
                Finding(
                    ErrorCode.EMPTY_SEGMENT,
                    Location(
                        segment=pos - (logical - before),
                        tag=tag,
                        segment_in_transaction=before + 1 - n,
                        interchange_control=tx.interchange.control_number,
                        group_control=tx.group.control_number if tx.group else None,
                        transaction_control=tx.control_number,
                    ),
                    f"empty segment after {tag} (two segment terminators in a row; "
                    "not counted in SE01)",
                    value="",
                )
            )
        elif self.isa is not None:
            self.orphan([""], pos)
        # Blank lines between interchanges are formatting, not segments.

    def oversized_segment(self, pos: int, tag: str) -> None:
        """A segment over the size limit was skipped: a transaction missing one is rejected."""
        message = (
            f"segment longer than {self.limits.max_segment_chars} characters (the reader's "
            "limit per segment): skipped up to its terminator"
        )
        tx, segs = self.tx, self.tx_segments
        if tx is not None and segs is not None:
            segs.append([""])  # a placeholder keeps the positions of the segments after it
            location = Location(
                segment=pos,
                tag=tag or None,
                segment_in_transaction=len(segs) + self.tx_dropped,
                interchange_control=tx.interchange.control_number,
                group_control=tx.group.control_number if tx.group else None,
                transaction_control=tx.control_number,
            )
            tx.findings.append(Finding(ErrorCode.SEGMENT_TOO_LONG, location, message, value=tag))
            return
        finding = Finding(
            ErrorCode.INVALID_INTERCHANGE_CONTENT, Location(segment=pos, tag=tag or None), message
        )
        if self.isa is not None:
            self.isa_findings.append(finding)
        else:
            self.out.append(finding)

    def interchange_finding(self, finding: Finding) -> None:
        self.isa_findings.append(finding)

    def finish(self) -> Iterator[Event]:
        if self.isa is not None:
            self.close_interchange(None, self.position + 1)
        yield from self.out
        self.out.clear()


# ---------------------------------------------------------------------- helpers
def _open(source: Source) -> tuple[BinaryIO, bool]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True
    return source, False


def sniff_encoding(first: bytes) -> str:
    """UTF-8 unless the first bytes say EBCDIC or UTF-16 (seen in real partner files)."""
    if first[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(first) >= 4 and first[1] == 0 and first[3] == 0 and first[0] != 0:
        return "utf-16-le"
    if len(first) >= 4 and first[0] == 0 and first[2] == 0 and first[1] != 0:
        return "utf-16-be"
    if first.lstrip(b" \t\r\n\x00\x40\x25\x0d")[:3] == _EBCDIC_ISA:
        return "cp037"
    return "utf-8"


def _blank_chars(seps: Separators) -> str:
    return "".join(c for c in _BLANK if c not in seps.delimiters())


def _skip(text: str, start: int, chars: str) -> int:
    n = len(text)
    while start < n and text[start] in chars:
        start += 1
    return start


def _find_isa(text: str, start: int) -> int:
    """Index of the next plausible ISA at or after ``start``, or -1."""
    i = text.find("ISA", start)
    while i >= 0:
        if len(text) < i + 4 or looks_like_isa(text, i):
            return i
        i = text.find("ISA", i + 1)
    return -1


def _find_isa_boundary(text: str, terminator: str) -> int:
    """Index of an ISA that opens a new segment (only blanks since a terminator), or -1."""
    i = text.find("ISA")
    while i >= 0:
        j = i - 1
        while j >= 0 and text[j] in _BLANK and text[j] != terminator:
            j -= 1
        if (j < 0 or text[j] == terminator) and len(text) > i + 3 and looks_like_isa(text, i):
            return i
        i = text.find("ISA", i + 1)
    return -1


def _foreign_sets(functional_id: str) -> frozenset[str]:
    """The known ST01s that do not belong in a group with this GS01, whatever it is.

    Judged from the set's side: an 850 is sent in a PO group, so a GS01 of OW (or one no
    table knows) is not its group. An ST01 not in :data:`GROUP_OF_SET` is never judged.
    """
    return frozenset(s for s, g in GROUP_OF_SET.items() if g != functional_id)


def _group_element_findings(
    values: list[str], count: int, loc: Location, isa_version: str
) -> list[Finding]:
    """GS01..GS08 present but empty, and GS04, GS05 and GS07 that are not what X12 allows.

    Elements missing from the end are reported once, by the element count; GS06 has its own
    AK905 code. These reject the group with AK905 1 (see ``ErrorCode.INVALID_GROUP_DATE``).
    """
    out: list[Finding] = []
    for index in range(1, min(count, 9)):
        if index != 6 and not values[index]:
            out.append(
                Finding(
                    ErrorCode.GROUP_ELEMENT_MISSING,
                    _with(loc, element=index),
                    f"GS{index:02d} ({_GS_NAMES[index - 1]}) is empty: it is mandatory",
                )
            )
    date, time, agency = values[4], values[5], values[7]
    if date and not valid_date(date, _gs_date_lengths(values[8], isa_version)):
        out.append(
            Finding(
                ErrorCode.INVALID_GROUP_DATE,
                _with(loc, element=4),
                f"GS04 (Date) {date!r} is not a valid date (CCYYMMDD)",
                value=date,
            )
        )
    if time and not valid_time(time):
        out.append(
            Finding(
                ErrorCode.INVALID_GROUP_TIME,
                _with(loc, element=5),
                f"GS05 (Time) {time!r} is not a valid time (HHMM[SS[dd]])",
                value=time,
            )
        )
    if agency and agency not in ("X", "T"):
        out.append(
            Finding(
                ErrorCode.INVALID_GROUP_AGENCY,
                _with(loc, element=7),
                f"GS07 (Responsible Agency Code) {agency!r} is not a valid code (X, T)",
                value=agency,
            )
        )
    return out


def _nine_digits(value: str) -> bool:
    return len(value) == 9 and value.isdigit()


def _ta1_status(value: str) -> bool:
    return value in ("A", "E", "R")


def _note_code(value: str) -> bool:
    return len(value) == 3 and value.isalnum()


#: TA101..TA105: name, what X12 allows (for the message), and the check.
_TA1_ELEMENTS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("Interchange Control Number", "9 digits", _nine_digits),
    ("Interchange Date", "a date YYMMDD", valid_yymmdd),
    ("Interchange Time", "a time HHMM", valid_hhmm),
    ("Interchange Acknowledgment Code", "A, E or R", _ta1_status),
    ("Interchange Note Code", "3 characters", _note_code),
)


def _technical_ack_findings(els: Segment, loc: Location) -> list[Finding]:
    """TA101..TA105 as X12 defines them (N0 9/9, DT 6/6, TM 4/4, ID A/E/R, ID 3/3), all
    mandatory. A TA1 the partner sent is content of the interchange: its errors are
    TA105 024, each at its element."""
    out: list[Finding] = []
    for index, (name, allowed, valid) in enumerate(_TA1_ELEMENTS, start=1):
        value = els[index] if index < len(els) else ""
        if not value:
            message = f"TA1{index:02d} ({name}) is missing: it is mandatory"
        elif not valid(value):
            message = f"TA1{index:02d} ({name}) {value!r} is not {allowed}"
        else:
            continue
        out.append(
            Finding(
                ErrorCode.INVALID_TECHNICAL_ACK,
                _with(loc, element=index),
                message,
                value=value or None,
            )
        )
    if len(els) > 6:
        out.append(
            Finding(
                ErrorCode.INVALID_TECHNICAL_ACK,
                _with(loc, element=6),
                f"TA1 has {len(els) - 1} elements, expected 5; the rest is ignored",
                value=els[6],
                severity=Severity.WARNING,
            )
        )
    return out


def _gs_date_lengths(version: str, isa_version: str) -> frozenset[int]:
    """GS04 is CCYYMMDD from 004010 on; before it groups were dated YYMMDD, which a sender
    on an older interchange version (ISA12 below 00401) may still write."""
    digits = version[:6]
    old_group = len(digits) == 6 and digits.isdigit() and digits < "004000"
    old_isa = len(isa_version) == 5 and isa_version.isdigit() and isa_version < "00401"
    return frozenset({6, 8}) if old_group or old_isa else frozenset({8})


def _find_iea_end(text: str, start: int, limit: int, seps: Separators) -> int:
    """Index just past the terminator of the first IEA segment in ``text[start:limit]``, or -1.

    One ``str.find`` per run of segments (not per segment) keeps the hot path as it is.
    """
    term = seps.segment
    i = text.find("IEA", start, limit)
    while i >= 0:
        j = i - 1
        while j >= start and text[j] in _BLANK and text[j] != term:
            j -= 1
        if (j < start or text[j] == term) and text[i + 3 : i + 4] == seps.element:
            stop = text.find(term, i + 4, limit)
            return stop + 1 if stop >= 0 else -1
        i = text.find("IEA", i + 1, limit)
    return -1


def _tag_of(text: str, seps: Separators) -> str:
    """The segment ID a segment's text opens with (for messages), or ``""``."""
    tag = text[:64].lstrip(_blank_chars(seps)).split(seps.element, 1)[0][:4]
    return tag if 2 <= len(tag) <= 3 and tag.isalnum() else ""


def _split(region: str, seps: Separators) -> list[str]:
    """Split a run of whole segments; drop non-delimiter line breaks and a blank tail."""
    delims = seps.delimiters()
    for brk in LINE_BREAKS:
        if brk not in delims and brk in region:
            region = region.replace(brk, "")
    parts = region.split(seps.segment)
    last = parts[-1]
    if not last or last.isspace():
        parts.pop()
    return parts


def _segment_chars(text: str, seps: Separators) -> int:
    """Length of a segment's text once line breaks that are not delimiters are dropped."""
    delims = seps.delimiters()
    return len(text) - sum(text.count(brk) for brk in LINE_BREAKS if brk not in delims)


def _cut_oversized(
    parts: list[str], position: int, seps: Separators, max_seg: int
) -> Iterator[tuple]:  # type: ignore[type-arg]
    """Regions for ``parts`` with each segment longer than ``max_seg`` made an "oversized"."""
    start = 0
    for index, part in enumerate(parts):
        if len(part) > max_seg:
            if index > start:
                yield ("parts", parts[start:index], position + start, seps)
            yield ("oversized", position + index + 1, _tag_of(part, seps))
            start = index + 1
    if start < len(parts):
        yield ("parts", parts[start:], position + start, seps)


def _junk_finding(text: str, start: int, nxt: int, position: int, seen: bool) -> Finding:
    stop = start + _JUNK_SAMPLE
    sample = text[start:stop] if nxt < 0 else text[start : min(nxt, stop)]
    if seen:
        return Finding(
            ErrorCode.JUNK_AFTER_INTERCHANGE,
            Location(segment=position + 1, tag=_segment_id(sample)),
            f"unexpected data after the interchange ending at segment {position}: {sample!r}",
            value=sample,
        )
    return Finding(
        ErrorCode.NO_INTERCHANGE,
        Location(segment=position + 1),
        f"expected an ISA interchange header, found {sample!r}",
        value=sample,
    )


def _segment_id(text: str) -> str | None:
    """The segment ID junk opens with when it looks like a stray segment (``GS*...``)."""
    n = 0
    while n < len(text) and n < 4 and text[n].isascii() and text[n].isalnum():
        n += 1
    if 2 <= n <= 3 and text[0].isupper() and n < len(text) and not text[n].isspace():
        return text[:n]
    return None


def _with(loc: Location, **changes: int | str | None) -> Location:
    from dataclasses import replace

    return replace(loc, **changes)  # type: ignore[arg-type]


def read_events(source: Source, **kwargs: object) -> Iterator[Event]:
    """Shorthand for ``X12Reader(source, ...).events()``."""
    return X12Reader(source, **kwargs).events()  # type: ignore[arg-type]
