"""Summaries kept per (target, source) and (target, group), so judging at now reads no history.

Existing facts are summarised here once; from then on the tasks service keeps the summaries in the
transaction that stores each fact.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

#: Per source: report count, the latest cumulative figure (the largest at its instant), the
#: increments after it (all of them without one), the newest increment, the newest report.
SUMMARISE_PROGRESS = """
INSERT INTO progress_sources (
    target_id, source, reports, cumulative_at, cumulative_value, increments, last_increment_at,
    latest_at, latest_event_id, latest_value
)
SELECT
    p.target_id,
    p.source,
    COUNT(*),
    c.at,
    (
        SELECT MAX(v.value) FROM progress v
        WHERE v.target_id = p.target_id AND v.source = p.source AND v.mode = 'cumulative' AND v.occurred_at = c.at
    ),
    COALESCE(SUM(CASE WHEN p.mode = 'increment' AND (c.at IS NULL OR p.occurred_at > c.at) THEN p.value END), 0),
    MAX(CASE WHEN p.mode = 'increment' THEN p.occurred_at END),
    r.occurred_at,
    r.event_id,
    r.value
FROM progress p
LEFT JOIN (
    SELECT target_id, source, MAX(occurred_at) AS at FROM progress WHERE mode = 'cumulative'
    GROUP BY target_id, source
) c ON c.target_id = p.target_id AND c.source = p.source
JOIN (
    SELECT target_id, source, occurred_at, event_id, value,
        ROW_NUMBER() OVER (PARTITION BY target_id, source ORDER BY occurred_at DESC, event_id DESC) AS rank
    FROM progress
) r ON r.target_id = p.target_id AND r.source = p.source AND r.rank = 1
GROUP BY p.target_id, p.source, c.at, r.occurred_at, r.event_id, r.value
"""

SUMMARISE_MEASUREMENTS = """
INSERT INTO measurement_groups (target_id, group_key, occurred_at, event_id, value)
SELECT target_id, group_key, occurred_at, event_id, value FROM (
    SELECT target_id, group_key, occurred_at, event_id, value,
        ROW_NUMBER() OVER (PARTITION BY target_id, group_key ORDER BY occurred_at DESC, event_id DESC) AS rank
    FROM measurements
) ranked
WHERE rank = 1
"""


def upgrade() -> None:
    op.create_table(
        "progress_sources",
        sa.Column("target_id", sa.String(100), primary_key=True),
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("cumulative_at", TS),
        sa.Column("cumulative_value", sa.Float),
        sa.Column("increments", sa.Float, nullable=False),
        sa.Column("last_increment_at", TS),
        sa.Column("latest_at", TS, nullable=False),
        sa.Column("latest_event_id", sa.String(100), nullable=False),
        sa.Column("latest_value", sa.Float, nullable=False),
    )
    op.create_table(
        "measurement_groups",
        sa.Column("target_id", sa.String(100), primary_key=True),
        sa.Column("group_key", sa.String(300), primary_key=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.execute(SUMMARISE_PROGRESS)
    op.execute(SUMMARISE_MEASUREMENTS)


def downgrade() -> None:
    op.drop_table("measurement_groups")
    op.drop_table("progress_sources")
