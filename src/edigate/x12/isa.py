"""Finding and decoding the ISA: the one fixed-layout segment that declares the delimiters.

The element separator is the character after ``ISA``; the component separator is ISA16 and
the segment terminator the character after it. Real files bend the fixed layout: unpadded
fields, no-break-space padding, line breaks inside the ISA (hard-wrapped at 80 columns). We
walk the characters instead of slicing at fixed offsets, skipping line breaks until ISA16.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .events import InterchangeHeader, PartyId, Segment
from .findings import ErrorCode, Finding, Location, Severity
from .separators import LINE_BREAKS, Separators

#: How far past "ISA" the 16th element separator may be before we give up.
MAX_ISA_CHARS = 512

#: How far past the ISA :func:`_component_is_terminator` looks.
_LOOKAHEAD = 4096
#: Text a reader should hold from an ISA's start before parsing it, so that the result never
#: depends on where a chunk ended (the ISA itself, then the lines after it).
ISA_LOOKAHEAD = MAX_ISA_CHARS + _LOOKAHEAD + 16

#: Fixed widths of ISA01..ISA16.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)

_PAD = " \u00a0"  # space and no-break space

#: ISA05/ISA07 (data element I05, interchange ID qualifier): the codes of 004010 and 005010
#: together, so a qualifier valid in either is never rejected. ZZ is "mutually defined".
INTERCHANGE_ID_QUALIFIERS = frozenset(
    [f"{n:02d}" for n in (1, 2, 3, 4, *range(7, 39))] + ["AM", "NR", "SA", "SN", "ZZ"]
)

#: Stands in for a missing ISA16: a control character no real data carries.
NO_COMPONENT = "\x1f"


@dataclass(slots=True)
class IsaParse:
    """Result of :func:`parse_isa`. ``end`` indexes the first character after the terminator."""

    elements: Segment
    separators: Separators | None
    end: int
    findings: list[Finding] = field(default_factory=list)


def looks_like_isa(text: str, start: int) -> bool:
    """True when ``text[start:]`` opens an ISA: ``ISA`` then a non-alphanumeric separator."""
    if text[start : start + 3] != "ISA" or len(text) < start + 4:
        return False
    sep = text[start + 3]
    # Not str.isspace(): 0x1C-0x1F are "whitespace" to Python but real X12 delimiters.
    return not sep.isalnum() and sep not in " \t\r\n"


def parse_isa(text: str, start: int, position: int, *, at_eof: bool) -> IsaParse | None:
    """Parse the ISA opening at ``text[start]``.

    Returns None when more text is needed (and ``at_eof`` is false). A result without
    separators means the ISA is unusable; its findings say why.
    """
    es = text[start + 3]
    skip_breaks = es not in LINE_BREAKS
    elements: Segment = ["ISA"]
    current: list[str] = []
    i = start + 4
    n = len(text)
    limit = min(n, start + MAX_ISA_CHARS)
    seps_seen = 1
    while i < limit and seps_seen < 16:
        c = text[i]
        if c == es:
            elements.append("".join(current))
            current = []
            seps_seen += 1
        elif not (skip_breaks and c in LINE_BREAKS):
            current.append(c)
        i += 1
    # ISA16 and the terminator follow the 16th separator.
    while i < n and skip_breaks and text[i] in LINE_BREAKS:
        i += 1
    if seps_seen < 16 or i + 1 >= n:
        if not at_eof and n < start + MAX_ISA_CHARS:
            return None
        loc = Location(segment=position, tag="ISA")
        msg = (
            f"ISA is incomplete: found {seps_seen - 1} of 16 elements separated by {es!r}"
            if seps_seen < 16
            else "file ends inside the ISA: no component separator and segment terminator"
        )
        return IsaParse(elements, None, i, [Finding(ErrorCode.INVALID_CONTROL_STRUCTURE, loc, msg)])
    component = text[i]
    end = i + 1
    # Padding between ISA16 and a line-break terminator ("*>  \r\n"): skip the spaces.
    while end + 1 < n and end < i + 8 and text[end] == " " and text[end + 1] in " \r\n":
        end += 1
    terminator = text[end]
    end += 1
    findings: list[Finding] = []
    if terminator in LINE_BREAKS and _component_is_terminator(text, end, component):
        # ISA16 is missing: what stands there ends every segment (e.g. "*T*~" + LF).
        findings.append(
            Finding(
                ErrorCode.INVALID_COMPONENT_SEPARATOR,
                Location(segment=position, tag="ISA", element=16),
                f"ISA16 is missing: {component!r} ends every segment, so it is read as the "
                "segment terminator and no component separator is used",
                value=component,
                severity=Severity.WARNING,
            )
        )
        elements.append("")
        terminator = component
        component = NO_COMPONENT
        end -= 1
    else:
        elements.append(component)
    if terminator == "\r" and end < n and text[end] == "\n":
        suffix = "\n"  # CR ends the segment, the LF after it is formatting
    elif terminator not in LINE_BREAKS and end < n and text[end] in LINE_BREAKS:
        suffix = text[end : end + 2] if text[end : end + 2] == "\r\n" else text[end]
    else:
        suffix = ""
    loc = Location(segment=position, tag="ISA")
    if component.isalnum() or component in (es, " "):
        findings.append(
            Finding(
                ErrorCode.INVALID_COMPONENT_SEPARATOR,
                Location(segment=position, tag="ISA", element=16),
                f"ISA16 component separator {component!r} must be a non-alphanumeric character "
                "distinct from the element separator",
                value=component,
            )
        )
    if terminator.isalnum() or terminator in (es, component, " "):
        findings.append(
            Finding(
                ErrorCode.INVALID_SEGMENT_TERMINATOR,
                loc,
                f"segment terminator {terminator!r} after ISA16 must be a non-alphanumeric "
                "character distinct from the other separators",
                value=terminator,
            )
        )
    if any(f.is_error for f in findings):
        return IsaParse(elements, None, end, findings)
    repetition = _repetition_separator(elements, es, component, terminator, position, findings)
    seps = Separators(es, component, terminator, repetition, suffix)
    return IsaParse(elements, seps, end, findings)


def _component_is_terminator(text: str, end: int, candidate: str) -> bool:
    """True when the lines after the ISA all end with ``candidate``: then it ends segments.

    Up to three lines are looked at, so one segment whose last value happens to be the
    component separator (a TA1 in the corpus ends with ``+``) is not mistaken for this.
    """
    window = text[end : end + _LOOKAHEAD]
    pieces = window.replace("\r", "\n").split("\n")
    if len(text) >= end + _LOOKAHEAD:
        pieces.pop()  # cut short: the last piece is not a whole line
    lines = [p.strip(" \t") for p in pieces if p.strip(" \t")][:3]
    if not lines or not lines[0].startswith(("GS", "TA1", "IEA", "ISB", "ISE")):
        return False
    return all(line.endswith(candidate) for line in lines)


def _repetition_separator(
    elements: Segment,
    es: str,
    component: str,
    terminator: str,
    position: int,
    findings: list[Finding],
) -> str | None:
    """ISA11 is the repetition separator from 00402 on, when it is not alphanumeric."""
    isa11 = elements[11]
    version = elements[12].strip(_PAD)
    if len(isa11) == 1 and not isa11.isalnum() and isa11 not in (es, component, terminator, " "):
        return isa11
    if version >= "00402" and version.isdigit():
        findings.append(
            Finding(
                ErrorCode.INVALID_STANDARDS_ID,
                Location(segment=position, tag="ISA", element=11),
                f"ISA11 is {isa11!r} in a {version} interchange, where it should be the "
                "repetition separator; reading without one",
                value=isa11,
                severity=Severity.WARNING,
            )
        )
    return None


def build_header(parse: IsaParse, position: int, encoding: str) -> InterchangeHeader:
    """Decode the ISA fields and check each one, adding findings to the header."""
    assert parse.separators is not None
    el = parse.elements
    findings = list(parse.findings)

    def field_finding(code: ErrorCode, index: int, message: str, *, warn: bool = False) -> None:
        findings.append(
            Finding(
                code,
                Location(segment=position, tag="ISA", element=index),
                message,
                value=el[index],
                severity=Severity.WARNING if warn else Severity.ERROR,
            )
        )

    for index, width in enumerate(ISA_WIDTHS[:15], start=1):
        if len(el[index]) != width:
            field_finding(
                ErrorCode.INVALID_CONTROL_STRUCTURE,
                index,
                f"ISA{index:02d} should be {width} characters wide, is {len(el[index])}",
                warn=True,
            )
    values = [v.strip(_PAD) for v in el]
    if values[1] not in ("00", "01", "02", "03", "04", "05", "06"):
        field_finding(ErrorCode.INVALID_AUTHORIZATION_QUALIFIER, 1, "ISA01 must be 00 to 06")
    if values[3] not in ("00", "01"):
        field_finding(ErrorCode.INVALID_SECURITY_QUALIFIER, 3, "ISA03 must be 00 or 01")
    if values[5] not in INTERCHANGE_ID_QUALIFIERS:
        field_finding(
            ErrorCode.INVALID_SENDER_QUALIFIER, 5, "ISA05 is not an interchange ID qualifier"
        )
    if not values[6]:
        field_finding(ErrorCode.INVALID_SENDER_ID, 6, "ISA06 sender ID is empty")
    if values[7] not in INTERCHANGE_ID_QUALIFIERS:
        field_finding(
            ErrorCode.INVALID_RECEIVER_QUALIFIER, 7, "ISA07 is not an interchange ID qualifier"
        )
    if not values[8]:
        field_finding(ErrorCode.INVALID_RECEIVER_ID, 8, "ISA08 receiver ID is empty")
    if not valid_yymmdd(values[9]):
        field_finding(ErrorCode.INVALID_INTERCHANGE_DATE, 9, "ISA09 must be a date YYMMDD")
    if not valid_hhmm(values[10]):
        field_finding(ErrorCode.INVALID_INTERCHANGE_TIME, 10, "ISA10 must be a time HHMM")
    if not (len(values[12]) == 5 and values[12].isdigit()):
        field_finding(
            ErrorCode.INVALID_VERSION_ID, 12, "ISA12 must be a 5-digit version, e.g. 00401"
        )
    if not (values[13].isdigit() and len(values[13]) <= 9):
        field_finding(ErrorCode.INVALID_INTERCHANGE_CONTROL_NUMBER, 13, "ISA13 must be 9 digits")
    if values[14] not in ("0", "1"):
        field_finding(ErrorCode.INVALID_ACK_REQUESTED, 14, "ISA14 must be 0 or 1")
    if values[15] not in ("P", "T", "I"):
        field_finding(ErrorCode.INVALID_TEST_INDICATOR, 15, "ISA15 must be P, T or I")
    return InterchangeHeader(
        segment=el,
        position=position,
        separators=parse.separators,
        sender=PartyId(values[5], values[6]),
        receiver=PartyId(values[7], values[8]),
        date=values[9],
        time=values[10],
        control_number=values[13],
        version=values[12],
        ack_requested=values[14] == "1",
        usage=values[15],
        encoding=encoding,
        findings=findings,
    )


def _digits(value: str, width: int) -> bool:
    return len(value) == width and value.isdigit() and value.isascii()


def valid_yymmdd(value: str) -> bool:
    """ISA09: six digits naming a real day. The century is strptime's (00-68 are 20xx,
    69-99 19xx), which decides only whether 00 has a 29 February: it has, as 2000."""
    if not _digits(value, 6):
        return False
    yy = int(value[:2])
    try:
        _dt.date(2000 + yy if yy < 69 else 1900 + yy, int(value[2:4]), int(value[4:]))
    except ValueError:
        return False
    return True


def valid_hhmm(value: str) -> bool:
    """ISA10: four digits, 0000 to 2359."""
    return _digits(value, 4) and int(value[:2]) < 24 and int(value[2:]) < 60
