"""Reading a partner's 997, 999 or TA1 into rows we can reconcile against what we sent.

Never raises on bad input: a missing AK5, an AK4 outside an AK3, a status code nobody
defined or a transaction set that is not an ack at all becomes a :class:`Finding` (with the
reader's own findings beside it), and whatever could be read is still returned.

Usage::

    acks = parse_acks(data)
    for group in acks.groups:
        print(group.functional_id, group.control_number, group.status, group.rejected)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..events import (
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Segment,
    TechnicalAck,
    TransactionSet,
)
from ..findings import ErrorCode, Finding, Location, Severity
from ..reader import ReaderLimits, Source, X12Reader, components
from .model import (
    GROUP_STATUSES,
    TRANSACTION_STATUSES,
    AckInterchange,
    ElementError,
    GroupAck,
    InterchangeAck,
    SegmentError,
    TransactionAck,
)

ACK_SETS = frozenset({"997", "999"})
#: How many elements each ack segment may have (IK3/IK4/IK5 as AK3/AK4/AK5).
MAX_ELEMENTS = {"AK1": 3, "AK2": 3, "AK3": 4, "AK4": 4, "AK5": 6, "AK9": 9, "CTX": 6}

#: Element accessor of one segment: ``get(3)`` is the third element, ``""`` past the end.
_Get = Callable[[int], str]


@dataclass(slots=True)
class ReceivedAcks:
    """Every ack found in one file, by interchange, plus every problem met on the way."""

    interchanges: list[AckInterchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def groups(self) -> list[GroupAck]:
        """All 997/999 transactions (one per AK1), in file order."""
        return [g for i in self.interchanges for g in i.groups]

    @property
    def technical(self) -> list[InterchangeAck]:
        """All TA1s, in file order."""
        return [t for i in self.interchanges for t in i.technical]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def parse_acks(source: Source, *, limits: ReaderLimits | None = None) -> ReceivedAcks:
    """Parse the 997s, 999s and TA1s in ``source`` (bytes, stream or path)."""
    result = ReceivedAcks()
    findings = result.findings
    current: AckInterchange | None = None
    for event in X12Reader(source, limits=limits).events():
        if isinstance(event, TransactionSet):
            findings.extend(event.findings)
            if event.set_id not in ACK_SETS:
                findings.append(
                    Finding(
                        ErrorCode.TRANSACTION_NOT_SUPPORTED,
                        Location(
                            segment=event.position,
                            tag="ST",
                            element=1,
                            segment_in_transaction=1,
                            transaction_control=event.control_number,
                        ),
                        f"transaction set {event.set_id!r} is not an acknowledgement: "
                        "expected 997 or 999",
                        value=event.set_id,
                    )
                )
                continue
            group = _TransactionParser(event, findings).run()
            if group is not None and current is not None:
                current.groups.append(group)
        elif isinstance(event, TechnicalAck):
            if current is not None:
                current.technical.append(_technical_ack(event))
        elif isinstance(event, InterchangeHeader):
            findings.extend(event.findings)
            current = AckInterchange(event.control_number, event.sender, event.receiver)
            result.interchanges.append(current)
        elif isinstance(event, GroupHeader | GroupTrailer | InterchangeTrailer):
            findings.extend(event.findings)
        else:
            findings.append(event)
    return result


def _technical_ack(event: TechnicalAck) -> InterchangeAck:
    """The TA1's values; the reader checks its elements (findings on the interchange)."""
    values = [v.strip() for v in event.segment] + [""] * (6 - len(event.segment))
    return InterchangeAck(values[1], values[2], values[3], values[4], values[5] or None)


@dataclass(slots=True)
class _OpenSegment:
    tag: str
    position: int | None
    loop_id: str | None
    code: str | None
    elements: list[ElementError] = field(default_factory=list)
    context: list[tuple[str, ...]] = field(default_factory=list)

    def close(self) -> SegmentError:
        return SegmentError(
            self.tag,
            self.position,
            self.loop_id,
            self.code,
            tuple(self.elements),
            tuple(self.context),
        )


@dataclass(slots=True)
class _OpenTransaction:
    set_id: str
    control_number: str
    convention: str | None
    start: int  # index of its AK2 in the ack's segments
    segments: list[SegmentError] = field(default_factory=list)


