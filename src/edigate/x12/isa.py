"""Finding and decoding the ISA: the one fixed-layout segment that declares the delimiters.

The element separator is the character after ``ISA``; the component separator is ISA16 and
the segment terminator the character after it. Real files bend the fixed layout: unpadded
fields, no-break-space padding, line breaks inside the ISA (hard-wrapped at 80 columns). We
walk the characters instead of slicing at fixed offsets, skipping line breaks until ISA16.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any

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

#: ISA12 (data element I11, interchange control version number): 00200 to 008xx, a major
#: version then a 0 and the release ("00401", "00501"); "00999" is no version at all.
_CONTROL_VERSION = re.compile(r"00[2-8]0[0-9]")


def is_control_version(value: str) -> bool:
    """Whether ``value`` is an ISA12 of code list I11 (``00401``, ``00501`` ...)."""
    return _CONTROL_VERSION.fullmatch(value) is not None


#: Offsets of the 16 element separators in an ISA of the fixed layout (106 characters).
_FIXED_SEPARATORS = tuple(3 + sum(ISA_WIDTHS[:k]) + k for k in range(16))
#: Separators counted before giving up on finding where an ISA with too many ends.
_MAX_ISA_ELEMENTS = 24
#: Segments that may follow an ISA: where one starts after ISA16 and a terminator, the ISA
#: has ended, whatever its element count.
_AFTER_ISA = ("GS", "TA1", "ISB", "ISE", "TA3", "IEA", "ST", "ISA")
_BLANKS = " \t\r\n"

#: Stands in for a missing ISA16: a control character no real data carries.
NO_COMPONENT = "\x1f"


@dataclass(slots=True)
class IsaParse:
    """Result of :func:`parse_isa`. ``end`` indexes the first character after the terminator."""

    elements: Segment
    separators: Separators | None
    end: int
    findings: list[Finding] = field(default_factory=list)
    #: Whether ``elements`` are ISA01..ISA16 as the sender meant them, so a TA1 may name the
    #: interchange (ISA13) and its parties; False when a miscounted ISA shifts them.
    reliable: bool = True


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
    limit = min(n, start + MAX_ISA_CHARS, _next_isa(text, start, es))
    seps_seen = 1
    at_16: tuple[Segment, int] | None = None
    while i < limit:
        c = text[i]
        i += 1
        if c == es:
            elements.append("".join(current))
            current = []
            seps_seen += 1
            if seps_seen == 16:
                at_16 = (list(elements), i)
                if not _holds_separator(text, i, es, skip_breaks):
                    break  # the usual ISA: ISA16 and the terminator follow
            elif seps_seen >= 12 and _ends_isa(text, i, es, skip_breaks, at_eof=at_eof):
                # The ISA ends after other than 16 elements: counting on would read the
                # next segment (or past a separator inside a field) as ISA16.
                return _miscounted(text, start, elements, i, seps_seen, position, skip_breaks)
            if seps_seen == _MAX_ISA_ELEMENTS:
                break
        elif not (skip_breaks and c in LINE_BREAKS):
            current.append(c)
    if at_16 is not None:
        elements, i = at_16
    # ISA16 and the terminator follow the 16th separator.
    while i < n and skip_breaks and text[i] in LINE_BREAKS:
        i += 1
    if seps_seen < 16 or i + 1 >= n:
        ran_out = i + 1 >= n if at_16 is not None else i >= n  # not a limit: the text
        if ran_out and not at_eof:
            return None
        loc = Location(segment=position, tag="ISA")
        if ran_out:
            if at_16 is None:
                missing = f"it has {len(elements) - 1} of its 16 elements"
            elif i >= n:
                missing = "ISA16 and the segment terminator are missing"
            else:
                missing = "no segment terminator after ISA16"
            msg = f"file ends inside the ISA: {missing}"
            finding = Finding(ErrorCode.PREMATURE_END_OF_FILE, loc, msg)
            return IsaParse(elements, None, n, [finding], reliable=at_16 is not None)
        msg = f"ISA is incomplete: found {seps_seen - 1} of 16 elements separated by {es!r}"
        if i < n and text.startswith("ISA" + es, i):
            msg += " before the next ISA"
        finding = Finding(ErrorCode.INVALID_CONTROL_STRUCTURE, loc, msg)
        return IsaParse(elements, None, i, [finding], reliable=False)
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


def _next_isa(text: str, start: int, es: str) -> int:
    """Where the next ISA opens a segment (after a symbol other than ``es`` or a blank), or
    ``len(text)``: an ISA cut short must not count the next one's elements as its own."""
    stop = start + MAX_ISA_CHARS
    k = text.find("ISA" + es, start + 4, stop)
    while k >= 0:
        before = text[k - 1]
        if not (before.isalnum() or before in (es, " ")):
            return k
        k = text.find("ISA" + es, k + 4, stop)
    return len(text)


def _holds_separator(text: str, i: int, es: str, skip_breaks: bool) -> bool:
    """True when the one character after the 16th separator is followed by another one:
    then that was not ISA16 and the ISA has more than 16 elements."""
    while skip_breaks and i < len(text) and text[i] in LINE_BREAKS:
        i += 1
    return text[i : i + 1] not in ("", es) and text[i + 1 : i + 2] == es


