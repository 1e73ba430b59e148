"""Where the reports service keeps its facts: the `FactStore` its fact-keeping use cases talk to.

The use cases (`usecases/facts.py`) decide what rows to keep; a store only reads and writes them.
`SqlFactStore` is the one the service runs, in kit's transaction; unit tests give the use cases an
in-memory store instead, so the rules of fact keeping are tested without a database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Select, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_kit.db import insert_all, insert_missing, one_of, upsert

from ..domain.submission_counts import CountKey, Tally
from . import submission_counts
from . import tables as t

Row = dict[str, Any]

#: The tables that only grow: one row per event, keyed by its id.
AppendOnly = Literal[
    "progress_facts",
    "incident_facts",
    "activity_facts",
    "status_history",
    "case_summaries",
    "signoffs",
    "alert_severities",
]

_APPEND_ONLY: dict[str, Table] = {
    "progress_facts": t.progress_facts,
    "incident_facts": t.incident_facts,
    "activity_facts": t.activity_facts,
    "status_history": t.status_history,
    "case_summaries": t.case_summaries,
    "signoffs": t.signoffs,
    "alert_severities": t.alert_severities,
}


class FactStore(Protocol):
    """The reads and writes of fact keeping, inside one unit of work."""

    async def add(self, table: AppendOnly, rows: Sequence[Row]) -> None:
        """Store new rows of a table that only grows."""

    async def submissions(self, submission_ids: Sequence[str]) -> dict[str, Row]:
        """The stored rows of these submissions, by id, held until the unit of work ends."""

    async def save_submissions(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        """Overwrite stored submissions with `changed`; store `new` ones."""

    async def count_submissions(self, counted: Mapping[CountKey, Tally]) -> None:
        """Add new submissions to their day counts."""

    async def recount_submissions(self, keys: Collection[CountKey]) -> None:
        """Set these day counts to what the stored submissions give now."""

    async def alerts(self, alert_ids: Sequence[str]) -> dict[str, Row]:
        """The stored rows of these alerts, by id, held until the unit of work ends."""

    async def save_alerts(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        """Overwrite stored alerts with `changed`; store `new` ones."""

    async def advance_clock(self, candidate: datetime) -> None:
        """Move the event-time clock forward to `candidate`; never back."""


class SqlFactStore:
    """A `FactStore` on the service's database, in the connection of kit's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, table: AppendOnly, rows: Sequence[Row]) -> None:
        await self._insert(_APPEND_ONLY[table], rows)

    async def submissions(self, submission_ids: Sequence[str]) -> dict[str, Row]:
        s = t.submission_facts
        chosen = one_of(self.conn, s.c.submission_id, submission_ids)
        query = select(*s.c).where(chosen).order_by(s.c.submission_id)  # one lock order
        return {row["submission_id"]: dict(row) for row in (await self.conn.execute(self._locked(query))).mappings()}

    async def save_submissions(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        await upsert(self.conn, t.submission_facts, list(changed), keys=("submission_id",))
        await self._insert(t.submission_facts, new)

    async def count_submissions(self, counted: Mapping[CountKey, Tally]) -> None:
        await submission_counts.add_counts(self.conn, counted)

    async def recount_submissions(self, keys: Collection[CountKey]) -> None:
        await submission_counts.recount(self.conn, keys)

    async def alerts(self, alert_ids: Sequence[str]) -> dict[str, Row]:
        a = t.alert_facts
        query = select(*a.c).where(one_of(self.conn, a.c.alert_id, alert_ids)).order_by(a.c.alert_id)  # one lock order
        return {row["alert_id"]: dict(row) for row in (await self.conn.execute(self._locked(query))).mappings()}

    async def save_alerts(self, changed: Sequence[Row], new: Sequence[Row]) -> None:
        await upsert(self.conn, t.alert_facts, list(changed), keys=("alert_id",))
        await self._insert(t.alert_facts, new)

    async def advance_clock(self, candidate: datetime) -> None:
        c = t.clock
        moved = await self.conn.execute(update(c).where(c.c.id == 1, c.c.now < candidate).values(now=candidate))
        if moved.rowcount == 0:  # no clock yet, or it is already at or after `candidate`
            await insert_missing(self.conn, c, [{"id": 1, "now": candidate}], keys=("id",))

    async def _insert(self, table: Table, rows: Sequence[Row]) -> None:
        await insert_all(self.conn, table, rows)

    def _locked(self, query: Select[Any]) -> Select[Any]:
        """Lock the rows read for a read-fold-write (PostgreSQL; SQLite has one writer anyway)."""
        return query.with_for_update() if self.conn.dialect.name == "postgresql" else query
