"""What an acknowledgement says, as data: the rows the builder writes and the parser reads.

The same dataclasses serve both directions, so an ack we build and then parse back compares
equal to what we built; later code reconciles a partner's 997/999/TA1 against what we sent
with the same shapes. Codes stay ``str`` (``"A"``, ``"5"``, ``"024"``): a partner may send one
we do not know, and the parser must keep it rather than fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..events import PartyId

AckKind = Literal["997", "999"]
#: What a builder is asked for: a kind, or ``auto`` (each interchange by its own version).
AckChoice = Literal["997", "999", "auto"]

#: AK501 / IK501 / AK901 / TA104 values that mean the data was taken.
ACCEPTED_CODES = frozenset({"A", "E"})
#: Valid AK501 / IK501 codes (X12 element 717).
TRANSACTION_STATUSES = frozenset({"A", "E", "M", "R", "W", "X"})
#: Valid AK901 codes (X12 element 715): the transaction codes plus P (partially accepted).
GROUP_STATUSES = frozenset({"A", "E", "M", "P", "R", "W", "X"})
#: Valid TA104 codes (X12 element I17).
INTERCHANGE_STATUSES = frozenset({"A", "E", "R"})


@dataclass(frozen=True, slots=True)
class ElementError:
    """One AK4 / IK4: where in the segment (C030), which element, what is wrong, the bad value."""

    position: int | None
    component: int | None = None
    repetition: int | None = None  # 999 only (C030-03)
    data_element_ref: str | None = None  # AK402
    code: str = ""  # AK403
    value: str | None = None  # AK404, sanitised


@dataclass(frozen=True, slots=True)
class SegmentError:
    """One AK3 / IK3 with its AK4s. ``position`` counts from the ST (ST is 1).

    ``context`` keeps the CTX segments of a 999 as raw element tuples (tag dropped); the
    builder writes none (findings carry no situational trigger), the parser keeps them.
    """

    tag: str
    position: int | None
    loop_id: str | None = None  # AK303
    code: str | None = None  # AK304
    elements: tuple[ElementError, ...] = ()
    context: tuple[tuple[str, ...], ...] = ()


@dataclass(slots=True)
class TransactionAck:
    """One AK2 loop: the acknowledged transaction set and its AK5 / IK5 verdict."""

    set_id: str
    control_number: str
    status: str
    codes: tuple[str, ...] = ()  # AK502..AK506
    segment_errors: tuple[SegmentError, ...] = ()
    convention: str | None = None  # AK203 (999): the ST03 of the acknowledged set

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_CODES


@dataclass(slots=True)
class GroupAck:
    """One 997/999 transaction: the AK1 group, its AK2 loops and the AK9 verdict.

    ``declared`` is AK902 (the GE01 we were sent), ``received`` AK903, ``accepted`` AK904;
    each is None only when a parsed ack carried no usable number there.
    """

    kind: str  # "997" or "999": the acknowledging transaction set
    ack_control_number: str  # its ST02
    functional_id: str  # AK101
    control_number: str  # AK102
    status: str  # AK901
    declared: int | None
    received: int | None
    accepted: int | None
    codes: tuple[str, ...] = ()  # AK905..AK909
    transactions: list[TransactionAck] = field(default_factory=list)
    version: str | None = None  # AK103 (999)
    #: The GS's place in the file this acknowledges (acks we build; None for one we read):
    #: a partner may reuse a GS06, so the group is known by where it is, not by its number.
    position: int | None = field(default=None, compare=False)

    @property
    def rejected(self) -> list[TransactionAck]:
        return [t for t in self.transactions if not t.accepted]


@dataclass(frozen=True, slots=True)
class InterchangeAck:
    """A TA1: which interchange (TA101..TA103), its verdict (TA104) and note code (TA105)."""

    control_number: str
    date: str
    time: str
    status: str
    note_code: str | None

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_CODES


@dataclass(slots=True)
class AckInterchange:
    """One interchange of a received ack file: who sent it and the acks inside."""

    control_number: str
    sender: PartyId
    receiver: PartyId
    groups: list[GroupAck] = field(default_factory=list)
    technical: list[InterchangeAck] = field(default_factory=list)


class ControlNumbers(Protocol):
    """Where outbound ISA13, GS06 and ST02 come from (a database sequence in production)."""

    def next_interchange(self) -> int: ...

    def next_group(self) -> int: ...

    def next_transaction(self) -> int: ...


class CounterControlNumbers:
    """In-memory :class:`ControlNumbers`: three counters, for tests and one-off tools.

    Not shared between processes; the store provides the durable, per-partner sequence.
    """

    def __init__(self, interchange: int = 1, group: int = 1, transaction: int = 1) -> None:
        self._next = {"interchange": interchange, "group": group, "transaction": transaction}

    def _take(self, name: str) -> int:
        value = self._next[name]
        self._next[name] = value + 1 if value < 999_999_999 else 1
        return value

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")
