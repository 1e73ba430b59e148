"""The in-memory submission store keeps what the database keeps, so unit tests on it tell the truth.

The same batches (duplicates, redeliveries, rejections, a retake) go through the intake on the
service's database (kit's unit of work, `SqlSubmissionStore`) and on an `InMemorySubmissionStore`;
the verdicts and the stored rows must be the same (event ids apart: each run mints its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from duban_ingest.adapters import tables
from duban_ingest.adapters.submission_store import SqlSubmissionStore
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.usecases.intake import Intake, Outcome
from duban_kit.service import ServiceRuntime

from .fake_submission_store import InMemorySubmissionStore
from .test_intake_batches import intake_of
from .test_intake_judging import SCHOOLS, a_unit_of_work, inbound, intake_on, progress

BATCHES = [
    [
        inbound("c-1", progress(SCHOOLS[0], 100)),
        inbound("c-2", progress(SCHOOLS[0], 100)),
        inbound("c-3", progress(SCHOOLS[1], -1)),
        inbound(None, progress(SCHOOLS[1], 5), sequence=9),
        inbound("c-4", b"not json"),
    ],
    [inbound("c-1", progress(SCHOOLS[0], 100)), inbound("c-5", progress(SCHOOLS[1], 100))],
    [inbound("c-6", progress(SCHOOLS[1], 100)), inbound("c-7", progress(SCHOOLS[0], 7))],
]
RETAKES = [
    inbound("c-3", progress(SCHOOLS[1], 3)),  # corrected: accepted now
    inbound("c-2", progress(SCHOOLS[0], 100)),  # still the same content as c-1
    inbound("c-1", progress(SCHOOLS[0], 100)),  # accepted already: left as it is
]


@pytest.fixture
async def runtime(namespace: str, database_url: str, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    app = create_app(IngestSettings(namespace=namespace, database_url=database_url, home=tmp_path))
    await app.db.migrate(app.migrations)
    try:
        yield app
    finally:
        await app.db.drop_schema()
        await app.db.dispose()


def _verdicts(outcomes: list[Outcome]) -> list[tuple[str, bool, str | None]]:
    return [(o.submission_id, o.accepted, o.code) for o in outcomes]


def _without_event_ids(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {sid: {k: v for k, v in row.items() if k != "event_id"} for sid, row in rows.items()}


async def test_the_in_memory_store_keeps_the_rows_the_database_keeps(runtime: ServiceRuntime) -> None:
    store = InMemorySubmissionStore()
    in_memory: Intake = intake_on(store)
    on_database = intake_of(runtime)

    for batch in BATCHES:
        assert _verdicts(await in_memory.take_in(a_unit_of_work(), batch)) == _verdicts(await on_database.take(batch))
    for retake in RETAKES:
        retaken = await on_database.retake(retake, attempt="replay-1")
        in_memory_retaken = await in_memory.retake_in(a_unit_of_work(), retake, "replay-1", datetime.now(UTC))
        assert _verdicts([in_memory_retaken]) == _verdicts([retaken])

    async with runtime.db.read() as conn:
        stored = {r["submission_id"]: dict(r) for r in (await conn.execute(select(tables.submissions))).mappings()}
        on_sql = SqlSubmissionStore(conn)
        assert await on_sql.rejected(3) == await store.rejected(3)  # the listing of 退回, in its order
        for sid in ("c-1", "seq-9", "nowhere"):
            assert await on_sql.status_and_sequence(sid) == await store.status_and_sequence(sid)
    assert _without_event_ids(stored) == _without_event_ids(store.rows)
    assert (stored["c-3"]["status"], stored["c-3"]["code"]) == ("accepted", None)  # the corrected retake
