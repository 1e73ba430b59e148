"""The tasks service's first schema.

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "plans",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("plan_id", sa.String(100), nullable=False),
        sa.Column("section_no", sa.String(8), nullable=False),
        sa.Column("task_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("comparator", sa.String(4), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("due", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "progress",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("submission_id", sa.String(200)),
    )
    op.create_index("ix_progress_target_source", "progress", ["target_id", "source", "mode", "occurred_at"])
    op.create_table(
        "activities",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("activity", sa.Text, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
    )
    op.create_index("ix_activities_target", "activities", ["target_id", "occurred_at"])
    op.create_table(
        "measurements",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("group_key", sa.String(300), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
    )
    op.create_index("ix_measurements_target_group", "measurements", ["target_id", "group_key", "occurred_at"])
    op.create_table(
        "status",
        sa.Column("level", sa.String(16), primary_key=True),
        sa.Column("ref", sa.String(100), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("completion", sa.Float, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("actual", sa.Float),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "clock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("now", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("clock", "status", "measurements", "activities", "progress", "targets", "plans", "outbox", "inbox"):
        op.drop_table(table)
