"""Indexes on a partner's invoice numbers and shipment IDs.

The outbound duplicate check looks a number up across all of a partner's documents (a
retailer's AP knows an invoice number whichever PO it came with), and ``edigate find``
searches by them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_invoice", "documents", ["partner_id", "invoice_number"])
    op.create_index("ix_documents_shipment", "documents", ["partner_id", "shipment_id"])


def downgrade() -> None:
    op.drop_index("ix_documents_shipment", "documents")
    op.drop_index("ix_documents_invoice", "documents")