def _ends_isa(text: str, i: int, es: str, skip_breaks: bool, *, at_eof: bool) -> bool:
    """True when ``text[i:]`` reads as ISA16, a segment terminator, then the next segment.

    Only the end of an ISA looks so: a symbol, another symbol, and a segment that may follow
    an ISA (or the end of the file). ISA12..ISA15 (digits, one letter) never do.
    """
    n = len(text)
    while skip_breaks and i < n and text[i] in LINE_BREAKS:
        i += 1
    if i + 1 >= n:
        return False
    component, terminator = text[i], text[i + 1]
    if es in (component, terminator) or terminator.isalnum() or terminator == " ":
        return False
    j = i + 2
    while j < n and text[j] in _BLANKS:
        j += 1
    if j >= n:
        return at_eof
    return any(text.startswith(tag + es, j) for tag in _AFTER_ISA)


def _miscounted(
    text: str,
    start: int,
    elements: Segment,
    i: int,
    count: int,
    position: int,
    skip_breaks: bool,
) -> IsaParse:
    """An ISA of ``count`` elements (not 16): unusable, and its fields are known only where
    the fixed layout holds (a separator inside a field, its width kept)."""
    while skip_breaks and text[i] in LINE_BREAKS:
        i += 1
    es = text[start + 3]
    elements = [*elements, text[i]]
    fixed = _fixed_elements(text, start, i + 1, skip_breaks)
    if fixed is not None:
        how = "its fields are read at the fixed positions of the 106-character layout"
    else:
        how = "its fields cannot be located, so no TA1 can answer this interchange"
    finding = Finding(
        ErrorCode.INVALID_CONTROL_STRUCTURE,
        Location(segment=position, tag="ISA"),
        f"ISA has {count} elements separated by {es!r}, expected 16 (a field is missing or "
        f"holds the separator): {how}",
        value=str(count),
    )
    return IsaParse(fixed or elements, None, i + 2, [finding], reliable=fixed is not None)


def _fixed_elements(text: str, start: int, stop: int, skip_breaks: bool) -> Segment | None:
    """ISA01..ISA16 cut at their fixed offsets, when ``text[start:stop]`` (up to ISA16) has
    the element separator at every one of them; else None."""
    isa = text[start:stop]
    if skip_breaks:
        for brk in LINE_BREAKS:
            isa = isa.replace(brk, "")
    if len(isa) != _FIXED_SEPARATORS[-1] + 2:
        return None
    es = isa[3]
    if any(isa[k] != es for k in _FIXED_SEPARATORS):
        return None
    bounds = zip(_FIXED_SEPARATORS, (*_FIXED_SEPARATORS[1:], len(isa)), strict=True)
    return ["ISA", *(isa[a + 1 : b] for a, b in bounds)]


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
    """ISA11 is the repetition separator from 00402 on, when it is not alphanumeric.

    Before 00402 it is the interchange control standards identifier, which must be ``U``: a
    symbol there is never a separator (a ``^`` in a 00401 street address is data).
    """
    isa11 = elements[11]
    version = elements[12].strip(_PAD)
    five_digits = len(version) == 5 and version.isdigit()
    if five_digits and not is_control_version(version):
        return None  # no version (a TA1-017 warning): what ISA11 is cannot be told
    if five_digits and version < "00402":
        if isa11.strip(_PAD) != "U":
            findings.append(
                Finding(
                    ErrorCode.INVALID_STANDARDS_ID,
                    Location(segment=position, tag="ISA", element=11),
                    f"ISA11 is {isa11!r} in a {version} interchange, where it is the standards "
                    "identifier and must be U (a repetition separator only from 00402 on)",
                    value=isa11,
                )
            )
        return None
    if len(isa11) == 1 and not isa11.isalnum() and isa11 not in (es, component, terminator, " "):
        return isa11
    if is_control_version(version) and version >= "00402":
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
    elif not is_control_version(values[12]):
        # A warning: the envelope reads the same, and GS08 says what the documents are; a
        # long-standing partner with a typo here keeps trading (TA1 E 017 if noted).
        field_finding(
            ErrorCode.INVALID_VERSION_ID,
            12,
            f"ISA12 {values[12]!r} is not an interchange control version of code list I11 "
            "(00200 to 008xx, e.g. 00401 or 00501); read by the groups' GS08 versions",
            warn=True,
        )
    if not (values[13].isdigit() and len(values[13]) <= 9):
        field_finding(ErrorCode.INVALID_INTERCHANGE_CONTROL_NUMBER, 13, "ISA13 must be 9 digits")
    if values[14] not in ("0", "1"):
        field_finding(ErrorCode.INVALID_ACK_REQUESTED, 14, "ISA14 must be 0 or 1")
    if values[15] not in ("P", "T", "I"):
        field_finding(ErrorCode.INVALID_TEST_INDICATOR, 15, "ISA15 must be P, T or I")
    return header_of(el, values, position, parse.separators, encoding=encoding, findings=findings)


def header_of(
    segment: Segment,
    values: list[str],
    position: int,
    separators: Separators,
    **extra: Any,
) -> InterchangeHeader:
    """The header of an ISA whose fields are ``values`` (ISA01..ISA16 at 1..16, trimmed)."""
    return InterchangeHeader(
        segment=segment,
        position=position,
        separators=separators,
        sender=PartyId(values[5], values[6]),
        receiver=PartyId(values[7], values[8]),
        date=values[9],
        time=values[10],
        control_number=values[13],
        version=values[12],
        ack_requested=values[14] == "1",
        usage=values[15],
        **extra,
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
