"""The alerts service's own tables.

The alert book (alerts, silences, notification log, and the case/activity/observation/status
records rules need) is kept as rows of JSON keyed by table and key, upserted from the book's
`take_writes()`; alerts also carry their state, severity and rule as columns for SQL queries.
`book_version` serialises replicas: each transaction locks and bumps it, and a replica that sees a
version it did not write reloads the book first.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from duban_kit.messaging import inbox_table, outbox_table
from duban_kit.types import UtcDateTime

metadata = MetaData()

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

book_rows = Table(
    "book_rows",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("data", Text, nullable=False),
    Column("state", String(16)),
    Column("severity", String(16)),
    Column("rule", String(64)),
    Index("ix_book_rows_alert_state", "kind", "state"),
)

book_version = Table(
    "book_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("now", UtcDateTime()),
)

#: Notifications planned by the book, committed with the change that caused them (an outbox). `status`:
#: `pending` until the sender has recorded its deliveries, then `dispatched`.
notifications = Table(
    "notifications",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("receiver", String(100), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_notifications_status", "status", "created_at"),
)

#: One row per notification and channel of its receiver: each delivered, retried and given up on by
#: itself. `status`: pending (due at `next_attempt_at`) → sending (claimed until `next_attempt_at`) →
#: sent (a server took it) | written (only an .eml file was written: no SMTP) | failed.
notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("notification_key", String(300), primary_key=True),
    Column("receiver", String(100), primary_key=True),
    Column("channel", String(100), primary_key=True),  # e.g. webhook:3fa9…, email:81c0…
    Column("kind", String(16), nullable=False),  # webhook | email | none
    Column("target", Text, nullable=False),  # the webhook's host or the recipients, for people
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
)
