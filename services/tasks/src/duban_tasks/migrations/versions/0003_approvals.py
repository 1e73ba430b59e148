"""销号: each target's sign-off and its audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:05:00
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
        "approvals",
        sa.Column("target_id", sa.String(length=100), primary_key=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approvals")
