"""Initial schema: documents, audit events, control-number sequences.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from edigate.store.schema import IdType, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("format", sa.String(20)),
        sa.Column("doc_type", sa.String(40)),
        sa.Column("filename", sa.String(500)),
        sa.Column("blob_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("interchange_control", sa.String(20)),
        sa.Column("group_control", sa.String(20)),
        sa.Column("transaction_control", sa.String(20)),
        sa.Column("po_number", sa.String(80)),
        sa.Column("invoice_number", sa.String(80)),
        sa.Column("shipment_id", sa.String(80)),
        sa.Column("errors", sa.JSON),
        sa.Column("meta", sa.JSON),
        sa.Column("parent_id", IdType, sa.ForeignKey("documents.id")),
        sa.Column("reprocess_of_id", IdType, sa.ForeignKey("documents.id")),
        sa.Column("duplicate_of_id", IdType, sa.ForeignKey("documents.id")),
        sa.Column("correlation_id", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime()),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_at", UtcDateTime()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_documents_status_next", "documents", ["status", "next_attempt_at"])
    op.create_index("ix_documents_partner_created", "documents", ["partner_id", "created_at"])
    op.create_index("ix_documents_interchange", "documents", ["partner_id", "interchange_control"])
    op.create_index("ix_documents_blob", "documents", ["blob_sha256"])
    op.create_index("ix_documents_po", "documents", ["po_number"])
    op.create_index("ix_documents_parent", "documents", ["parent_id"])
    op.create_index("ix_documents_correlation", "documents", ["correlation_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("document_id", IdType, sa.ForeignKey("documents.id")),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("actor", sa.String(100)),
        sa.Column("detail", sa.JSON),
    )
    op.create_index("ix_audit_document", "audit_events", ["document_id", "id"])
    op.create_table(
        "control_sequences",
        sa.Column("partner_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("control_sequences")
    op.drop_index("ix_audit_document", "audit_events")
    op.drop_table("audit_events")
    op.drop_table("documents")
