"""Functional and interchange acknowledgements: build 997/999/TA1, parse a partner's.

Build (streaming, one event at a time, or whole files with :func:`acknowledge`)::

    from edigate.x12.acks import acknowledge, parse_acks, CounterControlNumbers
    result = acknowledge(data, "999", control_numbers=CounterControlNumbers(), validate=check)
    result.functional, result.technical  # the 999 interchange(s) and TA1 interchange(s)

Parse what a partner sent back::

    acks = parse_acks(received)
    [(g.control_number, g.status) for g in acks.groups], acks.technical, acks.findings

Decisions, in short (details in :mod:`.assess` and :mod:`.builder`): errors reject (R),
warnings never do (E, "accepted, errors noted", with the warnings listed); a 999 is
``005010X231A1`` in GS08 and ST03 under ISA12 ``00501``, a 997 ``004010`` under ``00401``;
the TA1 travels in its own interchange, sent on interchange errors or when ISA14 is 1. A
duplicate interchange is the caller's finding: ``builder.duplicate_interchange(header)``
gives its TA1 (025). ``AckOptions(versions=SPEC_VERSIONS)`` rejects other GS08 versions.
"""

from .acknowledge import Acknowledgements, acknowledge, salvage_isas
from .assess import ELEMENT_CODES_997, assess_transaction
from .builder import (
    VERSIONS,
    AckBuilder,
    AckOptions,
    AckOutput,
    Ta1Policy,
    mirror_separators,
    salvaged_header,
)
from .model import (
    ACCEPTED_CODES,
    GROUP_STATUSES,
    INTERCHANGE_STATUSES,
    TRANSACTION_STATUSES,
    AckChoice,
    AckInterchange,
    AckKind,
    ControlNumbers,
    CounterControlNumbers,
    ElementError,
    GroupAck,
    InterchangeAck,
    SegmentError,
    TransactionAck,
)
from .parse import ReceivedAcks, parse_acks
from .render import group_segments

__all__ = [
    "ACCEPTED_CODES",
    "ELEMENT_CODES_997",
    "GROUP_STATUSES",
    "INTERCHANGE_STATUSES",
    "TRANSACTION_STATUSES",
    "VERSIONS",
    "AckBuilder",
    "AckChoice",
    "AckInterchange",
    "AckKind",
    "AckOptions",
    "AckOutput",
    "Acknowledgements",
    "ControlNumbers",
    "CounterControlNumbers",
    "ElementError",
    "GroupAck",
    "InterchangeAck",
    "ReceivedAcks",
    "SegmentError",
    "Ta1Policy",
    "TransactionAck",
    "acknowledge",
    "assess_transaction",
    "group_segments",
    "mirror_separators",
    "parse_acks",
    "salvage_isas",
    "salvaged_header",
]
