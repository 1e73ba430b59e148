"""Each alert event's severity at its event time, so a report counts alerts by severity as of its instant

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Alerts kept before this version have no history: reports fall back to their stored severity.
    op.create_table(
        "alert_severities",
        sa.Column("event_id", sa.String(length=100), primary_key=True),
        sa.Column("alert_id", sa.String(length=100), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
    )
    op.create_index("ix_alert_severities_alert", "alert_severities", ["alert_id", "since"])


def downgrade() -> None:
    op.drop_index("ix_alert_severities_alert", table_name="alert_severities")
    op.drop_table("alert_severities")
