"""An index on submission_facts.event_id: the report's 数据质量 looks up the flagged reports by event id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_submission_facts_event", "submission_facts", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_submission_facts_event", table_name="submission_facts")
