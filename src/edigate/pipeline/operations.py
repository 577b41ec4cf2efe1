"""Operator actions on stored documents: reprocess and resend.

A reprocess is a new attempt linked to the original (``reprocess_of_id``): the stored bytes
run again with today's profiles and maps. Nothing is deleted or overwritten; the original
keeps its status and gains an audit event pointing at the new attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import EdigateError
from ..store import BlobRef, Direction, Document, Status, Store
from ..store.queries import DocumentFilter


@dataclass(frozen=True, slots=True)
class Attempt:
    original: int
    attempt: int


def select_for_reprocess(store: Store, flt: DocumentFilter) -> list[int]:
    """Top-level inbound documents matching the filter (children are reprocessed via their
    file: the whole interchange runs again)."""
    with store.session() as session:
        query = flt.apply(
            select(Document.id).where(
                Document.direction == Direction.INBOUND.value, Document.parent_id.is_(None)
            )
        )
        return list(session.scalars(query.order_by(Document.id).limit(flt.limit)))


def reprocess(store: Store, doc_id: int) -> Attempt:
    """Queue the stored bytes of ``doc_id`` (or of its file, for a split child) again."""
    with store.session() as session:
        doc = store.get(session, doc_id)
        if doc.direction != Direction.INBOUND.value:
            raise EdigateError(f"document {doc_id} is outbound: use 'edigate resend {doc_id}'")
        while doc.parent_id is not None:
            doc = store.get(session, doc.parent_id)
        attempt = store.add_document(
            session,
            BlobRef(doc.blob_sha256, doc.size),
            direction=Direction.INBOUND,
            status=Status.RECEIVED,
            channel=doc.channel,
            partner_id=doc.partner_id,
            filename=doc.filename,
            reprocess_of_id=doc.id,
            correlation_id=doc.correlation_id,
            meta={**(doc.meta or {}), "reprocess_of": doc.id},
        )
        store.audit(session, doc, "reprocessed", doc.status, doc.status, {"attempt": attempt.id})
        return Attempt(doc.id, attempt.id)


def resend(store: Store, doc_id: int) -> None:
    """Deliver an outbound document again (its bytes and control numbers unchanged)."""
    with store.session() as session:
        doc = store.get(session, doc_id)
        if doc.direction != Direction.OUTBOUND.value:
            raise EdigateError(f"document {doc_id} is inbound: use 'edigate reprocess {doc_id}'")
        doc.attempts = 0
        doc.next_attempt_at = None
        store.transition(session, doc, Status.CREATED, "resend")
