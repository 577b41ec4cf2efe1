"""Check a whole X12 file: every reader and validator finding, and its acknowledgement.

This is what ``edigate x12 validate`` runs; the pipeline does the same per transaction with
the partner's overlay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .acks import Acknowledgements, acknowledge
from .events import (
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    TransactionSet,
)
from .findings import ErrorCode, Finding, Location
from .overlay import Overlay
from .reader import X12Reader
from .validator import validate_transaction

OverlayFor = Callable[[TransactionSet], Overlay | None]


@dataclass(slots=True)
class FileCheck:
    findings: list[Finding] = field(default_factory=list)
    interchanges: int = 0
    transactions: int = 0
    rejected: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def check_file(data: bytes, *, overlay_for: OverlayFor | None = None) -> FileCheck:
    """All findings of a file, sorted by position: reader (envelope) and validator.

    ``rejected`` counts the transactions the acks reject: those with errors of their own,
    and every other one of a group (AK9 R) or interchange (TA1 R) with envelope errors.
    """
    result = FileCheck()
    # Transactions not rejected yet, in the open group and in the open interchange.
    in_group = in_interchange = 0
    for event in X12Reader(data).events():
        if isinstance(event, TransactionSet):
            result.transactions += 1
            found = event.findings + validate_transaction(
                event, overlay_for(event) if overlay_for else None
            )
            if any(f.is_error for f in found):
                result.rejected += 1
            elif event.group is not None:
                in_group += 1
            else:
                in_interchange += 1
            result.findings.extend(found)
        elif isinstance(event, InterchangeHeader):
            result.interchanges += 1
            in_group = in_interchange = 0
            result.findings.extend(event.findings)
        elif isinstance(event, GroupTrailer):
            if _has_errors(event.findings, event.header.findings):
                result.rejected += in_group
            else:
                in_interchange += in_group
            in_group = 0
            result.findings.extend(event.findings)
        elif isinstance(event, InterchangeTrailer):
            if _has_errors(event.findings, event.header.findings):
                result.rejected += in_interchange + in_group
            in_group = in_interchange = 0
            result.findings.extend(event.findings)
        elif isinstance(event, GroupHeader):
            in_interchange += in_group
            in_group = 0
            result.findings.extend(event.findings)
        elif isinstance(event, Finding):
            result.findings.append(event)
    if not result.interchanges and not result.findings:
        result.findings.append(blank_file_finding())
    result.findings.sort(key=lambda f: (f.location.segment or 0, f.location.element or 0))
    return result


def _has_errors(*findings: list[Finding]) -> bool:
    return any(f.is_error for found in findings for f in found)


def blank_file_finding() -> Finding:
    """The error of a file with nothing but blanks in it: the reader yields no event for
    one, and a file without an interchange is an error, as ``receive`` rejects it."""
    return Finding(
        ErrorCode.NO_INTERCHANGE,
        Location(),
        "no interchange: expected an ISA interchange header, found an empty or blank file",
    )


def acknowledge_file(
    data: bytes, kind: str, *, overlay_for: OverlayFor | None = None
) -> Acknowledgements:
    """The 997/999 (and TA1 where due) for a file, naming every validator finding.

    ``kind`` ``auto`` answers each interchange in its own version: a 999 for a 005010 one,
    a 997 otherwise (the pipeline uses the partner profile's kind instead).
    """

    def validate(tx: TransactionSet) -> list[Finding]:
        return validate_transaction(tx, overlay_for(tx) if overlay_for else None)

    return acknowledge(data, kind, validate=validate)  # type: ignore[arg-type]
