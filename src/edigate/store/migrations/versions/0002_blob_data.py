"""Small blobs in the database: ``blob_data`` (SHA-256, bytes).

Blobs written before this revision stay files; readers look for a file first, then a row.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_data",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Refused while the table holds documents' bytes: dropping it would lose them."""
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM blob_data")).scalar_one()
    if held:
        raise RuntimeError(
            f"blob_data holds the bytes of {held} blob(s); downgrading would lose them"
        )
    op.drop_table("blob_data")
