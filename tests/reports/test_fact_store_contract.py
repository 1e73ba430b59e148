"""The in-memory fact store keeps what the database keeps, so unit tests on it tell the truth.

The same batches go through the service's `FactKeeper` (kit's unit of work, `SqlFactStore`) and
through the use cases on an `InMemoryFactStore`; every table must end up with the same rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from duban_contracts.events import AlertState
from duban_kit.db import Database
from duban_kit.messaging import Inbox
from duban_kit.metrics import ServiceMetrics
from duban_reports.adapters import tables as t
from duban_reports.app import MIGRATIONS
from duban_reports.domain.submission_counts import tallies
from duban_reports.usecases.facts import FactKeeper, keep_alerts, keep_progress, keep_rejections

from .fake_fact_store import InMemoryFactStore
from .test_fact_keeping import AT, alert, progress, rejection
from .test_submission_counts_sql import stored_counts

COMPARED = {
    "progress_facts": ("event_id", t.progress_facts),
    "submission_facts": ("submission_id", t.submission_facts),
    "alert_facts": ("alert_id", t.alert_facts),
    "alert_severities": ("event_id", t.alert_severities),
}


async def test_the_in_memory_store_keeps_the_rows_the_database_keeps(database_url: str, namespace: str) -> None:
    rejections = [[rejection("r-1", "s-1"), rejection("r-2", "s-2")], [rejection("r-3", "s-3", code="late")]]
    progresses = [
        [progress("e-1", "s-1", 10.0), progress("e-2", "s-4", 20.0, minutes=3)],
        [progress("e-3", "s-3", 5.0, minutes=1), progress("e-4", None, 7.5, minutes=2)],
    ]
    alerts = [
        [alert("a-e1", 0, AlertState.FIRING, 1), alert("a-e2", 10, AlertState.FIRING, 3)],
        [alert("a-e3", 5, AlertState.ACKNOWLEDGED, 2)],
    ]

    memory = InMemoryFactStore()
    for rejected_batch in rejections:
        await keep_rejections(memory, rejected_batch)
    for progress_batch in progresses:
        await keep_progress(memory, progress_batch)
    for alert_batch in alerts:
        await keep_alerts(memory, alert_batch)

    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    await db.migrate(MIGRATIONS)
    keeper = FactKeeper(db, Inbox(t.inbox), ServiceMetrics("reports", registry=CollectorRegistry()))
    rejected = keeper.units.batch("submission.rejected")
    try:
        for rejected_batch in rejections:
            await rejected(rejected_batch)
        for progress_batch in progresses:
            await keeper.progress(progress_batch)
        for alert_batch in alerts:
            await keeper.alerts(alert_batch)
        async with db.read() as conn:
            for name, (key, table) in COMPARED.items():
                stored = (await conn.execute(select(table).order_by(table.c[key]))).mappings().all()
                expected: list[dict[str, Any]] = sorted(memory.rows(name), key=lambda row: str(row[key]))
                assert [dict(row) for row in stored] == expected, name
            clock = await conn.scalar(select(t.clock.c.now))
        # Rejections later accepted moved between counts: what was kept equals a count made afresh.
        kept = await stored_counts(db)
        assert kept == memory.counts == tallies(memory.rows("submission_facts"))
        assert any(key.status == "rejected" for key in kept)
        assert clock == AT + timedelta(minutes=10)  # the newest event time the keeper saw
    finally:
        await db.drop_schema()
        await db.dispose()
