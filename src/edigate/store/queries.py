"""Read-side queries for operations: find documents, show one whole, count by status.

These answer the 3 a.m. questions: where is PO 4500012345, why was this file rejected, what
happened to it since. They return plain dicts so the CLI can print tables or JSON alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..errors import EdigateError
from .schema import AuditEvent, Document
from .statuses import Direction

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: The longest --since duration (about 100 years).
MAX_SINCE = dt.timedelta(days=36500)
_MAX = f"{MAX_SINCE.days}d (100 years)"


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``30m``, ``2h``, ``7d``, ``1w``, or an ISO date/time: the start of a window, in UTC.

    An ISO time with an offset is that instant; one without is UTC, the zone ``docs list``
    shows. A duration reaches back at most MAX_SINCE (no stored document is that old),
    which keeps the arithmetic in datetime's range. Raises EdigateError naming what was expected.
    """
    now = now or dt.datetime.now(dt.UTC)
    match = _DURATION.match(text)
    if match:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        if seconds > MAX_SINCE.total_seconds():
            raise EdigateError(f"{text!r} is too far back: expected a duration up to {_MAX}")
        return now - dt.timedelta(seconds=seconds)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise EdigateError(
            f"{text!r}: expected a duration like 30m, 2h or 7d (up to {_MAX}), or an ISO date"
        ) from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise EdigateError(
            f"{text!r} is out of range: expected a time from 0001-01-01 to 9999-12-31 UTC"
        ) from exc


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    partner: str | None = None
    status: str | None = None
    doc_type: str | None = None
    direction: str | None = None
    since: dt.datetime | None = None
    po_number: str | None = None
    #: Everything that came of one received file (the ID its log lines carry).
    correlation: str | None = None
    #: Leave out what a later attempt superseded (:func:`superseded`): the work queue.
    open_only: bool = False
    limit: int = 100

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.partner:
            query = query.where(Document.partner_id == self.partner)
        if self.status:
            query = query.where(Document.status == self.status)
        if self.doc_type:
            query = query.where(_type_matches(self.doc_type))
        if self.direction:
            query = query.where(Document.direction == self.direction)
        if self.since:
            query = query.where(Document.created_at >= self.since)
        if self.correlation:
            query = query.where(_correlation_matches(self.correlation))
        if self.open_only:
            query = query.where(~superseded())
        if self.po_number:
            query = query.where(
                or_(
                    Document.po_number == self.po_number,
                    Document.invoice_number == self.po_number,
                    Document.shipment_id == self.po_number,
                )
            )
        return query


#: ``--type`` for the files as received (partner files, ERP files): their rows carry no
#: X12 type (a file may hold many), and the type of a file's transactions names those.
FILE_TYPE = "file"


def _type_matches(given: str) -> ColumnElement[bool]:
    """``file``, or a stored type in any case: X12 IDs are stored upper-case (``850``,
    ``TA1``), our own names lower-case (``order``, ``order_ack``)."""
    if given.lower() == FILE_TYPE:
        return and_(Document.parent_id.is_(None), Document.direction == Direction.INBOUND.value)
    return Document.doc_type.in_({given.upper(), given.lower()})


def doc_types(session: Session) -> list[str]:
    """The types ``--type`` finds documents of in this store (``file`` when any file was
    received): what a note names when a type matches nothing."""
    found = session.scalars(
        select(Document.doc_type).where(Document.doc_type.is_not(None)).distinct()
    ).all()
    a_file = session.scalar(select(Document.id).where(_type_matches(FILE_TYPE)).limit(1))
    return sorted(str(t) for t in found) + ([FILE_TYPE] if a_file is not None else [])


def superseded(doc: Any = Document) -> ColumnElement[bool]:
    """An inbound document (``doc``: the documents table, or an alias of it) whose file
    (itself, or the file it is a transaction of) was reprocessed: the attempt is what to
    look at now (and what ``reprocess`` selects instead)."""
    later = aliased(Document)
    file_id = func.coalesce(doc.parent_id, doc.id)
    return and_(
        doc.direction == Direction.INBOUND.value,
        select(later.id).where(later.reprocess_of_id == file_id).exists(),
    )


