"""The in-memory book store keeps what the database keeps, so the desk's unit tests tell the truth.

The same batches go through an alert desk on the service's database (kit's unit of work,
`SqlBookStore`) and through one on an `InMemoryBookStore`; the stored book, its version and its
event-time now must be the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from duban_alerts.adapters import tables as t
from duban_alerts.adapters.book_store import ROW_KEYS, BookRows, SqlBookStore
from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
from duban_alerts.usecases.desk import AlertDesk
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.service import ServiceRuntime

from .alerts_support import rules
from .fake_book_store import InMemoryBookStore
from .test_desk_units import desk_on, drowning, flu_case, unit_of_work

BATCHES = [[flu_case(1, 0), flu_case(2, 10)], [flu_case(3, 20), drowning(1, 5)], [flu_case(4, 30)]]


@pytest.fixture
async def runtime(namespace: str, database_url: str, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    app = create_app(AlertsSettings(namespace=namespace, database_url=database_url, home=tmp_path))
    await app.db.migrate(app.migrations)
    try:
        yield app
    finally:
        await app.db.drop_schema()
        await app.db.dispose()


def _by_key(rows: BookRows) -> dict[str, dict[str, Any]]:
    return {kind: {str(item[key]): item for item in rows[kind]} for kind, key in ROW_KEYS.items()}


async def test_the_in_memory_store_keeps_the_book_the_database_keeps(runtime: ServiceRuntime) -> None:
    memory = InMemoryBookStore()
    in_memory = desk_on(memory)
    on_database = AlertDesk(
        rules=rules(),
        targets=(),
        db=runtime.db,
        inbox=Inbox(t.inbox),
        outbox=Outbox(t.outbox),  # no relay to wait for
        subjects=runtime.settings.subjects,
        metrics=ServiceMetrics("alerts", registry=CollectorRegistry()),
    )
    for batch in BATCHES:
        await unit_of_work(in_memory, in_memory.incident_reported, batch)
        await on_database.incidents(batch)

    async with runtime.db.read() as conn:
        sql = SqlBookStore(conn)
        assert _by_key(await sql.load()) == _by_key(await memory.load())
        assert (await sql.version(), await sql.now()) == (await memory.version(), await memory.now())
    assert any(a.rule == "infectious_cluster" and a.count == 4 for a in await on_database.alerts())
