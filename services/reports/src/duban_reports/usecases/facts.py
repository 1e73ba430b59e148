"""Use cases of the reports service that keep facts: every consumed event becomes rows in its own tables.

Each batch is applied once (inbox) in one transaction. Facts are keyed by the producer's ids, so an
event seen twice never counts twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import (
    ActivityRecorded,
    AlertEvent,
    AlertResolved,
    AlertState,
    AlertUpdated,
    ClockTicked,
    Event,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    SubmissionRejected,
    TaskStatusChanged,
)
from duban_kit.db import Database
from duban_kit.messaging import Inbox
from duban_kit.metrics import ServiceMetrics

from ..adapters import tables as t

Rows = list[dict[str, Any]]


def _submission_row(
    event: ProgressRecorded | IncidentReported | MeasurementRecorded | ActivityRecorded, kind: str
) -> dict[str, Any]:
    return {
        "submission_id": event.submission_id or event.event_id,
        "event_id": event.event_id,
        "unit_id": event.unit.id,
        "unit_name": event.unit.name,
        "township": event.unit.township,
        "kind": kind,
        "status": "accepted",
        "code": None,
        "occurred_at": event.occurred_at,
        "received_at": event.recorded_at,
    }


class FactKeeper:
    def __init__(
        self, db: Database, inbox: Inbox, metrics: ServiceMetrics, on_clock: Callable[[datetime], Any] | None = None
    ) -> None:
        self.db = db
        self.inbox = inbox
        self.metrics = metrics
        self.on_clock = on_clock

    async def _keep(
        self, consumer: str, events: Sequence[Event], write: Callable[[AsyncConnection, list[Any]], Any]
    ) -> list[None]:
        async with self.db.begin() as conn:
            fresh_ids = await self.inbox.unseen(conn, [e.event_id for e in events])
            fresh = list({e.event_id: e for e in events if e.event_id in fresh_ids}.values())
            if fresh:
                await write(conn, fresh)
                await self._advance_clock(conn, max(e.occurred_at for e in fresh))
                await self.inbox.mark(conn, consumer, fresh_ids)
        if fresh:
            self.metrics.saw_event_time(max(e.occurred_at for e in fresh).timestamp())
        return [None] * len(events)

    async def progress(self, events: Sequence[ProgressRecorded]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[ProgressRecorded]) -> None:
            await _insert(
                conn,
                t.progress_facts,
                [
                    {
                        "event_id": e.event_id,
                        "target_id": e.target_id,
                        "unit_id": e.unit.id,
                        "township": e.unit.township,
                        "mode": e.mode.value,
                        "value": e.value,
                        "occurred_at": e.occurred_at,
                        "recorded_at": e.recorded_at,
                    }
                    for e in fresh
                ],
            )
            await _upsert_submissions(conn, [_submission_row(e, "progress") for e in fresh])

        return await self._keep("reports-progress-recorded", events, write)

    async def incidents(self, events: Sequence[IncidentReported]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[IncidentReported]) -> None:
            await _insert(
                conn,
                t.incident_facts,
                [
                    {
                        "event_id": e.event_id,
                        "unit_id": e.unit.id,
                        "unit_name": e.unit.name,
                        "township": e.unit.township,
                        "category": e.category.value,
                        "disease": e.disease,
                        "grade": e.grade.value if e.grade else None,
                        "cases": e.cases,
                        "deaths": e.deaths,
                        "injuries": e.injuries,
                        "class_name": e.class_name,
                        "occurred_at": e.occurred_at,
                        "reported_at": e.reported_at,
                    }
                    for e in fresh
                ],
            )
            await _upsert_submissions(conn, [_submission_row(e, "incident") for e in fresh])

        return await self._keep("reports-incident-reported", events, write)

    async def activities(self, events: Sequence[ActivityRecorded]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[ActivityRecorded]) -> None:
            await _insert(
                conn,
                t.activity_facts,
                [
                    {
                        "event_id": e.event_id,
                        "target_id": e.target_id,
                        "unit_id": e.unit.id,
                        "activity": e.activity,
                        "occurred_at": e.occurred_at,
                    }
                    for e in fresh
                ],
            )
            await _upsert_submissions(conn, [_submission_row(e, "activity") for e in fresh])

        return await self._keep("reports-activity-recorded", events, write)

    async def measurements(self, events: Sequence[MeasurementRecorded]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[MeasurementRecorded]) -> None:
            await _upsert_submissions(conn, [_submission_row(e, "measurement") for e in fresh])

        return await self._keep("reports-measurement-recorded", events, write)

    async def rejections(self, events: Sequence[SubmissionRejected]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[SubmissionRejected]) -> None:
            await _upsert_submissions(
                conn,
                [
                    {
                        "submission_id": e.submission_id or e.event_id,
                        "event_id": e.event_id,
                        "unit_id": e.unit_id,
                        "unit_name": None,
                        "township": None,
                        "kind": e.kind,
                        "status": "rejected",
                        "code": e.code,
                        "occurred_at": e.occurred_at,
                        "received_at": e.occurred_at,
                    }
                    for e in fresh
                ],
            )

        return await self._keep("reports-submission-rejected", events, write)

    async def statuses(self, events: Sequence[TaskStatusChanged]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[TaskStatusChanged]) -> None:
            await _insert(
                conn,
                t.status_history,
                [
                    {
                        "event_id": e.event_id,
                        "level": e.level,
                        "ref": e.ref,
                        "status": e.status.value,
                        "completion": e.completion,
                        "expected": e.expected,
                        "actual": e.actual,
                        "occurred_at": e.occurred_at,
                        "revision": e.revision,
                    }
                    for e in fresh
                ],
            )

        return await self._keep("reports-task-status-changed", events, write)

    async def alerts(self, events: Sequence[AlertEvent]) -> list[None]:
        async def write(conn: AsyncConnection, fresh: list[AlertEvent]) -> None:
            for event in sorted(fresh, key=lambda e: (e.occurred_at, e.event_id)):
                await _apply_alert(conn, event)

        return await self._keep(
            f"reports-{events[0].event_type.replace('.', '-')}" if events else "reports-alerts", events, write
        )

    async def ticks(self, events: Sequence[ClockTicked]) -> list[None]:
        async def write(_conn: AsyncConnection, _fresh: list[ClockTicked]) -> None:
            return None

        result = await self._keep("reports-clock-ticked", events, write)
        if self.on_clock is not None and events:
            await self.on_clock(max(e.occurred_at for e in events))
        return result

    async def _advance_clock(self, conn: AsyncConnection, candidate: datetime) -> None:
        current = await conn.scalar(select(t.clock.c.now).where(t.clock.c.id == 1))
        if current is None:
            await conn.execute(insert(t.clock).values(id=1, now=candidate))
        elif candidate > current:
            await conn.execute(update(t.clock).where(t.clock.c.id == 1).values(now=candidate))


async def _insert(conn: AsyncConnection, table: Table, rows: Rows) -> None:
    if rows:
        await conn.execute(insert(table), rows)


async def _upsert_submissions(conn: AsyncConnection, rows: Rows) -> None:
    """One row per submission; a later verdict (a replayed rejection accepted) replaces an earlier one."""
    if not rows:
        return
    s = t.submission_facts
    ids = [r["submission_id"] for r in rows]
    existing = {r[0] for r in await conn.execute(select(s.c.submission_id).where(s.c.submission_id.in_(ids)))}
    new_rows: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["submission_id"] in existing:
            values = {k: v for k, v in row.items() if k != "submission_id" and (v is not None or k == "code")}
            await conn.execute(update(s).where(s.c.submission_id == row["submission_id"]).values(**values))
        else:
            new_rows[row["submission_id"]] = row
    await _insert(conn, s, list(new_rows.values()))


async def _apply_alert(conn: AsyncConnection, event: AlertEvent) -> None:
    a = t.alert_facts
    current = (await conn.execute(select(a.c.last_event_at).where(a.c.alert_id == event.alert_id))).first()
    values: dict[str, Any] = {
        "rule": event.rule,
        "severity": event.severity.value,
        "state": event.state.value,
        "title": event.title_zh,
        "summary": event.summary_zh,
        "labels": json.dumps(event.labels, ensure_ascii=False, sort_keys=True),
        "unit_id": event.labels.get("unit"),
        "count": event.count,
        "escalation_level": event.escalation_level,
        "last_event_at": event.occurred_at,
    }
    if isinstance(event, AlertUpdated) and event.state is AlertState.ACKNOWLEDGED:
        values["acknowledged_at"] = event.occurred_at
    if isinstance(event, AlertResolved):
        values["resolved_at"] = event.occurred_at
    if current is None:
        await conn.execute(insert(a).values(alert_id=event.alert_id, opened_at=event.first_seen, **values))
    elif event.occurred_at >= current[0]:
        await conn.execute(update(a).where(a.c.alert_id == event.alert_id).values(**values))
    elif isinstance(event, AlertUpdated | AlertResolved):
        # An older update arriving late still records when it was acknowledged or resolved.
        late = {k: values[k] for k in ("acknowledged_at", "resolved_at") if k in values}
        if late:
            await conn.execute(update(a).where(a.c.alert_id == event.alert_id).values(**late))
