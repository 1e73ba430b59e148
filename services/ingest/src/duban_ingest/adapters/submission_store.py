"""Where ingest keeps the submissions it judged: the `SubmissionStore` its intake talks to.

The `submissions` table is ingest's inbox (a submission id is processed once) and its memory of
accepted contents (the same content from the same unit twice is a duplicate). `SqlSubmissionStore`
is the one the service runs, in kit's transaction; unit tests give the intake an in-memory store.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, bindparam, func, literal_column, select, text, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_kit.db import insert_all

from . import tables as t

Row = dict[str, Any]

#: The advisory lock of a unit is `crc32("duban-ingest-unit:<unit id>")`, as `duban_kit.db.serialise` takes it.
UNIT_LOCK_PREFIX = "duban-ingest-unit:"
#: Keys per lookup statement on SQLite (bounds the statement's parameters).
SQLITE_CHUNK = 500
#: The advisory locks of `:keys`, taken one after the other in the order given (the subquery's ORDER BY
#: keeps it from being flattened, so the locks are taken as its rows come out, in that order).
_LOCK_IN_ORDER = text(
    "SELECT pg_advisory_xact_lock(o.k) FROM"
    " (SELECT u.k, u.n FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS u(k, n) ORDER BY u.n) AS o"
)


class SubmissionStore(Protocol):
    """The reads and writes of intake, inside one unit of work."""

    async def statuses(self, submission_ids: Sequence[str]) -> dict[str, str]:
        """The status (accepted, rejected) of each of these submissions already stored."""

    async def lock_units(self, unit_ids: Sequence[str]) -> None:
        """Take these units' turns until the unit of work ends, in the order given."""

    async def accepted_with(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The accepted submission already stored for each (unit id, content fingerprint) of `wanted`;
        should a content have been accepted twice, the lowest id."""

    async def add(self, rows: Sequence[Row]) -> None:
        """Store newly judged submissions."""

    async def status(self, submission_id: str) -> str | None:
        """One stored submission's status, None if it is not stored."""

    async def overwrite(self, submission_id: str, values: Row) -> None:
        """Replace a stored submission's verdict (a retake)."""

    async def rejected(self, limit: int) -> list[Row]:
        """The first `limit` rejected submissions, oldest first: what was sent, by whom, and why not."""

    async def status_and_sequence(self, submission_id: str) -> tuple[str, int | None] | None:
        """A stored submission's status and its sequence in the inbound stream."""


class SqlSubmissionStore:
    """A `SubmissionStore` on ingest's database, in the connection of kit's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def statuses(self, submission_ids: Sequence[str]) -> dict[str, str]:
        s = t.submissions
        rows = await _matching(self.conn, s.c.submission_id, submission_ids, s.c.submission_id, s.c.status)
        return {row[0]: row[1] for row in rows}

    async def lock_units(self, unit_ids: Sequence[str]) -> None:
        """The locks `serialise` takes (`duban-ingest-unit:<unit id>`), all in one statement rather than one
        round trip per unit; SQLite has one writer anyway."""
        if not unit_ids or self.conn.dialect.name != "postgresql":
            return
        keys = [zlib.crc32(f"{UNIT_LOCK_PREFIX}{unit_id}".encode()) for unit_id in unit_ids]
        await self.conn.execute(_LOCK_IN_ORDER, {"keys": keys})

    async def accepted_with(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Looked up by fingerprint on its index, so bounded by the batch and not by how many submissions
        are stored; read after the units are locked, so current. `status` is checked here rather than in
        SQL: a condition on it lets the planner scan the (status, received_at) index instead, that is
        every accepted submission."""
        s = t.submissions
        hashes = [digest for _, digest in wanted]
        found: dict[tuple[str, str], str] = {}
        for row in await _matching(
            self.conn, s.c.content_hash, hashes, s.c.unit_id, s.c.content_hash, s.c.submission_id, s.c.status
        ):
            key, submission_id = (row[0], row[1]), row[2]
            if row[3] == "accepted" and key in wanted and (key not in found or submission_id < found[key]):
                found[key] = submission_id
        return found

    async def add(self, rows: Sequence[Row]) -> None:
        await insert_all(self.conn, t.submissions, rows)

    async def status(self, submission_id: str) -> str | None:
        s = t.submissions
        return await self.conn.scalar(select(s.c.status).where(s.c.submission_id == submission_id))

    async def overwrite(self, submission_id: str, values: Row) -> None:
        s = t.submissions
        await self.conn.execute(update(s).where(s.c.submission_id == submission_id).values(**values))

    async def rejected(self, limit: int) -> list[Row]:
        s = t.submissions
        query = (
            select(
                s.c.submission_id, s.c.kind, s.c.unit_id, s.c.code, s.c.reasons, s.c.received_at, s.c.file_id, s.c.row
            )
            .where(s.c.status == "rejected")
            .order_by(s.c.received_at, s.c.submission_id)
            .limit(limit)
        )
        return [dict(r) for r in (await self.conn.execute(query)).mappings()]

    async def status_and_sequence(self, submission_id: str) -> tuple[str, int | None] | None:
        s = t.submissions
        query = select(s.c.status, s.c.inbound_sequence).where(s.c.submission_id == submission_id)
        row = (await self.conn.execute(query)).first()
        return None if row is None else (row[0], row[1])


async def _matching(
    conn: AsyncConnection, key: ColumnElement[str], values: Sequence[str], *columns: ColumnElement[Any]
) -> list[Any]:
    """`columns` of the rows whose `key` is one of `values`, looked up one value at a time on its index.

    On PostgreSQL one statement probes the index once per value (a LATERAL subquery over the array of
    values, kept from being flattened by its OFFSET): a plain `IN (…)` of a few hundred values is
    planned as a scan of the whole table when the statistics are missing or stale (autovacuum off,
    or a table that grew fast), which makes each batch cost more as history grows.
    """
    values = sorted(set(values))
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        probe = func.unnest(bindparam("values", values, type_=ARRAY(String))).table_valued("value")
        probe = probe.render_derived(name="probe")
        found = select(*columns).where(key == probe.c.value).offset(literal_column("0")).lateral("found")
        return list(await conn.execute(select(found).select_from(probe).join(found, true())))
    rows: list[Any] = []
    for start in range(0, len(values), SQLITE_CHUNK):
        rows.extend(await conn.execute(select(*columns).where(key.in_(values[start : start + SQLITE_CHUNK]))))
    return rows
