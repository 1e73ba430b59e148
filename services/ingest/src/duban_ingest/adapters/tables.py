"""The ingest service's own tables."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from duban_kit.messaging import inbox_table, outbox_table
from duban_kit.types import UtcDateTime

metadata = MetaData()

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

#: One row per inbound submission: its outcome, where its raw form sits in the inbound stream, and
#: the fingerprint of its content (for "the same content from the same source twice"). The raw
#: submission itself is not copied here: it may hold personal data and stays in the inbound stream.
submissions = Table(
    "submissions",
    metadata,
    Column("submission_id", String(200), primary_key=True),
    Column("status", String(16), nullable=False),  # accepted | rejected
    Column("kind", String(32)),
    Column("unit_id", String(100)),
    Column("content_hash", String(64)),
    Column("inbound_sequence", Integer),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("file_id", String(64)),
    Column("row", Integer),
    Column("code", String(64)),
    Column("reasons", Text),  # JSON list of problems, for `duban ingest rejected`
    Column("event_id", String(100)),
    Index("ix_submissions_content_hash", "content_hash"),
    Index("ix_submissions_status", "status", "received_at"),
)
