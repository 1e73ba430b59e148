"""The ingest service's first schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban_kit.migrations import create_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32)),
        sa.Column("unit_id", sa.String(100)),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("inbound_sequence", sa.Integer),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_id", sa.String(64)),
        sa.Column("row", sa.Integer),
        sa.Column("code", sa.String(64)),
        sa.Column("reasons", sa.Text),
        sa.Column("event_id", sa.String(100)),
    )
    op.create_index("ix_submissions_content", "submissions", ["unit_id", "content_hash"])
    op.create_index("ix_submissions_status", "submissions", ["status", "received_at"])


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("outbox")
    op.drop_table("inbox")
