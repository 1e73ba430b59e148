"""Use cases of the alerts service: apply facts and ticks to the alert book, operate it, persist it.

The book lives in memory and in the database. Every change runs under one lock and in one
transaction: apply to the book, save the rows it changed, stage the alert events (outbox) and the
notifications it planned, mark the inbox, bump the book's version. If anything fails the in-memory
book is dropped and reloaded, so it never runs ahead of what is committed. Replicas take turns on the
version row and reload when another replica wrote last. The rows and the version are read and written
through a `BookStore` (adapters/book_store.py: SQL in the service, in memory in unit tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from prometheus_client import Gauge
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
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitHooks, UnitOfWork, Units

from ..adapters.book_store import BookStore, SqlBookStore
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
    state_from_json,
    state_to_json,
)

E = TypeVar("E", bound=Event)


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
        store_for: Callable[[AsyncConnection], BookStore] = SqlBookStore,
    ) -> None:
        self.rules = rules
        #: The store of a unit of work's connection (the database's; in unit tests, one in memory).
        self.store_for = store_for
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
            urgent={"incident.reported"},  # the duty of care: a pupil in danger is not judged behind a backlog
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
        """Apply the new events; the book's now has already moved to the newest of them (`opened`)."""
        book, now = self._opened_book(), self._now
        changes: list[Change] = []
        for event in events:
            changes += apply(book, event)
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
                now = await self.store_for(conn).now()
        return book, now

    async def silences(self) -> list[Silence]:
        async with self._lock:
            book = await self._current_book()
        return book.silences()

    # --- the transaction -------------------------------------------------------------------

    async def _current_book(self) -> AlertBook:
        async with self.db.read() as conn:
            store = self.store_for(conn)
            version = await store.version()
            if self._book is None or (version or 0) != self._version:
                self._book = await self._load(store)
                self._version = int(version or 0)
        return self._book

    # --- the unit of work's hooks: one writer at a time, the book saved last ----------------

    def serialised(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock

    async def opened(self, uow: UnitOfWork) -> None:
        store = self.store_for(uow.conn)
        # A repeat in the batch was applied before, so the book's now is already past it: the max over
        # the batch as delivered is the max over its new events.
        candidate = max((_known_at(e) for e in uow.offered), default=None)
        version, now = await store.take_turn(candidate)
        # The event's own time where it moved the clock: the book keeps the offset it was reported with.
        self._now = candidate if candidate is not None and now == candidate else now
        if self._book is None or version != self._version:
            self._book = await self._load(store)
        self._opened = version

    async def closing(self, uow: UnitOfWork) -> None:
        store = self.store_for(uow.conn)
        await store.save(state_to_json(self._opened_book().take_writes()))
        notifications, self._notifications = self._notifications, []
        await store.add_notifications(notifications)

    def rolled_back(self) -> None:
        self._book = None  # it may hold changes that were not committed
        self._notifications = []

    def committed(self, uow: UnitOfWork) -> None:
        self._version = self._opened + 1
        self._refresh_gauges(self._opened_book())

    def _opened_book(self) -> AlertBook:
        assert self._book is not None, "the book is read when the unit of work opens"
        return self._book

    async def _load(self, store: BookStore) -> AlertBook:
        state: BookState = state_from_json(await store.load())
        return AlertBook(self.rules, self.targets, state=state)

    def _stage(self, uow: UnitOfWork, changes: list[Change], notifications: list[Notification]) -> None:
        """Publish the alert events of `changes`; queue `notifications` for the sender."""
        uow.publish(map(alert_event, changes))
        if notifications:
            self._notifications += notifications
            if self.on_notifications is not None:
                uow.after_commit(self.on_notifications)

    def _refresh_gauges(self, book: AlertBook) -> None:
        if self.firing is None:
            return
        counts = book.open_counts()
        for severity, rule in self._firing_labels - set(counts):
            self.firing.labels(severity=severity, rule=rule).set(0)
        for (severity, rule), count in counts.items():
            self.firing.labels(severity=severity, rule=rule).set(count)
        self._firing_labels = set(counts)


def _known_at(event: Event) -> datetime:
    reported = getattr(event, "reported_at", None)
    return reported if isinstance(reported, datetime) else event.occurred_at
