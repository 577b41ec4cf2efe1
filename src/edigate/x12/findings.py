"""Problems found in X12 input, as data.

A :class:`Finding` is what the reader and the validator report instead of raising. Its
:class:`ErrorCode` carries the X12 acknowledgement code it maps to, so the 997/999/TA1
builders need no translation table: TA105 for interchange errors, AK905 for group errors,
AK502/IK502 for transaction errors, AK304/IK304 for segment errors and AK403/IK403 for
element errors.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Level(enum.Enum):
    """Where in the envelope a problem sits; decides which ack segment reports it."""

    FILE = "file"  # outside any interchange: no ack can name it
    INTERCHANGE = "interchange"  # TA1 (TA105 note code)
    GROUP = "group"  # AK9 / AK905
    TRANSACTION = "transaction"  # AK5 / IK5 (AK502 code)
    SEGMENT = "segment"  # AK3 / IK3 (AK304 code)
    ELEMENT = "element"  # AK4 / IK4 (AK403 code)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class ErrorCode(enum.Enum):
    """Every kind of problem, valued ``(level, x12 code)``.

    The name is stable and shown to users; ``x12`` is the code the ack carries.
    """

    # --- file level (no X12 code) -------------------------------------------------------------
    NO_INTERCHANGE = (Level.FILE, "", "no ISA interchange header found")
    JUNK_AFTER_INTERCHANGE = (Level.FILE, "", "data outside any interchange")
    UNREADABLE_ENCODING = (Level.FILE, "", "unreadable character encoding")
    # --- interchange level: TA105 note codes ------------------------------------------------------
    INTERCHANGE_CONTROL_MISMATCH = (
        Level.INTERCHANGE,
        "001",
        "interchange control number in header and trailer do not match",
    )
    UNSUPPORTED_STANDARD = (Level.INTERCHANGE, "002", "standard not supported")
    UNSUPPORTED_VERSION = (Level.INTERCHANGE, "003", "version not supported")
    INVALID_SEGMENT_TERMINATOR = (Level.INTERCHANGE, "004", "invalid segment terminator")
    INVALID_SENDER_QUALIFIER = (Level.INTERCHANGE, "005", "invalid interchange sender ID qualifier")
    INVALID_SENDER_ID = (Level.INTERCHANGE, "006", "invalid interchange sender ID")
    INVALID_RECEIVER_QUALIFIER = (
        Level.INTERCHANGE,
        "007",
        "invalid interchange receiver ID qualifier",
    )
    INVALID_RECEIVER_ID = (Level.INTERCHANGE, "008", "invalid interchange receiver ID")
    INVALID_AUTHORIZATION_QUALIFIER = (
        Level.INTERCHANGE,
        "010",
        "invalid authorization information qualifier",
    )
    INVALID_SECURITY_QUALIFIER = (
        Level.INTERCHANGE,
        "012",
        "invalid security information qualifier",
    )
    INVALID_INTERCHANGE_DATE = (Level.INTERCHANGE, "014", "invalid interchange date")
    INVALID_INTERCHANGE_TIME = (Level.INTERCHANGE, "015", "invalid interchange time")
    INVALID_STANDARDS_ID = (Level.INTERCHANGE, "016", "invalid interchange standards identifier")
    INVALID_VERSION_ID = (Level.INTERCHANGE, "017", "invalid interchange version ID")
    INVALID_INTERCHANGE_CONTROL_NUMBER = (
        Level.INTERCHANGE,
        "018",
        "invalid interchange control number",
    )
    INVALID_ACK_REQUESTED = (Level.INTERCHANGE, "019", "invalid acknowledgment requested value")
    INVALID_TEST_INDICATOR = (Level.INTERCHANGE, "020", "invalid test indicator value")
    GROUP_COUNT_MISMATCH = (Level.INTERCHANGE, "021", "invalid number of included groups")
    INVALID_CONTROL_STRUCTURE = (Level.INTERCHANGE, "022", "invalid control structure")
    PREMATURE_END_OF_FILE = (Level.INTERCHANGE, "023", "improper (premature) end of file")
    INVALID_INTERCHANGE_CONTENT = (Level.INTERCHANGE, "024", "invalid interchange content")
    # A TA1 in the interchange with an element X12 does not allow: content of the
    # interchange itself (no set or group holds it), so 024 is its TA105 code.
    INVALID_TECHNICAL_ACK = (Level.INTERCHANGE, "024", "invalid TA1 segment")
    DUPLICATE_INTERCHANGE = (Level.INTERCHANGE, "025", "duplicate interchange control number")
    INVALID_ELEMENT_SEPARATOR = (Level.INTERCHANGE, "026", "invalid data element separator")
    INVALID_COMPONENT_SEPARATOR = (Level.INTERCHANGE, "027", "invalid component element separator")
    # --- group level: AK905 codes -------------------------------------------------------------
    GROUP_NOT_SUPPORTED = (Level.GROUP, "1", "functional group not supported")
    GROUP_VERSION_NOT_SUPPORTED = (Level.GROUP, "2", "functional group version not supported")
    GROUP_TRAILER_MISSING = (Level.GROUP, "3", "functional group trailer missing")
    GROUP_CONTROL_MISMATCH = (
        Level.GROUP,
        "4",
        "group control number in header and trailer do not agree",
    )
    TRANSACTION_COUNT_MISMATCH = (
        Level.GROUP,
        "5",
        "number of included transaction sets does not match actual count",
    )
    INVALID_GROUP_CONTROL_NUMBER = (Level.GROUP, "6", "group control number violates syntax")
    DUPLICATE_GROUP_CONTROL_NUMBER = (
        Level.GROUP,
        "19",
        "functional group control number not unique within interchange",
    )
    # A GS element other than GS01/GS06/GS08 that is missing or invalid. The AK905 lists of
    # the 004010 997 and the 005010 999 have no code for it (invalid sender, receiver,
    # agency, date and time, 7/8/9/30/31, came in later releases), and AK4 cannot stand
    # outside an AK2 loop. 1, "functional group not supported", is the one code they have
    # for a group that cannot be taken as sent; the finding's message says which element.
    GROUP_ELEMENT_MISSING = (Level.GROUP, "1", "functional group header element missing")
    INVALID_GROUP_DATE = (Level.GROUP, "1", "invalid functional group date")
    INVALID_GROUP_TIME = (Level.GROUP, "1", "invalid functional group time")
    INVALID_GROUP_AGENCY = (Level.GROUP, "1", "invalid responsible agency code")
    # --- transaction level: AK502 / IK502 codes -------------------------------------------------
    TRANSACTION_NOT_SUPPORTED = (Level.TRANSACTION, "1", "transaction set not supported")
    TRANSACTION_TRAILER_MISSING = (Level.TRANSACTION, "2", "transaction set trailer missing")
    TRANSACTION_CONTROL_MISMATCH = (
        Level.TRANSACTION,
        "3",
        "transaction set control number in header and trailer do not match",
    )
    SEGMENT_COUNT_MISMATCH = (
        Level.TRANSACTION,
        "4",
        "number of included segments does not match actual count",
    )
    TRANSACTION_HAS_SEGMENT_ERRORS = (Level.TRANSACTION, "5", "one or more segments in error")
    INVALID_TRANSACTION_ID = (
        Level.TRANSACTION,
        "6",
        "missing or invalid transaction set identifier",
    )
    INVALID_TRANSACTION_CONTROL_NUMBER = (
        Level.TRANSACTION,
        "7",
        "missing or invalid transaction set control number",
    )
    TRANSACTION_NOT_IN_GROUP = (Level.TRANSACTION, "18", "transaction set not in functional group")
    TRANSACTION_TOO_LARGE = (
        Level.TRANSACTION,
        "5",
        "transaction set exceeds the configured size limit",
    )
    DUPLICATE_TRANSACTION_CONTROL_NUMBER = (
        Level.TRANSACTION,
        "23",
        "transaction set control number not unique within the functional group",
    )
    # --- segment level: AK304 / IK304 codes -----------------------------------------------------
    UNRECOGNIZED_SEGMENT = (Level.SEGMENT, "1", "unrecognized segment ID")
    UNEXPECTED_SEGMENT = (Level.SEGMENT, "2", "unexpected segment")
    MANDATORY_SEGMENT_MISSING = (Level.SEGMENT, "3", "mandatory segment missing")
    LOOP_OVER_MAX = (Level.SEGMENT, "4", "loop occurs over maximum times")
    SEGMENT_OVER_MAX_USE = (Level.SEGMENT, "5", "segment exceeds maximum use")
    SEGMENT_NOT_IN_SET = (Level.SEGMENT, "6", "segment not in defined transaction set")
    SEGMENT_OUT_OF_SEQUENCE = (Level.SEGMENT, "7", "segment not in proper sequence")
    SEGMENT_HAS_ELEMENT_ERRORS = (Level.SEGMENT, "8", "segment has data element errors")
    SEGMENT_TOO_LONG = (Level.SEGMENT, "8", "segment exceeds the configured size limit")
    # ``~~``: reported on the segment it follows, where the terminator is doubled. AK301
    # needs a segment ID, which an empty segment lacks; 1 (unrecognized ID), 2 (unexpected)
    # or 7 (out of sequence) would say that segment is unknown or misplaced, which it is
    # not. 8 sends the partner to that segment's data, where the stray terminator is.
    EMPTY_SEGMENT = (Level.SEGMENT, "8", "empty segment (a doubled segment terminator)")
    # --- element level: AK403 / IK403 codes -----------------------------------------------------
    MANDATORY_ELEMENT_MISSING = (Level.ELEMENT, "1", "mandatory data element missing")
    CONDITIONAL_ELEMENT_MISSING = (Level.ELEMENT, "2", "conditional required data element missing")
    TOO_MANY_ELEMENTS = (Level.ELEMENT, "3", "too many data elements")
    ELEMENT_TOO_SHORT = (Level.ELEMENT, "4", "data element too short")
    ELEMENT_TOO_LONG = (Level.ELEMENT, "5", "data element too long")
    INVALID_CHARACTER = (Level.ELEMENT, "6", "invalid character in data element")
    INVALID_CODE_VALUE = (Level.ELEMENT, "7", "invalid code value")
    INVALID_DATE = (Level.ELEMENT, "8", "invalid date")
    INVALID_TIME = (Level.ELEMENT, "9", "invalid time")
    EXCLUSION_VIOLATED = (Level.ELEMENT, "10", "exclusion condition violated")
    TOO_MANY_REPETITIONS = (Level.ELEMENT, "12", "too many repetitions")
    TOO_MANY_COMPONENTS = (Level.ELEMENT, "13", "too many components")

    @property
    def level(self) -> Level:
        return self.value[0]

    @property
    def x12(self) -> str:
        """The code as the acknowledgement carries it (TA105, AK905, AK502, AK304 or AK403)."""
        return self.value[1]

    @property
    def description(self) -> str:
        return self.value[2]

    @property
    def label(self) -> str:
        """Short form for people and JSON, e.g. ``AK4-7`` or ``TA1-001``."""
        prefix = {
            Level.FILE: "FILE",
            Level.INTERCHANGE: "TA1",
            Level.GROUP: "AK9",
            Level.TRANSACTION: "AK5",
            Level.SEGMENT: "AK3",
            Level.ELEMENT: "AK4",
        }[self.level]
        return f"{prefix}-{self.x12}" if self.x12 else prefix


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is. Positions are 1-based, as X12 acknowledgements count them.

    ``segment`` counts segments from the start of the file; ``segment_in_transaction``
    counts from the ST (ST is 1), which is what AK301/IK302 report.
    """

    segment: int | None = None
    tag: str | None = None
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    segment_in_transaction: int | None = None
    interchange_control: str | None = None
    group_control: str | None = None
    transaction_control: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.segment is not None:
            parts.append(f"segment {self.segment}")
        if self.tag:
            where = self.tag
            if self.element is not None:
                where += f"{self.element:02d}"
                if self.component is not None:
                    where += f"-{self.component}"
            parts.append(where)
        return " ".join(parts) if parts else "file"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: what (``code``), where (``location``), the bad ``value`` and a message."""

    code: ErrorCode
    location: Location
    message: str
    value: str | None = None
    severity: Severity = Severity.ERROR
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        sev = "" if self.is_error else " (warning)"
        return f"{self.location.describe()}: {self.code.label} {self.message}{sev}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``inspect --json`` and ``validate --json``."""
        loc = {k: v for k, v in asdict(self.location).items() if v is not None}
        out: dict[str, Any] = {
            "code": self.code.label,
            "name": self.code.name.lower(),
            "severity": self.severity.value,
            "segment": self.location.segment,
            "element": self.location.element,
            "message": self.message,
            "location": loc,
        }
        if self.value is not None:
            out["value"] = self.value
        return out
