"""what became of a report's mail: sent, written to a file (no SMTP), or failed

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.drop_column("delivery_detail")
        batch_op.drop_column("delivery")
