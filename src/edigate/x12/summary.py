"""A whole-file overview (interchanges, groups, transactions, findings) for ``x12 inspect``.

It keeps only counts and headers, never segments, so it stays small for any file size.
"""

from __future__ import annotations

from typing import Any

from .events import (
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    TechnicalAck,
    TransactionSet,
)
from .findings import Finding
from .reader import ReaderLimits, Source, X12Reader


def summarize(source: Source, *, limits: ReaderLimits | None = None) -> dict[str, Any]:
    """The ``inspect --json`` document: ``{"interchanges": [...], "errors": [...]}``.

    ``errors`` holds every finding (warnings too, with ``"severity": "warning"``).
    """
    interchanges: list[dict[str, Any]] = []
    findings: list[Finding] = []
    current: dict[str, Any] | None = None
    group: dict[str, Any] | None = None
    reader = X12Reader(source, limits=limits)
    for event in reader.events():
        if isinstance(event, TransactionSet):
            findings.extend(event.findings)
            entry = {
                "set_id": event.set_id,
                "control_number": event.control_number,
                "segment_count": event.segment_count,
                "segment": event.position,
            }
            if group is not None:
                group["transactions"].append(entry)
            elif current is not None:
                current.setdefault("transactions", []).append(entry)
        elif isinstance(event, GroupHeader):
            findings.extend(event.findings)
            group = {
                "functional_id": event.functional_id,
                "version": event.version,
                "control_number": event.control_number,
                "sender": event.sender,
                "receiver": event.receiver,
                "segment": event.position,
                "transactions": [],
            }
            if current is not None:
                current["groups"].append(group)
        elif isinstance(event, GroupTrailer):
            findings.extend(event.findings)
            group = None
        elif isinstance(event, InterchangeHeader):
            findings.extend(event.findings)
            current = _interchange(event)
            interchanges.append(current)
        elif isinstance(event, InterchangeTrailer):
            findings.extend(event.findings)
            current = None
        elif isinstance(event, TechnicalAck):
            if current is not None:
                current["ta1"].append({"segment": event.position, "elements": event.segment[1:]})
        elif isinstance(event, Finding):
            findings.append(event)
    findings.sort(key=lambda f: f.location.segment or 0)
    return {
        "encoding": reader.encoding,
        "interchanges": interchanges,
        "errors": [f.to_dict() for f in findings],
    }


def _interchange(header: InterchangeHeader) -> dict[str, Any]:
    return {
        "sender": {"qualifier": header.sender.qualifier, "id": header.sender.id},
        "receiver": {"qualifier": header.receiver.qualifier, "id": header.receiver.id},
        "control_number": header.control_number,
        "version": header.version,
        "test": header.test,
        "ack_requested": header.ack_requested,
        "date": header.date,
        "time": header.time,
        "segment": header.position,
        "separators": header.separators.to_dict(),
        "ta1": [],
        "groups": [],
    }


def has_errors(summary: dict[str, Any]) -> bool:
    return any(e["severity"] == "error" for e in summary["errors"])
