"""The database tables: metadata, and the bytes of small documents (``blob_data``; larger
ones live in the file blob store, see ``store/inline_blobs.py``).

Changing a table means a new Alembic revision in ``store/migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive) and PostgreSQL.

    A TypeDecorator, not a DateTime subclass: SQLite's dialect swaps a DateTime for its own
    type, which dropped an overridden result processor, so rows loaded from SQLite came back
    naive and could not be compared with ``utcnow()``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Aware values as UTC: SQLite stores (and compares) the clock digits without the
        offset, so 15:30+05:30 would be taken for 15:30 UTC. Naive values are UTC already."""
        if value is not None and value.tzinfo is not None and value.tzinfo is not dt.UTC:
            return value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    pass


class Document(Base):
    """One stored document: a received file, a split child, or an outbound document."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    format: Mapped[str | None] = mapped_column(String(20))
    doc_type: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(500))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    interchange_control: Mapped[str | None] = mapped_column(String(20))
    group_control: Mapped[str | None] = mapped_column(String(20))
    transaction_control: Mapped[str | None] = mapped_column(String(20))
    po_number: Mapped[str | None] = mapped_column(String(80))
    invoice_number: Mapped[str | None] = mapped_column(String(80))
    shipment_id: Mapped[str | None] = mapped_column(String(80))
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    reprocess_of_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    correlation_id: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_documents_status_next", "status", "next_attempt_at"),
        Index("ix_documents_partner_created", "partner_id", "created_at"),
        Index("ix_documents_interchange", "partner_id", "interchange_control"),
        Index("ix_documents_blob", "blob_sha256"),
        Index("ix_documents_po", "po_number"),
        Index("ix_documents_invoice", "partner_id", "invoice_number"),
        Index("ix_documents_shipment", "partner_id", "shipment_id"),
        Index("ix_documents_parent", "parent_id"),
        Index("ix_documents_reprocess_of", "reprocess_of_id"),
        Index("ix_documents_correlation", "correlation_id"),
    )


class AuditEvent(Base):
    """Append-only trail: every state change of every document, with who and why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_document", "document_id", "id"),)


class ControlSequence(Base):
    """Per-partner counters for ISA13, GS06 and ST02 (``kind`` is isa, gs or st)."""

    __tablename__ = "control_sequences"

    partner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class BlobData(Base):
    """The bytes of a small blob, by SHA-256, committed in the same transaction as the row
    that names it (see ``store/inline_blobs.py``). Content-addressed, never changed."""

    __tablename__ = "blob_data"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
