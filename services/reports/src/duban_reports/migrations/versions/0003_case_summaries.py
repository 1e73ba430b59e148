"""case summaries for the 信访维稳 rates (办结率, 按期办结率, 满意度, 化解率)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_summaries",
        sa.Column("event_id", sa.String(length=100), primary_key=True),
        sa.Column("case_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_case_summaries_case", "case_summaries", ["case_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_case_summaries_case", table_name="case_summaries")
    op.drop_table("case_summaries")
