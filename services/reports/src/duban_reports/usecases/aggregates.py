"""Aggregates the reports service answers, computed in the database (GROUP BY over its own facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_kit.db import Database

from ..adapters import tables as t
from ..adapters.submission_counts import counted
from ..domain.submission_counts import day_span

FAR_FUTURE = datetime.fromisoformat("9999-01-01T00:00:00+00:00")


class Aggregates:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def now(self) -> datetime | None:
        async with self.db.read() as conn:
            return await conn.scalar(select(t.clock.c.now).where(t.clock.c.id == 1))

    async def latest_status(self, conn: AsyncConnection, level: str, as_of: datetime | None) -> list[dict[str, Any]]:
        """Each ref's last published status at `as_of` (window function, no Python scan)."""
        h = t.status_history
        ranked = (
            select(
                h.c.ref,
                h.c.status,
                h.c.completion,
                h.c.expected,
                h.c.actual,
                h.c.occurred_at,
                func.row_number()
                .over(partition_by=h.c.ref, order_by=(h.c.occurred_at.desc(), h.c.revision.desc(), h.c.event_id.desc()))
                .label("rank"),
            )
            .where(h.c.level == level, h.c.occurred_at <= (as_of or FAR_FUTURE))
            .subquery()
        )
        query = select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.ref)
        return [dict(row) for row in (await conn.execute(query)).mappings()]

    async def completion(self, as_of: datetime | None) -> dict[str, Any]:
        async with self.db.read() as conn:
            targets = await self.latest_status(conn, "target", as_of)
            plan = await self.latest_status(conn, "plan", as_of)
        counts: dict[str, int] = {}
        for row in targets:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return {
            "as_of": as_of.isoformat() if as_of else None,
            "targets": [{**r, "occurred_at": r["occurred_at"].isoformat()} for r in targets],
            "by_status": counts,
            "plan": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in plan[0].items()}
            if plan
            else None,
        }

    async def summary(self, as_of: datetime | None) -> dict[str, Any]:
        until = as_of or FAR_FUTURE
        async with self.db.read() as conn:
            by_status = await counted(conn, "received", day_span(None, until), "status")
            submissions = {status: n for status, (n, _name) in by_status.items()}
            progress_events = await conn.scalar(
                select(func.count()).select_from(t.progress_facts).where(t.progress_facts.c.occurred_at <= until)
            )
            incidents = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(t.incident_facts.c.deaths), 0)).where(
                        t.incident_facts.c.occurred_at <= until
                    )
                )
            ).one()
            open_alerts = await conn.scalar(
                select(func.count())
                .select_from(t.alert_facts)
                .where(and_(t.alert_facts.c.opened_at <= until, t.alert_facts.c.state != "resolved"))
            )
        completion = await self.completion(as_of)
        return {
            "as_of": as_of.isoformat() if as_of else None,
            "submissions": submissions,
            "progress_events": int(progress_events or 0),
            "incidents": int(incidents[0]),
            "deaths": int(incidents[1]),
            "open_alerts": int(open_alerts or 0),
            "targets_by_status": completion["by_status"],
            "plan": completion["plan"],
        }
