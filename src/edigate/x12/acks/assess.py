"""From findings to verdicts: which AK3/AK4 rows, which AK5 and AK9 statuses and codes.

Each finding acts at its own level (``code.level``): element findings become AK4s under the
AK3 of their segment, segment findings AK3s, transaction findings AK502 codes, group findings
AK905 codes; interchange findings go to the TA1 wherever they were reported.

Statuses. An error (``Severity.ERROR``) at transaction level or below rejects the transaction
(``R``). Warnings never reject: a transaction with only warnings is ``E`` ("accepted, errors
noted") with the warnings listed in AK3/AK4, or ``A`` when the caller turns noting off. A
group is ``R`` when it has a group-level error or every transaction was rejected, ``P`` when
some were, ``E`` when all were accepted but something was noted, else ``A``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..events import TransactionSet
from ..findings import Finding, Level
from .model import ElementError, SegmentError, TransactionAck

#: AK4 may repeat 99 times per AK3 (997); the 999 is unbounded, we keep the same cap.
MAX_ELEMENT_ERRORS = 99
#: AK502..AK506 and AK905..AK909: five codes at most.
MAX_CODES = 5
#: AK403 codes 12 (too many repetitions) and 13 (too many components) are new in 5010; a
#: 004010 997 reports each as the nearest code it has: 3 (too many data elements) for a
#: composite with a component too many, or a repeating element with a repetition too many;
#: 6 (invalid character) for a simple element holding a component separator, or one that
#: does not repeat holding a repetition separator (a delimiter inside data, which X12.6
#: does not allow; pyx12 says 6 there too). See :func:`element_code_997`.
ELEMENT_CODES_997 = {"12": "3", "13": "3"}
#: What those codes become when the finding is about a delimiter in a simple element.
_DELIMITER_IN_DATA = "6"


def element_code_997(finding: Finding) -> str:
    """The AK403 of a 004010 997 for ``finding``: its own code, or the nearest 004010 one
    for the 5010-only 12 and 13 (see :data:`ELEMENT_CODES_997`)."""
    code = finding.code.x12
    loc = finding.location
    if code == "13" and loc.component is None:
        return _DELIMITER_IN_DATA  # a simple element holds a component separator
    if code == "12" and loc.repetition == 2:
        return _DELIMITER_IN_DATA  # an element that does not repeat holds a repetition
    return ELEMENT_CODES_997.get(code, code)


#: AK905 19 (group control number not unique within the interchange) is new in 5010; in a
#: 004010 997, 19 means "S1E security end segment missing", so the nearest 004010 code,
#: 6 (group control number violates syntax), stands in.
GROUP_CODES_4010 = {"19": "6"}

_TRANSACTION_LEVELS = (Level.TRANSACTION, Level.SEGMENT, Level.ELEMENT)

Clean = Callable[[str, int], str]


def dedupe(codes: Iterable[str], limit: int = MAX_CODES) -> tuple[str, ...]:
    """Distinct non-empty codes in first-seen order, at most ``limit``."""
    out: list[str] = []
    for code in codes:
        if code and code not in out:
            out.append(code)
            if len(out) == limit:
                break
    return tuple(out)


def assess_transaction(
    tx: TransactionSet,
    extra: Sequence[Finding],
    kind: str,
    clean: Clean,
    *,
    note_warnings: bool = True,
) -> tuple[TransactionAck, list[Finding]]:
    """The AK2 loop for ``tx`` and the findings that belong higher up (group, interchange).

    ``extra`` are the validator's findings; the reader's (``tx.findings``) are added here, so
    a validator that repeats them does not report them twice.
    """
    convention = None
    if kind == "999":
        st = tx.segments[0] if tx.segments else []
        convention = (clean(st[3], 35) or None) if len(st) > 3 else None
    set_id, control = clean(tx.set_id, 3), clean(tx.control_number, 9)
    if not extra and not tx.findings:  # the common case, kept cheap
        return TransactionAck(set_id, control, "A", convention=convention), []

    findings = list(tx.findings) + [f for f in extra if f not in tx.findings]
    higher = [f for f in findings if f.code.level not in _TRANSACTION_LEVELS]
    considered = [
        f for f in findings if f.code.level in _TRANSACTION_LEVELS and (note_warnings or f.is_error)
    ]
    if not considered:
        return TransactionAck(set_id, control, "A", convention=convention), higher

    tx_codes = [f for f in considered if f.code.level is Level.TRANSACTION]
    seg_findings = [f for f in considered if f.code.level is not Level.TRANSACTION]
    ordered = [f for f in tx_codes if f.is_error] + [f for f in tx_codes if not f.is_error]
    codes = [f.code.x12 for f in ordered]
    if seg_findings:
        codes.append("5")  # one or more segments in error
    status = "R" if any(f.is_error for f in considered) else "E"
    rows = _segment_errors(tx, seg_findings, kind, clean)
    return (
        TransactionAck(set_id, control, status, dedupe(codes), rows, convention),
        higher,
    )


def _segment_errors(
    tx: TransactionSet, findings: list[Finding], kind: str, clean: Clean
) -> tuple[SegmentError, ...]:
    """Group segment and element findings by segment into AK3 rows, in segment order."""
    groups: dict[tuple[int | None, str], tuple[list[Finding], list[Finding]]] = {}
    for f in findings:
        position = _position(f, tx)
        tag = f.location.tag
        if not tag and position is not None and 0 < position <= len(tx.segments):
            tag = tx.segments[position - 1][0]
        tag = clean(tag or "", 3)
        if position is None or not (2 <= len(tag) <= 3 and tag.isalnum()):
            continue  # AK301/AK302 cannot be written; the AK5 still carries the rejection
        seg_level, elem_level = groups.setdefault((position, tag), ([], []))
        (seg_level if f.code.level is Level.SEGMENT else elem_level).append(f)

    rows: list[SegmentError] = []
    for (position, tag), (seg_level, elem_level) in groups.items():
        elements = tuple(
            e for e in (_element_error(f, kind, clean) for f in elem_level) if e is not None
        )[:MAX_ELEMENT_ERRORS]
        codes = dedupe((f.code.x12 for f in seg_level), limit=len(seg_level)) or ("8",)
        loop_ids = (_loop_id(f, clean) for f in seg_level + elem_level)
        loop_id = next((loop for loop in loop_ids if loop), None)
        for index, code in enumerate(codes):
            rows.append(SegmentError(tag, position, loop_id, code, elements if index == 0 else ()))
    rows.sort(key=lambda r: (r.position is None, r.position or 0))
    return tuple(rows)


def _position(f: Finding, tx: TransactionSet) -> int | None:
    """Position in the transaction (ST is 1), from the finding or from its file position."""
    loc = f.location
    if loc.segment_in_transaction is not None:
        return loc.segment_in_transaction
    if loc.segment is not None and tx.position:
        index = loc.segment - tx.position
        return tx.place(index) if index >= 0 else None
    return None


def _loop_id(f: Finding, clean: Clean) -> str | None:
    loop = f.extra.get("loop_id")
    if not isinstance(loop, str):
        return None
    loop = clean(loop, 4)
    return loop if loop and len(loop) <= 4 else None  # AK303 is AN 1-4: omit, never truncate


#: C030 positions are numbers of at most 2 digits (element, component), 4 for the 999's
#: repetition: a position beyond them cannot be written (the AK3 still flags the segment).
_MAX_POSITION = 99
_MAX_REPETITION = 9999


def _element_error(f: Finding, kind: str, clean: Clean) -> ElementError | None:
    loc = f.location
    if loc.element is None or loc.element < 1:
        return None  # AK401-1 is mandatory
    if loc.element > _MAX_POSITION or (loc.component or 0) > _MAX_POSITION:
        return None
    if kind == "999" and (loc.repetition or 0) > _MAX_REPETITION:
        return None
    code = element_code_997(f) if kind == "997" else f.code.x12
    ref = f.extra.get("data_element_ref")
    ref = str(ref) if ref is not None else None
    if ref is not None and not (ref.isdigit() and len(ref) <= 4):
        ref = None
    value = clean(f.value, 99) if f.value else ""
    return ElementError(
        loc.element,
        loc.component,
        loc.repetition if kind == "999" else None,
        ref,
        code,
        value or None,
    )