def summary(doc: Document) -> dict[str, Any]:
    """One row of ``docs list``."""
    return {
        "id": doc.id,
        "created_at": doc.created_at.isoformat(timespec="seconds"),
        "direction": doc.direction,
        "partner": doc.partner_id,
        "channel": doc.channel,
        "type": doc.doc_type,
        "status": doc.status,
        "po_number": doc.po_number,
        "filename": doc.filename,
        "interchange_control": doc.interchange_control,
        "errors": sum(1 for e in doc.errors or [] if is_error(e)),
        "warnings": sum(1 for e in doc.errors or [] if not is_error(e)),
        "parent_id": doc.parent_id,
    }


def is_error(entry: dict[str, Any]) -> bool:
    """Stored entries are errors and warnings alike; one without a severity is an error."""
    return bool(entry.get("severity", "error") == "error")


def location(entry: dict[str, Any]) -> str:
    """Where a stored error is: ``segment 10 element 2``, ``segment 31, order line 3`` (an
    X12 order line: its PO1 and PO101), ``line 3, column "Qty"`` (a CSV
    column, else an XML file's field), or "" when it names no place."""
    if entry.get("segment"):
        where = f"segment {entry['segment']}"
        where += f" element {entry['element']}" if entry.get("element") else ""
        return where + (f", order line {entry['order_line']}" if entry.get("order_line") else "")
    parts = [f"line {entry['line']}"] if entry.get("line") else []
    if entry.get("column"):
        parts.append(f'column "{entry["column"]}"')
    elif entry.get("field"):
        parts.append(str(entry["field"]))
    return ", ".join(parts)


def list_documents(session: Session, flt: DocumentFilter) -> list[dict[str, Any]]:
    query = flt.apply(select(Document)).order_by(Document.id.desc()).limit(flt.limit)
    return _rows(session, list(session.scalars(query)))


def children(session: Session, doc_id: int) -> list[dict[str, Any]]:
    """The documents ``doc_id`` became (a file's transactions and acks, a transaction's
    order and 855), as ``docs list`` rows."""
    rows = session.scalars(
        select(Document).where(Document.parent_id == doc_id).order_by(Document.id)
    )
    return _rows(session, list(rows))


def _rows(session: Session, docs: list[Document]) -> list[dict[str, Any]]:
    """``docs list`` rows: each summary with the attempts that ran its file again."""
    attempts = reprocessed_as(session, docs)
    return [{**summary(doc), "reprocessed_as": attempts.get(doc.id, [])} for doc in docs]


#: Documents looked up in one IN (...): well under SQLite's bound-parameter limit.
_BATCH = 500


def reprocessed_as(session: Session, docs: Sequence[Document]) -> dict[int, list[int]]:
    """By inbound document ID: the attempts that ran its file (itself, or the file it is
    a transaction of) again, attempts of those included, oldest first; the last is the
    one to look at now. Outbound documents are answers, resent rather than reprocessed:
    they have none."""
    file_of = {
        doc.id: doc.parent_id or doc.id for doc in docs if doc.direction == Direction.INBOUND.value
    }
    later: dict[int, list[int]] = {}  # document -> its own attempts
    seen = set(file_of.values())
    frontier = sorted(seen)
    while frontier:
        found: list[tuple[int, int]] = []
        for start in range(0, len(frontier), _BATCH):
            rows = session.execute(
                select(Document.reprocess_of_id, Document.id).where(
                    Document.reprocess_of_id.in_(frontier[start : start + _BATCH])
                )
            )
            found += [(int(of), attempt) for of, attempt in rows if of is not None]
        frontier = []
        for of, attempt in found:
            later.setdefault(of, []).append(attempt)
            if attempt not in seen:
                seen.add(attempt)
                frontier.append(attempt)
    runs: dict[int, list[int]] = {}
    for file_id in set(file_of.values()):
        todo, every = list(later.get(file_id, [])), set()
        while todo:
            attempt = todo.pop()
            if attempt not in every:
                every.add(attempt)
                todo += later.get(attempt, [])
        runs[file_id] = sorted(every)
    return {doc_id: runs[file_id] for doc_id, file_id in file_of.items()}


