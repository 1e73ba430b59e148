"""Use cases of the alerts service: apply facts and ticks to the alert book, operate it, persist it.

The book lives in memory and in the database. Every change runs under one lock and in one
transaction: apply to the book, save the rows it changed, stage the alert events (outbox) and the
notifications it planned, mark the inbox, bump the book's version. If anything fails the in-memory
book is dropped and reloaded, so it never runs ahead of what is committed. Replicas take turns on the
version row and reload when another replica wrote last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from prometheus_client import Gauge
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.casework import step_of
from duban_contracts.events import (
    ActivityRecorded,
    CaseRecorded,
    CaseSummarised,
    ClockTicked,
    Event,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    TaskStatusChanged,
)
from duban_contracts.subjects import Subjects
from duban_kit.db import Database, insert_missing, upsert
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitHooks, UnitOfWork, Units

from ..adapters import tables as t
from ..adapters.case_summaries import case_summarised
from ..adapters.reported import reported_measurement, reported_progress
from ..adapters.translate import activity_fact, alert_event, incident_fact, measurement_fact, status_fact
from ..domain import (
    Alert,
    AlertBook,
    BookState,
    Change,
    Notification,
    PlanTarget,
    RulesConfig,
    Silence,
    notification_to_json,
    state_from_json,
    state_to_json,
)

E = TypeVar("E", bound=Event)

#: The key of each row kind of the book's state.
ROW_KEYS = {
    "alerts": "id",
    "silences": "id",
    "notification_log": "group_key",
    "cases": "fact_id",
    "activities": "fact_id",
    "observations": "subject",
    "statuses": "target_id",
    "facts": "fact_id",
    "case_steps": "event_id",
    "reported": "fact_id",
}


class CommandRefused(ValueError):
    pass


class AlertDesk(UnitHooks):
    def __init__(
        self,
        *,
        rules: RulesConfig,
        targets: Sequence[PlanTarget],
        db: Database,
        inbox: Inbox,
        outbox: Outbox,
        subjects: Subjects,
        metrics: ServiceMetrics,
        firing: Gauge | None = None,
        on_notifications: Callable[[], None] | None = None,
    ) -> None:
        self.rules = rules
        self.targets = tuple(targets)
        self.db = db
        self.inbox = inbox
        self.outbox = outbox
        self.subjects = subjects
        self.metrics = metrics
        self.on_notifications = on_notifications
        self.firing = firing
        self._firing_labels: set[tuple[str, str]] = set()
        self._lock = asyncio.Lock()
        self._book: AlertBook | None = None
        self._version = -1
        # Of the unit of work under way (one at a time, under the lock): the version it opened at,
        # the book's event-time now, the notifications it planned.
        self._opened = -1
        self._now: datetime | None = None
        self._notifications: list[Notification] = []
        self.units = Units(
            "alerts",
            self.consumes(),
            db=db,
            inbox=inbox,
            outbox=outbox,
            subjects=subjects,
            metrics=metrics,
            hooks=self,
        )
        # In-process entry points (tests, benchmarks): a batch through the whole unit of work.
        self.incidents = self.units.batch("incident.reported")
        self.measurements = self.units.batch("measurement.recorded")
        self.activities = self.units.batch("activity.recorded")
        self.statuses = self.units.batch("task.status_changed")
        self.ticks = self.units.batch("clock.ticked")
        self.cases = self.units.batch("case.recorded")
        self.progress = self.units.batch("progress.recorded")

    # --- facts and ticks: kit's unit of work calls these with the new events of a batch -------

    def consumes(self) -> dict[str, Apply]:
        return {
            "incident.reported": self.incident_reported,
            "measurement.recorded": self.measurement_recorded,
            "activity.recorded": self.activity_recorded,
            "task.status_changed": self.task_status_changed,
            "case.recorded": self.case_recorded,
            "progress.recorded": self.progress_recorded,
            "clock.ticked": self.clock_ticked,
        }

    async def incident_reported(self, uow: UnitOfWork, events: Sequence[IncidentReported]) -> None:
        self._apply(uow, events, lambda b, e: b.apply_incident(incident_fact(e)))

    async def measurement_recorded(self, uow: UnitOfWork, events: Sequence[MeasurementRecorded]) -> None:
        self._apply(
            uow,
            events,
            lambda b, e: (
                b.apply_measurement(measurement_fact(e)) + b.apply_reported(reported_measurement(e, b.rules.zone))
            ),
        )

    async def progress_recorded(self, uow: UnitOfWork, events: Sequence[ProgressRecorded]) -> None:
        """Rule 8 only: progress figures are checked for data quality (the tasks service judges the targets)."""
        self._apply(uow, events, lambda b, e: b.apply_reported(reported_progress(e, b.rules.zone)))

    async def activity_recorded(self, uow: UnitOfWork, events: Sequence[ActivityRecorded]) -> None:
        self._apply(uow, events, lambda b, e: b.apply_activity(activity_fact(e)))

    async def task_status_changed(self, uow: UnitOfWork, events: Sequence[TaskStatusChanged]) -> None:
        self._apply(uow, events, lambda b, e: b.apply_status(status_fact(e)))

    async def case_recorded(self, uow: UnitOfWork, events: Sequence[CaseRecorded]) -> None:
        """Rule 7, and each changed case's summary for the rates (`case.summarised`, in the same transaction)."""
        summaries: list[CaseSummarised] = []

        def apply(book: AlertBook, event: CaseRecorded) -> list[Change]:
            step = step_of(event)
            changes = book.apply_case(step)
            found = book.case_ledger.summary(step.case_id)
            if found is not None:
                summaries.append(case_summarised(step, *found, recorded_at=datetime.now(UTC)))
            return changes

        self._apply(uow, events, apply)
        uow.publish(summaries)

    async def clock_ticked(self, uow: UnitOfWork, events: Sequence[ClockTicked]) -> None:
        self._apply(uow, events, lambda b, e: b.tick(e.occurred_at))

    def _apply(self, uow: UnitOfWork, events: Sequence[E], apply: Callable[[AlertBook, E], list[Change]]) -> None:
        book, now = self._opened_book(), self._now
        changes: list[Change] = []
        for event in events:
            changes += apply(book, event)
            now = max(now, _known_at(event)) if now else _known_at(event)
        self._now = now
        self._stage(uow, changes, book.plan_notifications(now) if now else [])

    # --- commands --------------------------------------------------------------------------

    async def acknowledge(self, alert_id: str, actor: str, comment: str | None) -> Alert:
        async with self.units.transaction() as uow:
            book, when = self._opened_book(), self._now or datetime.now(UTC)
            self._stage(uow, book.acknowledge(alert_id, actor, comment, when), book.plan_notifications(when))
        return book.alert(alert_id)

    async def resolve(self, alert_id: str, actor: str, comment: str | None) -> Alert:
        async with self.units.transaction() as uow:
            book, when = self._opened_book(), self._now or datetime.now(UTC)
            self._stage(uow, book.resolve(alert_id, actor, comment, when), book.plan_notifications(when))
        return book.alert(alert_id)

    async def silence(self, matchers: list[str], hours: float, actor: str, comment: str) -> Silence:
        async with self.units.transaction():
            book, when = self._opened_book(), self._now or datetime.now(UTC)
            return book.add_silence(
                matchers,
                starts_at=when,
                ends_at=when + timedelta(hours=hours),
                created_by=actor,
                comment=comment,
                now=when,
            )

    async def expire_silence(self, silence_id: str) -> Silence:
        async with self.units.transaction():
            return self._opened_book().expire_silence(silence_id, self._now or datetime.now(UTC))

    # --- queries ---------------------------------------------------------------------------

    async def alerts(self, state: str = "open", rule: str | None = None, limit: int = 200) -> list[Alert]:
        async with self._lock:
            book = await self._current_book()
        chosen = book.alerts(open_only=state == "open")
        if state in ("firing", "acknowledged", "resolved"):
            chosen = [a for a in chosen if a.state.value == state]
        if rule:
            chosen = [a for a in chosen if a.rule == rule]
        return sorted(chosen, key=lambda a: (a.first_seen, a.id))[:limit]

    async def case_book(self) -> tuple[AlertBook, datetime | None]:
        """The book as committed and its event-time now, for reading its cases (never changed by callers)."""
        async with self._lock:
            book = await self._current_book()
            async with self.db.read() as conn:
                now = await conn.scalar(select(t.book_version.c.now).where(t.book_version.c.id == 1))
        return book, now

    async def silences(self) -> list[Silence]:
        async with self._lock:
            book = await self._current_book()
        return book.silences()

    # --- the transaction -------------------------------------------------------------------

    async def _current_book(self) -> AlertBook:
        async with self.db.read() as conn:
            version = await conn.scalar(select(t.book_version.c.version).where(t.book_version.c.id == 1))
            if self._book is None or (version or 0) != self._version:
                self._book = await self._load(conn)
                self._version = int(version or 0)
        return self._book

    # --- the unit of work's hooks: one writer at a time, the book saved last ----------------

    def serialised(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock

    async def opened(self, uow: UnitOfWork) -> None:
        version, self._now = await self._lock_version(uow.conn)
        if self._book is None or version != self._version:
            self._book = await self._load(uow.conn)
        self._opened = version

    async def closing(self, uow: UnitOfWork) -> None:
        await self._save(uow.conn, self._opened_book().take_writes())
        await self._save_notifications(uow.conn)
        v = t.book_version
        await uow.conn.execute(update(v).where(v.c.id == 1).values(version=self._opened + 1, now=self._now))

    def rolled_back(self) -> None:
        self._book = None  # it may hold changes that were not committed
        self._notifications = []

    def committed(self, uow: UnitOfWork) -> None:
        self._version = self._opened + 1
        self._refresh_gauges(self._opened_book())

    def _opened_book(self) -> AlertBook:
        assert self._book is not None, "the book is read when the unit of work opens"
        return self._book

    async def _lock_version(self, conn: AsyncConnection) -> tuple[int, datetime | None]:
        query = select(t.book_version.c.version, t.book_version.c.now).where(t.book_version.c.id == 1)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            await conn.execute(insert(t.book_version).values(id=1, version=0, now=None))
            return 0, None
        return int(row.version), row.now

    async def _load(self, conn: AsyncConnection) -> AlertBook:
        rows: dict[str, list[Any]] = {kind: [] for kind in ROW_KEYS}
        for kind, data in await conn.execute(select(t.book_rows.c.kind, t.book_rows.c.data)):
            rows[kind].append(orjson.loads(data))
        state: BookState = state_from_json(rows)
        return AlertBook(self.rules, self.targets, state=state)

    async def _save(self, conn: AsyncConnection, writes: BookState) -> None:
        """The book's changed rows, every kind in one statement (a kind's rows are unique by key)."""
        dumped = state_to_json(writes)
        rows = [
            {
                "kind": kind,
                "key": str(item[key_field]),
                "data": _dumps(item),
                "state": item.get("state") if kind == "alerts" else None,
                "severity": item.get("severity") if kind == "alerts" else None,
                "rule": item.get("rule") if kind == "alerts" else None,
            }
            for kind, key_field in ROW_KEYS.items()
            for item in dumped[kind]
        ]
        await upsert(conn, t.book_rows, rows, keys=("kind", "key"))

    def _stage(self, uow: UnitOfWork, changes: list[Change], notifications: list[Notification]) -> None:
        """Publish the alert events of `changes`; queue `notifications` for the sender."""
        uow.publish(map(alert_event, changes))
        if notifications:
            self._notifications += notifications
            if self.on_notifications is not None:
                uow.after_commit(self.on_notifications)

    async def _save_notifications(self, conn: AsyncConnection) -> None:
        rows = [
            {
                "key": n.key,
                "receiver": n.receiver,
                "data": _dumps(notification_to_json(n)),
                "created_at": n.created_at,
                "status": "pending",  # the sender records one delivery per channel, then `dispatched`
            }
            for n in self._notifications
        ]
        self._notifications = []
        # A notification already staged (same key) is left alone: one statement, no read first.
        await insert_missing(conn, t.notifications, rows, keys=("key",))

    def _refresh_gauges(self, book: AlertBook) -> None:
        if self.firing is None:
            return
        counts = Counter((a.severity.value, a.rule) for a in book.alerts(open_only=True))
        for severity, rule in self._firing_labels - set(counts):
            self.firing.labels(severity=severity, rule=rule).set(0)
        for (severity, rule), count in counts.items():
            self.firing.labels(severity=severity, rule=rule).set(count)
        self._firing_labels = set(counts)


def _dumps(data: dict[str, Any]) -> str:
    """JSON with sorted keys, as the rows were always written (orjson: the book is saved every batch)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def _known_at(event: Event) -> datetime:
    reported = getattr(event, "reported_at", None)
    return reported if isinstance(reported, datetime) else event.occurred_at
