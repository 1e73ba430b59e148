"""Use cases of the alerts service: apply facts and ticks to the alert book, operate it, persist it.

The book lives in memory and in the database. Every change runs under one lock and in one
transaction: apply to the book, save the rows it changed, stage the alert events (outbox) and the
notifications it planned, mark the inbox, bump the book's version. If anything fails the in-memory
book is dropped and reloaded, so it never runs ahead of what is committed. Replicas take turns on the
version row and reload when another replica wrote last.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from prometheus_client import Gauge
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.casework import step_of
from duban_contracts.events import (
    ActivityRecorded,
    CaseRecorded,
    ClockTicked,
    Event,
    IncidentReported,
    MeasurementRecorded,
    TaskStatusChanged,
)
from duban_contracts.subjects import Subjects
from duban_kit.db import Database, insert_missing, upsert
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics

from ..adapters import tables as t
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
}


class CommandRefused(ValueError):
    pass


@dataclass(frozen=True)
class Applied:
    changes: list[Change]
    notifications: list[Notification]


class AlertDesk:
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

    # --- facts and ticks -------------------------------------------------------------------

    async def incidents(self, events: Sequence[IncidentReported]) -> list[None]:
        return await self._apply("alerts-incident-reported", events, lambda b, e: b.apply_incident(incident_fact(e)))

    async def measurements(self, events: Sequence[MeasurementRecorded]) -> list[None]:
        return await self._apply(
            "alerts-measurement-recorded", events, lambda b, e: b.apply_measurement(measurement_fact(e))
        )

    async def activities(self, events: Sequence[ActivityRecorded]) -> list[None]:
        return await self._apply("alerts-activity-recorded", events, lambda b, e: b.apply_activity(activity_fact(e)))

    async def statuses(self, events: Sequence[TaskStatusChanged]) -> list[None]:
        return await self._apply("alerts-task-status-changed", events, lambda b, e: b.apply_status(status_fact(e)))

    async def cases(self, events: Sequence[CaseRecorded]) -> list[None]:
        return await self._apply("alerts-case-recorded", events, lambda b, e: b.apply_case(step_of(e)))

    async def ticks(self, events: Sequence[ClockTicked]) -> list[None]:
        return await self._apply("alerts-clock-ticked", events, lambda b, e: b.tick(e.occurred_at))

    async def _apply(
        self, consumer: str, events: Sequence[E], apply: Callable[[AlertBook, E], list[Change]]
    ) -> list[None]:
        async def work(conn: AsyncConnection, book: AlertBook, now: datetime | None) -> tuple[datetime | None, Applied]:
            fresh_ids = await self.inbox.unseen(conn, [e.event_id for e in events])
            fresh = list({e.event_id: e for e in events if e.event_id in fresh_ids}.values())
            changes: list[Change] = []
            for event in fresh:
                changes += apply(book, event)
                now = max(now, _known_at(event)) if now else _known_at(event)
            notes = book.plan_notifications(now) if fresh and now else []
            await self.inbox.mark(conn, consumer, fresh_ids)
            if fresh:
                self.metrics.saw_event_time(max(e.occurred_at for e in fresh).timestamp())
            return now, Applied(changes, notes)

        await self._transaction(work)
        return [None] * len(events)

    # --- commands --------------------------------------------------------------------------

    async def acknowledge(self, alert_id: str, actor: str, comment: str | None) -> Alert:
        async def work(conn: AsyncConnection, book: AlertBook, now: datetime | None) -> tuple[datetime | None, Applied]:
            when = now or datetime.now(UTC)
            changes = book.acknowledge(alert_id, actor, comment, when)
            return now, Applied(changes, book.plan_notifications(when))

        await self._transaction(work)
        assert self._book is not None
        return self._book.alert(alert_id)

    async def silence(self, matchers: list[str], hours: float, actor: str, comment: str) -> Silence:
        created: list[Silence] = []

        async def work(conn: AsyncConnection, book: AlertBook, now: datetime | None) -> tuple[datetime | None, Applied]:
            when = now or datetime.now(UTC)
            created.append(
                book.add_silence(
                    matchers,
                    starts_at=when,
                    ends_at=when + timedelta(hours=hours),
                    created_by=actor,
                    comment=comment,
                    now=when,
                )
            )
            return now, Applied([], [])

        await self._transaction(work)
        return created[0]

    async def expire_silence(self, silence_id: str) -> Silence:
        ended: list[Silence] = []

        async def work(conn: AsyncConnection, book: AlertBook, now: datetime | None) -> tuple[datetime | None, Applied]:
            ended.append(book.expire_silence(silence_id, now or datetime.now(UTC)))
            return now, Applied([], [])

        await self._transaction(work)
        return ended[0]

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

    async def _transaction(
        self,
        work: Callable[[AsyncConnection, AlertBook, datetime | None], Any],
    ) -> None:
        async with self._lock:
            try:
                async with self.db.begin() as conn:
                    version, now = await self._lock_version(conn)
                    if self._book is None or version != self._version:
                        self._book = await self._load(conn)
                    now, applied = await work(conn, self._book, now)
                    await self._save(conn, self._book.take_writes())
                    await self._stage(conn, applied)
                    await conn.execute(
                        update(t.book_version).where(t.book_version.c.id == 1).values(version=version + 1, now=now)
                    )
            except Exception:
                self._book = None  # it may hold changes that were not committed
                raise
            self._version = version + 1
            self._refresh_gauges(self._book)
        if applied.changes:
            await self.outbox.published()
        if applied.notifications and self.on_notifications is not None:
            self.on_notifications()

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
            rows[kind].append(json.loads(data))
        state: BookState = state_from_json(rows)
        return AlertBook(self.rules, self.targets, state=state)

    async def _save(self, conn: AsyncConnection, writes: BookState) -> None:
        dumped = state_to_json(writes)
        for kind, key_field in ROW_KEYS.items():
            rows = [
                {
                    "kind": kind,
                    "key": str(item[key_field]),
                    "data": json.dumps(item, ensure_ascii=False, sort_keys=True),
                    "state": item.get("state") if kind == "alerts" else None,
                    "severity": item.get("severity") if kind == "alerts" else None,
                    "rule": item.get("rule") if kind == "alerts" else None,
                }
                for item in dumped[kind]
            ]
            await upsert(conn, t.book_rows, rows, keys=("kind", "key"))

    async def _stage(self, conn: AsyncConnection, applied: Applied) -> None:
        await self.outbox.add(conn, ((self.subjects.event(e.event_type), e) for e in map(alert_event, applied.changes)))
        rows = [
            {
                "key": n.key,
                "receiver": n.receiver,
                "data": json.dumps(notification_to_json(n), ensure_ascii=False, sort_keys=True),
                "created_at": n.created_at,
                "status": "pending",  # the sender records one delivery per channel, then `dispatched`
            }
            for n in applied.notifications
        ]
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


def _known_at(event: Event) -> datetime:
    reported = getattr(event, "reported_at", None)
    return reported if isinstance(reported, datetime) else event.occurred_at
