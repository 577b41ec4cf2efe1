"""What :func:`edigate.x12.reader.read_events` yields: the envelope, one object per structure.

Transactions come whole (ST through SE) because validation and translation work on one
transaction at a time; everything else is the header or trailer of an envelope. The reader
never holds more than one transaction, so memory stays bounded by the largest one.

A segment is a ``list[str]`` of its elements with the tag first (``["BEG", "00", "SA", ...]``);
composites and repetitions stay joined inside the element string until asked for, see
:func:`edigate.x12.reader.components`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from .findings import Finding
from .separators import Separators

Segment = list[str]


@dataclass(frozen=True, slots=True)
class PartyId:
    """An ISA sender or receiver: qualifier (ISA05/07) and ID (ISA06/08), padding stripped."""

    qualifier: str
    id: str

    def __str__(self) -> str:
        return f"{self.qualifier}:{self.id}"


@dataclass(slots=True)
class InterchangeHeader:
    """The ISA, with its fields decoded. ``segment`` keeps the raw elements, padding and all."""

    segment: Segment
    position: int
    separators: Separators
    sender: PartyId
    receiver: PartyId
    date: str
    time: str
    control_number: str
    version: str
    ack_requested: bool
    usage: str
    encoding: str = "utf-8"
    findings: list[Finding] = field(default_factory=list)

    @property
    def test(self) -> bool:
        """ISA15 'T': a test interchange."""
        return self.usage == "T"


@dataclass(slots=True)
class GroupHeader:
    """The GS. ``version`` is GS08 (e.g. ``004010`` or ``005010X222A1``)."""

    segment: Segment
    position: int
    interchange: InterchangeHeader
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class TransactionSet:
    """One ST..SE, both included in ``segments``. ``position`` is the ST's place in the file.

    ``findings`` holds what the reader saw (trailer missing, counts, control numbers);
    the validator adds its own separately. ``empty`` lists the indexes in ``segments`` of
    empty segments (``~~``, kept as ``[""]`` so that ``position + index`` stays the file
    position); they are not counted in the transaction (see :meth:`place`).
    ``segment_count`` is what the reader saw, empty segments included.
    """

    set_id: str
    control_number: str
    segments: list[Segment]
    position: int
    interchange: InterchangeHeader
    group: GroupHeader | None
    findings: list[Finding] = field(default_factory=list)
    segment_count: int = 0
    empty: list[int] = field(default_factory=list)

    def place(self, index: int) -> int:
        """The position of ``segments[index]`` in the transaction (ST is 1), as SE01 and
        AK302/IK302 count: an empty segment is most likely a doubled terminator, not a
        segment the sender wrote and counted, so those before ``index`` are left out."""
        empty = self.empty
        return index + 1 - bisect_left(empty, index) if empty else index + 1

    @property
    def separators(self) -> Separators:
        return self.interchange.separators

    @property
    def version(self) -> str:
        """The version that governs the transaction: GS08, else derived from ISA12."""
        if self.group is not None and self.group.version:
            return self.group.version
        return self.interchange.version + "0"

    @property
    def complete(self) -> bool:
        """False when the reader had to drop segments (size limit) or the SE never came."""
        return len(self.segments) == self.segment_count and self.segments[-1][0] == "SE"


@dataclass(slots=True)
class GroupTrailer:
    """The GE (``segment`` is None when it was missing) and the group's reader findings."""

    header: GroupHeader
    segment: Segment | None
    position: int
    transaction_count: int
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class InterchangeTrailer:
    """The IEA (``segment`` is None when it was missing) and the interchange's findings."""

    header: InterchangeHeader
    segment: Segment | None
    position: int
    group_count: int
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class TechnicalAck:
    """A TA1 segment found inside an interchange (a partner's interchange acknowledgement)."""

    segment: Segment
    position: int
    interchange: InterchangeHeader


Event = (
    InterchangeHeader
    | GroupHeader
    | TransactionSet
    | GroupTrailer
    | InterchangeTrailer
    | TechnicalAck
    | Finding
)
