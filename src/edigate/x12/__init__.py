"""The X12 codec: read, validate and write X12 interchanges.

It knows nothing of partners, orders or storage. Public face::

    from edigate.x12 import X12Reader, X12Writer, Separators, TransactionSet, Finding
"""

from .events import (
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    PartyId,
    Segment,
    TechnicalAck,
    TransactionSet,
)
from .findings import ErrorCode, Finding, Level, Location, Severity
from .overlay import Overlay, RequiredSegment
from .reader import ReaderLimits, X12Reader, components, read_events, repetitions
from .separators import Separators
from .validator import TransactionValidator, validate_transaction, validator_for
from .writer import (
    GroupEnvelope,
    InterchangeEnvelope,
    SegmentEncoder,
    X12Writer,
    encode_segments,
    trim,
)

__all__ = [
    "ErrorCode",
    "Event",
    "Finding",
    "GroupEnvelope",
    "GroupHeader",
    "GroupTrailer",
    "InterchangeEnvelope",
    "InterchangeHeader",
    "InterchangeTrailer",
    "Level",
    "Location",
    "Overlay",
    "PartyId",
    "ReaderLimits",
    "RequiredSegment",
    "Segment",
    "SegmentEncoder",
    "Separators",
    "Severity",
    "TechnicalAck",
    "TransactionSet",
    "TransactionValidator",
    "X12Reader",
    "X12Writer",
    "components",
    "encode_segments",
    "read_events",
    "repetitions",
    "trim",
    "validate_transaction",
    "validator_for",
]