class _TransactionParser:
    """Walks one 997/999 (ST..SE) and turns its AK segments into a :class:`GroupAck`."""

    def __init__(self, tx: TransactionSet, findings: list[Finding]) -> None:
        self.tx = tx
        self.findings = findings
        self.kind = tx.set_id
        self.own = ("IK3", "IK4", "IK5") if self.kind == "999" else ("AK3", "AK4", "AK5")
        self.other = ("AK3", "AK4", "AK5") if self.kind == "999" else ("IK3", "IK4", "IK5")
        self.group: GroupAck | None = None
        self.open: _OpenTransaction | None = None
        self.segment: _OpenSegment | None = None
        self.closed = False  # AK9 seen

    def run(self) -> GroupAck | None:
        segments = self.tx.segments
        end = len(segments) - 1 if segments and segments[-1][0] == "SE" else len(segments)
        for index in range(1, end):
            self.handle(index, segments[index])
        last = max(end, 1)
        self.close_transaction(last)
        if self.group is None:
            self.note(ErrorCode.MANDATORY_SEGMENT_MISSING, last, "no AK1 in this ack", tag="AK1")
            return None
        if not self.closed:
            self.note(ErrorCode.MANDATORY_SEGMENT_MISSING, last, "no AK9 in this ack", tag="AK9")
        return self.group

    # ---------------------------------------------------------------- segments
    def handle(self, index: int, seg: Segment) -> None:
        tag = seg[0]
        values = [v.strip() for v in seg]
        values += [""] * (10 - len(values))
        get: _Get = values.__getitem__
        if tag in self.other:
            self.note(
                ErrorCode.UNEXPECTED_SEGMENT,
                index,
                f"{tag} in a {self.kind}: expected {self.own[self.other.index(tag)]}; read as such",
                severity=Severity.WARNING,
            )
            tag = self.own[self.other.index(tag)]
        if len(seg) - 1 > MAX_ELEMENTS.get(tag, len(seg)):
            self.note(
                ErrorCode.TOO_MANY_ELEMENTS,
                index,
                f"{seg[0]} has {len(seg) - 1} elements, at most {MAX_ELEMENTS[tag]} are defined",
                element=MAX_ELEMENTS[tag] + 1,
            )
        if tag == "AK1":
            self.ak1(index, get)
        elif self.group is None or self.closed:
            where = "before AK1" if self.group is None else "after AK9"
            self.note(ErrorCode.UNEXPECTED_SEGMENT, index, f"{tag} {where} is ignored")
        elif tag == "AK2":
            self.close_transaction(index)
            self.open = _OpenTransaction(get(1), get(2), get(3) or None, index)
            self.required(index, get, (1, 2))
            if get(1) and not (len(get(1)) == 3 and get(1).isalnum()):
                self.note(
                    ErrorCode.INVALID_CODE_VALUE,
                    index,
                    f"AK201 {get(1)!r} is not a transaction set identifier (3 characters)",
                    element=1,
                    value=get(1),
                )
        elif tag == self.own[0]:
            self.segment_error(index, get)
        elif tag == self.own[1]:
            self.element_error(index, seg, get)
        elif tag == "CTX":
            if self.segment is None:
                self.note(ErrorCode.UNEXPECTED_SEGMENT, index, "CTX outside an error loop")
            else:
                self.segment.context.append(tuple(seg[1:]))
        elif tag == self.own[2]:
            self.ak5(index, get)
        elif tag == "AK9":
            self.ak9(index, get)
        else:
            self.note(
                ErrorCode.SEGMENT_NOT_IN_SET,
                index,
                f"{tag!r} is not a segment of the {self.kind}",
                value=tag,
            )

    def ak1(self, index: int, get: _Get) -> None:
        if self.group is not None:
            self.note(ErrorCode.SEGMENT_OVER_MAX_USE, index, "second AK1 in one ack is ignored")
            return
        self.required(index, get, (1, 2))
        if get(1) and not (len(get(1)) == 2 and get(1).isalnum()):
            self.note(
                ErrorCode.INVALID_CODE_VALUE,
                index,
                f"AK101 {get(1)!r} is not a functional identifier code (2 letters)",
                element=1,
                value=get(1),
            )
        self.number(index, get, 2)
        self.group = GroupAck(
            kind=self.kind,
            ack_control_number=self.tx.control_number,
            functional_id=get(1),
            control_number=get(2),
            status="",
            declared=None,
            received=None,
            accepted=None,
            version=get(3) or None,
        )

    def segment_error(self, index: int, get: _Get) -> None:
        if self.open is None:
            self.note(ErrorCode.UNEXPECTED_SEGMENT, index, f"{self.own[0]} outside an AK2 loop")
            return
        self.close_segment()
        self.required(index, get, (1, 2))
        position = self.number(index, get, 2)
        self.segment = _OpenSegment(get(1), position, get(3) or None, get(4) or None)

    def element_error(self, index: int, seg: Segment, get: _Get) -> None:
        if self.segment is None:
            self.note(ErrorCode.UNEXPECTED_SEGMENT, index, f"{self.own[1]} outside an error loop")
            return
        self.required(index, get, (1, 3))
        parts = [p.strip() for p in components(get(1), self.tx.separators)] + ["", ""]
        position = _int(parts[0])
        if parts[0] and position is None:
            self.bad_number(index, 1, parts[0])
        component = _int(parts[1])
        repetition = _int(parts[2])
        self.number(index, get, 2)  # AK402, the data element reference number
        value = seg[4] if len(seg) > 4 and seg[4] else None
        self.segment.elements.append(
            ElementError(position, component, repetition, get(2) or None, get(3), value)
        )

    def ak5(self, index: int, get: _Get) -> None:
        if self.open is None:
            self.note(ErrorCode.UNEXPECTED_SEGMENT, index, f"{self.own[2]} outside an AK2 loop")
            return
        self.close_segment()
        self.required(index, get, (1,))
        self.status(index, get(1), TRANSACTION_STATUSES)
        codes = tuple(get(i) for i in range(2, 7) if get(i))
        opened = self.open
        assert self.group is not None
        self.group.transactions.append(
            TransactionAck(
                opened.set_id,
                opened.control_number,
                get(1),
                codes,
                tuple(opened.segments),
                opened.convention,
            )
        )
        self.open = None

    def ak9(self, index: int, get: _Get) -> None:
        self.close_transaction(index)
        self.closed = True
        group = self.group
        assert group is not None
        self.required(index, get, (1, 2, 3, 4))
        self.status(index, get(1), GROUP_STATUSES)
        group.status = get(1)
        group.declared = self.number(index, get, 2)
        group.received = self.number(index, get, 3)
        group.accepted = self.number(index, get, 4)
        group.codes = tuple(get(i) for i in range(5, 10) if get(i))

    # ---------------------------------------------------------------- loop closing
    def close_segment(self) -> None:
        if self.segment is not None and self.open is not None:
            self.open.segments.append(self.segment.close())
        self.segment = None

    def close_transaction(self, index: int) -> None:
        """An AK2 loop ends without its AK5: keep what it said, with an empty status."""
        self.close_segment()
        opened = self.open
        if opened is None or self.group is None:
            return
        self.note(
            ErrorCode.MANDATORY_SEGMENT_MISSING,
            index,
            f"AK2 loop for {opened.set_id} {opened.control_number} (segment {opened.start + 1} "
            f"of the ack) has no {self.own[2]}",
            tag=self.own[2],
        )
        self.group.transactions.append(
            TransactionAck(
                opened.set_id,
                opened.control_number,
                "",
                (),
                tuple(opened.segments),
                opened.convention,
            )
        )
        self.open = None

    # ---------------------------------------------------------------- checks
    def required(self, index: int, get: _Get, elements: tuple[int, ...]) -> None:
        tag = self.tx.segments[index][0]
        for element in elements:
            if not get(element):
                self.note(
                    ErrorCode.MANDATORY_ELEMENT_MISSING,
                    index,
                    f"{tag}{element:02d} is empty",
                    element=element,
                )

    def status(self, index: int, value: str, allowed: frozenset[str]) -> None:
        if value and value not in allowed:
            self.note(
                ErrorCode.INVALID_CODE_VALUE,
                index,
                f"status {value!r} is not one of {', '.join(sorted(allowed))}",
                element=1,
                value=value,
            )

    def number(self, index: int, get: _Get, element: int) -> int | None:
        value = get(element)
        number = _int(value)
        if value and number is None:
            self.bad_number(index, element, value)
        return number

    def bad_number(self, index: int, element: int, value: str) -> None:
        tag = self.tx.segments[index][0]
        self.note(
            ErrorCode.INVALID_CHARACTER,
            index,
            f"{tag}{element:02d} must be a number, got {value!r}",
            element=element,
            value=value,
        )

    def note(
        self,
        code: ErrorCode,
        index: int,
        message: str,
        *,
        tag: str | None = None,
        element: int | None = None,
        value: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        tx = self.tx
        segments = tx.segments
        if tag is None:
            tag = segments[index][0] if index < len(segments) else "SE"
        self.findings.append(
            Finding(
                code,
                Location(
                    segment=tx.position + index,
                    tag=tag,
                    element=element,
                    segment_in_transaction=index + 1,
                    interchange_control=tx.interchange.control_number,
                    group_control=tx.group.control_number if tx.group else None,
                    transaction_control=tx.control_number,
                ),
                message,
                value=value,
                severity=severity,
            )
        )


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None
