"""Submissions counted per local day (occurred and received), so the report reads counts, not every row

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban_reports.adapters.submission_counts import rebuild

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_counts",
        sa.Column("basis", sa.String(length=8), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("status", sa.String(length=16), primary_key=True),
        sa.Column("kind", sa.String(length=32), primary_key=True),
        sa.Column("unit_id", sa.String(length=100), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=True),
    )
    rebuild(op.get_bind())  # the submissions kept before this version, counted


def downgrade() -> None:
    op.drop_table("submission_counts")
