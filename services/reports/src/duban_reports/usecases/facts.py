"""Use cases of the reports service that keep facts: every consumed event becomes rows in its own tables.

Kit's unit of work applies each batch once (inbox) in one transaction; `FactKeeper`'s appliers hand
the new events to the use cases below (`keep_…`), which decide what rows to keep and write them through
a `FactStore` (SQL in the service, in memory in unit tests). Facts are keyed by the producer's ids,
so an event seen twice never counts twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import (
    ActivityRecorded,
    AlertEvent,
    AlertResolved,
    AlertState,
    AlertUpdated,
    CaseSummarised,
    ClockTicked,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    SubmissionRejected,
    TargetSignedOff,
    TaskStatusChanged,
)
from duban_contracts.subjects import Subjects
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitHooks, UnitOfWork, Units

from ..adapters.fact_store import FactStore, SqlFactStore
from ..domain.submission_counts import count_keys, counted_alike, tallies

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


class FactKeeper(UnitHooks):
    """Keeps the facts of every consumed event; kit's unit of work calls `consumes()` with a batch's new events."""

    def __init__(
        self,
        db: Database,
        inbox: Inbox,
        metrics: ServiceMetrics,
        on_clock: Callable[[datetime], Awaitable[None]] | None = None,
        *,
        outbox: Outbox | None = None,
        subjects: Subjects | None = None,
        store_for: Callable[[AsyncConnection], FactStore] = SqlFactStore,
    ) -> None:
        self.db = db
        #: The store of a unit of work's connection (the database's; in unit tests, one in memory).
        self.store_for = store_for
        self.on_clock = on_clock
        # The clock is committed at or after this (it never goes back): no statement to advance it to less.
        self._clock_floor: datetime | None = None
        self.units = Units(
            "reports",
            self.consumes(),
            db=db,
            inbox=inbox,
            outbox=outbox,
            subjects=subjects,
            metrics=metrics,
            hooks=self,
            settled={"clock.ticked": self._ticked},
        )
        # In-process entry points (tests, benchmarks): a batch through the whole unit of work.
        self.progress = self.units.batch("progress.recorded")
        self.incidents = self.units.batch("incident.reported")
        self.statuses = self.units.batch("task.status_changed")
        self.case_summaries = self.units.batch("case.summarised")
        self.signoffs = self.units.batch("target.signed_off")

    def consumes(self) -> dict[str, Apply]:
        return {
            "progress.recorded": self.progress_recorded,
            "incident.reported": self.incident_reported,
            "measurement.recorded": self.measurement_recorded,
            "activity.recorded": self.activity_recorded,
            "submission.rejected": self.submission_rejected,
            "task.status_changed": self.task_status_changed,
            "alert.raised": self.alert_changed,
            "alert.updated": self.alert_changed,
            "alert.resolved": self.alert_changed,
            "case.summarised": self.case_summarised,
            "target.signed_off": self.target_signed_off,
            "clock.ticked": self.clock_ticked,
        }

    async def alerts(self, events: Sequence[AlertEvent]) -> list[None]:
        """In-process: a batch of alert events of one type through the whole unit of work."""
        if events:
            await self.units.run(events[0].event_type, events)
        return [None] * len(events)

    # --- the unit of work's hooks: the clock row, shared by every consumer, is written last ---

    async def closing(self, uow: UnitOfWork) -> None:
        latest = uow.latest
        if latest is not None:
            # Last, so that the clock row (shared by every consumer) stays locked only until commit.
            await self._advance_clock(uow.conn, latest)

    def committed(self, uow: UnitOfWork) -> None:
        latest = uow.latest
        if latest is not None:
            self._clock_floor = latest if self._clock_floor is None else max(self._clock_floor, latest)

    async def _ticked(self, events: Sequence[ClockTicked]) -> None:
        """After every batch of ticks, redelivered ones too (what fell due is recorded idempotently)."""
        if self.on_clock is not None and events:
            await self.on_clock(max(e.occurred_at for e in events))

    # --- appliers: each hands its batch to a use case below, with the store of this unit of work ---

    async def progress_recorded(self, uow: UnitOfWork, events: Sequence[ProgressRecorded]) -> None:
        await keep_progress(self.store_for(uow.conn), events)

    async def incident_reported(self, uow: UnitOfWork, events: Sequence[IncidentReported]) -> None:
        await keep_incidents(self.store_for(uow.conn), events)

    async def activity_recorded(self, uow: UnitOfWork, events: Sequence[ActivityRecorded]) -> None:
        await keep_activities(self.store_for(uow.conn), events)

    async def measurement_recorded(self, uow: UnitOfWork, events: Sequence[MeasurementRecorded]) -> None:
        await keep_measurements(self.store_for(uow.conn), events)

    async def submission_rejected(self, uow: UnitOfWork, events: Sequence[SubmissionRejected]) -> None:
        await keep_rejections(self.store_for(uow.conn), events)

    async def task_status_changed(self, uow: UnitOfWork, events: Sequence[TaskStatusChanged]) -> None:
        await keep_statuses(self.store_for(uow.conn), events)

    async def case_summarised(self, uow: UnitOfWork, events: Sequence[CaseSummarised]) -> None:
        await keep_case_summaries(self.store_for(uow.conn), events)

    async def target_signed_off(self, uow: UnitOfWork, events: Sequence[TargetSignedOff]) -> None:
        await keep_signoffs(self.store_for(uow.conn), events)

    async def alert_changed(self, uow: UnitOfWork, events: Sequence[AlertEvent]) -> None:
        await keep_alerts(self.store_for(uow.conn), events)

    async def clock_ticked(self, uow: UnitOfWork, events: Sequence[ClockTicked]) -> None:
        """A tick only moves the clock (`closing`); what fell due is scheduled once it committed."""

    async def _advance_clock(self, conn: AsyncConnection, candidate: datetime) -> None:
        """Move the event-time clock forward to `candidate` (never back).

        The row is only written, and so only locked, when the clock moves: most batches of events
        older than the clock cost no statement at all.
        """
        if self._clock_floor is not None and candidate <= self._clock_floor:
            return
        await self.store_for(conn).advance_clock(candidate)


# --- the use cases: what rows a batch of new events keeps -------------------------------------


async def keep_progress(store: FactStore, events: Sequence[ProgressRecorded]) -> None:
    await store.add(
        "progress_facts",
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
            for e in events
        ],
    )
    await keep_submissions(store, [_submission_row(e, "progress") for e in events])


async def keep_incidents(store: FactStore, events: Sequence[IncidentReported]) -> None:
    await store.add(
        "incident_facts",
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
            for e in events
        ],
    )
    await keep_submissions(store, [_submission_row(e, "incident") for e in events])


async def keep_activities(store: FactStore, events: Sequence[ActivityRecorded]) -> None:
    await store.add(
        "activity_facts",
        [
            {
                "event_id": e.event_id,
                "target_id": e.target_id,
                "unit_id": e.unit.id,
                "activity": e.activity,
                "occurred_at": e.occurred_at,
            }
            for e in events
        ],
    )
    await keep_submissions(store, [_submission_row(e, "activity") for e in events])


async def keep_measurements(store: FactStore, events: Sequence[MeasurementRecorded]) -> None:
    """A measurement's value is the tasks service's fact; reports keep only that it was submitted."""
    await keep_submissions(store, [_submission_row(e, "measurement") for e in events])


async def keep_rejections(store: FactStore, events: Sequence[SubmissionRejected]) -> None:
    await keep_submissions(
        store,
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
            for e in events
        ],
    )


async def keep_statuses(store: FactStore, events: Sequence[TaskStatusChanged]) -> None:
    await store.add(
        "status_history",
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
            for e in events
        ],
    )


async def keep_case_summaries(store: FactStore, events: Sequence[CaseSummarised]) -> None:
    rows = [
        {
            "event_id": e.event_id,
            "case_id": e.case_id,
            "occurred_at": e.occurred_at,
            "actions": e.actions,
            "data": e.model_dump_json(),
        }
        for e in events
    ]
    await store.add("case_summaries", rows)


async def keep_signoffs(store: FactStore, events: Sequence[TargetSignedOff]) -> None:
    rows = [
        {
            "event_id": e.event_id,
            "target_id": e.target_id,
            "occurred_at": e.occurred_at,
            "steps": e.steps,
            "state": e.state,
            "self_reported": e.self_reported,
            "approved": e.approved,
        }
        for e in events
    ]
    await store.add("signoffs", rows)


async def keep_submissions(store: FactStore, rows: Rows) -> None:
    """One row per submission; a later verdict (a replayed rejection accepted) replaces an earlier one.

    A verdict for a stored submission overwrites its columns except the ones it leaves empty (`code`
    is always overwritten); a new submission seen twice in a batch is stored as its last verdict.
    The batch's stored rows are read at once, folded in memory and written at once; new submissions
    are added to their day counts, and the counts a new verdict moved a submission between recounted.
    """
    if not rows:
        return
    existing = await store.submissions(list(dict.fromkeys(r["submission_id"] for r in rows)))
    new_rows: dict[str, dict[str, Any]] = {}
    updated: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["submission_id"]
        if key in existing:
            merged = updated.setdefault(key, dict(existing[key]))
            merged.update({k: v for k, v in row.items() if k != "submission_id" and (v is not None or k == "code")})
        else:
            new_rows[key] = row
    await store.save_submissions(list(updated.values()), list(new_rows.values()))
    await store.count_submissions(tallies(new_rows.values()))
    moved = [(existing[key], row) for key, row in updated.items() if not counted_alike(existing[key], row)]
    await store.recount_submissions({key for rows_of in moved for row in rows_of for key in count_keys(row)})


async def keep_alerts(store: FactStore, events: Sequence[AlertEvent]) -> None:
    """Read the batch's alert rows at once, fold the events in memory, write them at once; and keep each
    event's severity at its event time (a report's severities are as of its instant)."""
    current = await store.alerts(list(dict.fromkeys(e.alert_id for e in events)))
    rows = fold_alert_events(current, events)
    await store.save_alerts(
        [row for alert_id, row in rows.items() if alert_id in current],
        [row for alert_id, row in rows.items() if alert_id not in current],
    )
    severities = [
        {"event_id": e.event_id, "alert_id": e.alert_id, "since": e.occurred_at, "severity": e.severity.value}
        for e in events
    ]
    await store.add("alert_severities", severities)


def alert_fact_values(event: AlertEvent) -> dict[str, Any]:
    """The columns of `alert_facts` an alert event sets (all but `alert_id` and `opened_at`)."""
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
    return values


def fold_alert_events(
    current: Mapping[str, Mapping[str, Any]], events: Sequence[AlertEvent]
) -> dict[str, dict[str, Any]]:
    """The `alert_facts` rows `events` change, given the stored rows `current` (by alert id; not modified).

    Events apply in (occurred_at, event_id) order, one at a time, as if each were written alone: the
    first event of an unknown alert opens its row; an event at or after the row's `last_event_at`
    overwrites it; an older update or resolution arriving late records only when the alert was
    acknowledged or resolved; an older raise changes nothing.
    """
    rows: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        alert_id = event.alert_id
        row = rows.get(alert_id)
        if row is None and alert_id in current:
            row = dict(current[alert_id])
        values = alert_fact_values(event)
        if row is None:
            row = {
                "alert_id": alert_id,
                "opened_at": event.first_seen,
                "acknowledged_at": None,
                "resolved_at": None,
                **values,
            }
        elif event.occurred_at >= row["last_event_at"]:
            row.update(values)
        elif isinstance(event, AlertUpdated | AlertResolved):
            # An older update arriving late still records when it was acknowledged or resolved.
            late: dict[str, Any] = {k: values[k] for k in ("acknowledged_at", "resolved_at") if k in values}
            if not late:
                continue
            row.update(late)
        else:
            continue
        rows[alert_id] = row
    return rows
