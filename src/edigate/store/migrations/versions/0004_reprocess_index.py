"""An index on the attempt links (``reprocess_of_id``).

Which attempts a file has is asked by every reprocess (the selection takes each file's
latest attempt; a duplicate check skips the file's own runs), and without the index each
question scanned the documents table.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_reprocess_of", "documents", ["reprocess_of_id"])


def downgrade() -> None:
    op.drop_index("ix_documents_reprocess_of", "documents")
