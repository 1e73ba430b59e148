"""The alert desk's units of work on an in-memory book store: no database.

Each batch runs the hooks in the order kit's unit of work runs them (opened, the applier, closing,
committed), with a unit of work that has no connection behind it; `InMemoryBookStore` stands in for
`SqlBookStore` (the services' tests run the same desk on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_alerts.adapters import tables as t
from duban_alerts.usecases.desk import AlertDesk
from duban_contracts.events import AlertRaised, IncidentCategory, IncidentReported, UnitRef
from duban_contracts.subjects import Subjects
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import Apply, UnitOfWork

from .alerts_support import rules
from .fake_book_store import InMemoryBookStore

SCHOOL = UnitRef(id="bz-q7x", name="巴州区第七小学", township="江北街道", stage="小学")
DAY = datetime.fromisoformat("2023-07-02T08:00:00+08:00")


def drowning(number: int, minutes: int = 0) -> IncidentReported:
    at = DAY + timedelta(minutes=minutes)
    return IncidentReported(
        event_id=f"drown-{number}",
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        submission_id=f"s-drown-{number}",
        unit=SCHOOL,
        category=IncidentCategory.DROWNING,
        deaths=1,
        reported_at=at + timedelta(minutes=30),
    )


def desk_on(store: InMemoryBookStore) -> AlertDesk:
    return AlertDesk(
        rules=rules(),
        targets=(),
        db=cast(Database, None),  # never opened: each test brings its own units of work
        inbox=Inbox(t.inbox),
        outbox=Outbox(t.outbox),
        subjects=Subjects("unit"),
        metrics=ServiceMetrics("alerts", registry=CollectorRegistry()),
        store_for=lambda conn: store,
    )


async def unit_of_work(desk: AlertDesk, apply: Apply, events: Sequence[Any]) -> UnitOfWork:
    """One batch, hook by hook as kit runs it; what it staged is left on the unit of work."""
    uow = UnitOfWork(cast(AsyncConnection, None), is_sqlite=False)
    uow.offered = uow.events = list(events)
    await desk.opened(uow)
    await apply(uow, uow.events)
    await desk.closing(uow)
    desk.committed(uow)
    return uow


async def test_a_drowning_raises_a_critical_alert_and_saves_it_with_the_next_version() -> None:
    store = InMemoryBookStore()
    desk = desk_on(store)

    uow = await unit_of_work(desk, desk.incident_reported, [drowning(1)])

    [raised] = [e for e in uow.staged if isinstance(e, AlertRaised) and e.rule == "safety_incident"]
    assert raised.severity.value == "critical" and raised.labels["unit_id"] == SCHOOL.id
    assert raised.alert_id in store.rows["alerts"]
    assert store.rows["alerts"][raised.alert_id]["state"] == "firing"
    assert store.book_version == (1, drowning(1).reported_at)  # the event-time now is when it was reported


def flu_case(number: int, minutes: int) -> IncidentReported:
    at = DAY + timedelta(minutes=minutes)
    return IncidentReported(
        event_id=f"flu-{number}",
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        submission_id=f"s-flu-{number}",
        unit=SCHOOL,
        category=IncidentCategory.INFECTIOUS_DISEASE,
        disease="流感",
        cases=1,
        class_name="三年级2班",
        reported_at=at + timedelta(minutes=20),
    )


async def test_a_replica_reloads_the_cases_another_saved_and_counts_them_into_its_cluster() -> None:
    store = InMemoryBookStore()
    first, second = desk_on(store), desk_on(store)
    two = await unit_of_work(first, first.incident_reported, [flu_case(1, 0), flu_case(2, 10)])
    assert not any(isinstance(e, AlertRaised) for e in two.staged)  # 3 cases in a class within a day make a cluster

    third = await unit_of_work(second, second.incident_reported, [flu_case(3, 20)])

    [raised] = [e for e in third.staged if isinstance(e, AlertRaised)]
    assert (raised.rule, raised.count) == ("infectious_cluster", 3)
    assert store.book_version is not None and store.book_version[0] == 2
