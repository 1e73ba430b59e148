"""销号 steps of each target, to show approved figures apart from self-reported ones

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signoffs",
        sa.Column("event_id", sa.String(length=100), primary_key=True),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("self_reported", sa.Float(), nullable=True),
        sa.Column("approved", sa.Float(), nullable=True),
    )
    op.create_index("ix_signoffs_target", "signoffs", ["target_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_signoffs_target", table_name="signoffs")
    op.drop_table("signoffs")