def document_detail(session: Session, doc: Document) -> dict[str, Any]:
    """Everything ``docs show`` prints: metadata, errors and warnings, audit trail,
    lineage."""
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.document_id == doc.id).order_by(AuditEvent.id)
    ).all()
    detail = summary(doc)
    detail.update(
        {
            "format": doc.format,
            "size": doc.size,
            "sha256": doc.blob_sha256,
            "group_control": doc.group_control,
            "transaction_control": doc.transaction_control,
            "invoice_number": doc.invoice_number,
            "shipment_id": doc.shipment_id,
            "correlation_id": doc.correlation_id,
            "reprocess_of_id": doc.reprocess_of_id,
            "duplicate_of_id": doc.duplicate_of_id,
            "reprocessed_as": reprocessed_as(session, [doc]).get(doc.id, []),
            "attempts": doc.attempts,
            "last_error": doc.last_error,
            "updated_at": doc.updated_at.isoformat(timespec="seconds"),
            # Lists here, counts in a docs list row: the same two keys, split alike.
            "errors": [e for e in doc.errors or [] if is_error(e)],
            "warnings": [e for e in doc.errors or [] if not is_error(e)],
            "meta": doc.meta or {},
            "children": children(session, doc.id),
            "audit": [
                {
                    "at": event.at.isoformat(timespec="seconds"),
                    "event": event.event,
                    "from": event.from_status,
                    "to": event.to_status,
                    "actor": event.actor,
                    "detail": event.detail or {},
                }
                for event in audit
            ],
        }
    )
    return detail


def stats(
    session: Session, since: dt.datetime | None, *, open_only: bool = False
) -> list[dict[str, Any]]:
    """Counts by partner, direction, type and status over a window (``open_only``: of
    what no later attempt superseded)."""
    query = select(
        Document.partner_id,
        Document.direction,
        Document.doc_type,
        Document.status,
        func.count(),
    ).group_by(Document.partner_id, Document.direction, Document.doc_type, Document.status)
    if since is not None:
        query = query.where(Document.created_at >= since)
    if open_only:
        query = query.where(~superseded())
    rows = session.execute(query).all()
    return [
        {
            "partner": partner,
            "direction": direction,
            "type": doc_type,
            "status": status,
            "count": count,
        }
        for partner, direction, doc_type, status, count in sorted(
            rows, key=lambda r: tuple(str(x) for x in r[:4])
        )
    ]


#: The shortest prefix of a correlation ID that is looked up (a whole one is 32 hex digits).
MIN_CORRELATION_PREFIX = 6


def correlation_prefix(given: str) -> str | None:
    """``given`` as looked up: a correlation ID (32 hex digits) or at least its first
    :data:`MIN_CORRELATION_PREFIX`, lower-cased, as an operator copies it from a log line;
    None for anything else, which names no document."""
    text = given.strip().lower()
    ok = MIN_CORRELATION_PREFIX <= len(text) <= 32 and _HEX.fullmatch(text) is not None
    return text if ok else None


def _correlation_matches(given: str) -> ColumnElement[bool]:
    """The whole ID, or a prefix of it (:func:`correlation_prefix`)."""
    text = correlation_prefix(given)
    if text is None or len(text) == 32:
        return Document.correlation_id == (text or given.strip().lower())
    return Document.correlation_id.startswith(text, autoescape=True)


_HEX = re.compile(r"[0-9a-f]+")
