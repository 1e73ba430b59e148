"""The tasks service's own tables (SQLAlchemy Core; migrations in `duban_tasks/migrations`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

from duban_kit.messaging import inbox_table, outbox_table
from duban_kit.types import UtcDateTime

metadata = MetaData()

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

plans = Table(
    "plans",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("title", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("definition", Text, nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
)

targets = Table(
    "targets",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("plan_id", String(100), nullable=False),
    Column("section_no", String(8), nullable=False),
    Column("task_no", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("metric", Text, nullable=False),
    Column("comparator", String(4), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("due", String(10), nullable=False),
    Column("text", Text, nullable=False),
)

progress = Table(
    "progress",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100), nullable=False),
    Column("source", String(100), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("value", Float, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("submission_id", String(200)),
    Index("ix_progress_target_source", "target_id", "source", "mode", "occurred_at"),
)

activities = Table(
    "activities",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100), nullable=False),
    Column("source", String(100), nullable=False),
    Column("activity", Text, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Index("ix_activities_target", "target_id", "occurred_at"),
)

measurements = Table(
    "measurements",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100), nullable=False),
    Column("group_key", String(300), nullable=False),
    Column("value", Float, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Index("ix_measurements_target_group", "target_id", "group_key", "occurred_at"),
)

#: Per (target, source): what its progress reports add up to (`domain.progress.SourceSummary`),
#: kept in the transaction that stores them, so judging at the service's now reads no history.
progress_sources = Table(
    "progress_sources",
    metadata,
    Column("target_id", String(100), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("reports", Integer, nullable=False),
    Column("cumulative_at", UtcDateTime()),
    Column("cumulative_value", Float),
    Column("increments", Float, nullable=False),
    Column("last_increment_at", UtcDateTime()),
    Column("latest_at", UtcDateTime(), nullable=False),
    Column("latest_event_id", String(100), nullable=False),
    Column("latest_value", Float, nullable=False),
)

#: Per (target, group): the latest measurement, kept like `progress_sources`.
measurement_groups = Table(
    "measurement_groups",
    metadata,
    Column("target_id", String(100), primary_key=True),
    Column("group_key", String(300), primary_key=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("value", Float, nullable=False),
)

status = Table(
    "status",
    metadata,
    Column("level", String(16), primary_key=True),
    Column("ref", String(100), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("completion", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("actual", Float),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("revision", Integer, nullable=False, server_default="0"),
)

clock = Table(
    "clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("now", UtcDateTime(), nullable=False),
    #: Bumped by every writer's transaction: an in-memory copy of `status` made at generation g is
    #: current for the writer that next finds g + 1 (no other writer committed in between).
    Column("generation", BigInteger, nullable=False, server_default="0"),
)


#: 销号: each target's sign-off (state, figures and audit trail) as JSON, one row per target.
approvals = Table(
    "approvals",
    metadata,
    Column("target_id", String(100), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("data", Text, nullable=False),
)
