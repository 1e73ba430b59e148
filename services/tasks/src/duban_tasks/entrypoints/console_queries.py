"""`tasks.console`: what the web console asks of tasks beyond `tasks.query` — a target's history.

Read-only: the progress reports counted towards a target, newest first, and per reporting unit what
its reports add up to (the `progress_sources` summary kept with them), so a section head sees why a
target is red and who has or has not reported.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from duban_contracts.rpc import ConsoleQuery, Failure
from duban_kit.service import ServiceRuntime

from ..adapters import tables as t
from ..usecases.tracking import Tracker


def register(runtime: ServiceRuntime, tracker: Tracker) -> None:
    @runtime.rpc("console")
    async def on_console(query: ConsoleQuery) -> dict[str, Any] | Failure:
        if query.what != "target_history" or not query.ref:
            return Failure(
                error="unsupported", message=f"tasks.console answers target_history with a ref, not {query.what!r}"
            )
        if query.ref not in {target.id for _, _, target in _targets(tracker)}:
            return Failure(error="unknown_ref", message=f"no target {query.ref!r}")
        return await target_history(tracker, query.ref, query.limit)


def _targets(tracker: Tracker) -> list[Any]:
    return [(section, task, target) for section, task in tracker.plan.tasks() for target in task.targets]


async def target_history(tracker: Tracker, target_id: str, limit: int) -> dict[str, Any]:
    p, s, a = t.progress, t.progress_sources, t.activities
    async with tracker.db.read() as conn:
        reports = (
            await conn.execute(
                select(p.c.event_id, p.c.source, p.c.mode, p.c.value, p.c.occurred_at, p.c.submission_id)
                .where(p.c.target_id == target_id)
                .order_by(p.c.occurred_at.desc(), p.c.event_id)
                .limit(limit)
            )
        ).mappings()
        history = [{**row, "occurred_at": row["occurred_at"].isoformat()} for row in reports]
        sources = (
            await conn.execute(
                select(s.c.source, s.c.reports, s.c.increments, s.c.cumulative_value, s.c.latest_at, s.c.latest_value)
                .where(s.c.target_id == target_id)
                .order_by(s.c.source)
            )
        ).mappings()
        units = [{**row, "latest_at": row["latest_at"].isoformat()} for row in sources]
        done = (
            await conn.execute(
                select(a.c.source, a.c.activity, a.c.occurred_at)
                .where(a.c.target_id == target_id)
                .order_by(a.c.occurred_at.desc())
                .limit(limit)
            )
        ).mappings()
        activities = [{**row, "occurred_at": row["occurred_at"].isoformat()} for row in done]
    return {"target_id": target_id, "progress": history, "units": units, "activities": activities}
