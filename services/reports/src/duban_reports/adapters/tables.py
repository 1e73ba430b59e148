"""The reports service's own tables: facts it keeps from the events it consumes, and what it produced.

Aggregates are computed from these with GROUP BY in the database, never by loading events into Python.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, Index, Integer, MetaData, String, Table, Text

from duban_kit.messaging import inbox_table, outbox_table
from duban_kit.types import UtcDateTime

metadata = MetaData()

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

progress_facts = Table(
    "progress_facts",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100), nullable=False),
    Column("unit_id", String(100), nullable=False),
    Column("township", String(100)),
    Column("mode", String(16), nullable=False),
    Column("value", Float, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_progress_facts_target", "target_id", "occurred_at"),
    Index("ix_progress_facts_unit", "unit_id", "occurred_at"),
)

#: Every submission's fate, for reporting completeness and timeliness (DHIS2's reporting rates).
submission_facts = Table(
    "submission_facts",
    metadata,
    Column("submission_id", String(200), primary_key=True),
    Column("event_id", String(100), nullable=False),
    Column("unit_id", String(100)),
    Column("unit_name", Text),
    Column("township", String(100)),
    Column("kind", String(32)),
    Column("status", String(16), nullable=False),  # accepted | rejected
    Column("code", String(64)),
    Column("occurred_at", UtcDateTime(), nullable=False),  # the period the report is about
    Column("received_at", UtcDateTime(), nullable=False),  # when it arrived
    Index("ix_submission_facts_unit", "unit_id", "occurred_at"),
    Index("ix_submission_facts_received", "received_at"),
    Index("ix_submission_facts_event", "event_id"),
)

#: `submission_facts` counted per local day it is about and per local day it arrived
#: (`domain.submission_counts`): kept beside the rows in the same transaction, read by the report.
submission_counts = Table(
    "submission_counts",
    metadata,
    Column("basis", String(8), primary_key=True),  # occurred | received
    Column("day", Date, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("unit_id", String(100), primary_key=True),
    Column("month", Date, nullable=False),  # the first of `day`'s month
    Column("count", Integer, nullable=False),
    Column("first_received", UtcDateTime(), nullable=False),
    Column("unit_name", Text),
)

incident_facts = Table(
    "incident_facts",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("unit_id", String(100), nullable=False),
    Column("unit_name", Text, nullable=False),
    Column("township", String(100)),
    Column("category", String(32), nullable=False),
    Column("disease", String(64)),
    Column("grade", String(4)),
    Column("cases", Integer, nullable=False),
    Column("deaths", Integer, nullable=False),
    Column("injuries", Integer, nullable=False),
    Column("class_name", Text),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("reported_at", UtcDateTime(), nullable=False),
    Index("ix_incident_facts_time", "occurred_at"),
)

status_history = Table(
    "status_history",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("ref", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("completion", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("actual", Float),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("revision", Integer, nullable=False, server_default="0"),
    Index("ix_status_history_ref", "level", "ref", "occurred_at"),
)

alert_facts = Table(
    "alert_facts",
    metadata,
    Column("alert_id", String(100), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("labels", Text, nullable=False),
    Column("unit_id", String(100)),
    Column("count", Integer, nullable=False),
    Column("escalation_level", Integer, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime()),
    Column("resolved_at", UtcDateTime()),
    Column("last_event_at", UtcDateTime(), nullable=False),
    Index("ix_alert_facts_opened", "opened_at"),
)

#: Every alert event's severity at its event time: a report counts alerts by their severity as of
#: its instant, not as an event after it (a deadline's stage advancing at the report's tick) left it.
alert_severities = Table(
    "alert_severities",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("alert_id", String(100), nullable=False),
    Column("since", UtcDateTime(), nullable=False),
    Column("severity", String(16), nullable=False),
    Index("ix_alert_severities_alert", "alert_id", "since"),
)

activity_facts = Table(
    "activity_facts",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100)),
    Column("unit_id", String(100), nullable=False),
    Column("activity", Text, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
)

#: Every `case.summarised` (a case after each action, as alerts' clock reads it): the latest at or
#: before a report's instant (then the one folding most actions) is the case as the rates count it then.
case_summaries = Table(
    "case_summaries",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("case_id", String(100), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actions", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_case_summaries_case", "case_id", "occurred_at"),
)

#: Every `target.signed_off` (销号 steps): the latest at or before a report's instant is the target's sign-off.
signoffs = Table(
    "signoffs",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("target_id", String(100), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("steps", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("self_reported", Float),
    Column("approved", Float),
    Index("ix_signoffs_target", "target_id", "occurred_at"),
)

#: Reports due or asked for, and what became of them: scheduled on the event-time clock in the same
#: transaction that advances it, rendered by a worker, marked done with the files it wrote.
report_jobs = Table(
    "report_jobs",
    metadata,
    Column("report_id", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("period", String(40), nullable=False),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("formats", String(40), nullable=False),
    Column("deliver", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending | running | done | failed
    Column("claimed_at", UtcDateTime()),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("files", Text),
    Column("scheduled_at", UtcDateTime(), nullable=False),
    Column("delivery", String(16)),  # sent | written (an .eml file only: no SMTP) | failed; null: not mailed
    Column("delivery_detail", Text),  # the server, the file, or the error
    Index("ix_report_jobs_status", "status", "scheduled_at"),
)

clock = Table(
    "clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("now", UtcDateTime(), nullable=False),
    Column("schedule_evaluated_at", UtcDateTime()),
)
