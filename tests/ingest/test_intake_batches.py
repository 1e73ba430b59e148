"""`Intake.take` on its own (no NATS), on SQLite and PostgreSQL: what a batch decides, and in how many statements."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import event, func, select

from duban_contracts.plan import load_plan
from duban_ingest.adapters import tables
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.domain.registry import UnitRegistry
from duban_ingest.usecases.intake import Inbound, Intake
from duban_kit.messaging import Outbox
from duban_kit.service import ServiceRuntime

ARRIVED = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
SCHOOLS = ("巴中市第二中学", "巴州区第七小学")


def progress(school: str, value: float, date: str = "2023-06-05") -> dict[str, object]:
    return {"kind": "progress", "source": school, "indicator": "新建中小学校舍", "value": value, "date": date}


def inbound(submission_id: str | None, body: object, sequence: int = 1) -> Inbound:
    return Inbound(submission_id, sequence, body, ARRIVED)


@pytest.fixture
async def runtime(namespace: str, database_url: str, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    app = create_app(IngestSettings(namespace=namespace, database_url=database_url, home=tmp_path))
    await app.db.migrate(app.migrations)
    try:
        yield app
    finally:
        await app.db.drop_schema()
        await app.db.dispose()


def intake_of(runtime: ServiceRuntime) -> Intake:
    settings = runtime.settings
    assert isinstance(settings, IngestSettings)
    return Intake(
        plan=load_plan(settings.plan_file),
        registry=UnitRegistry.load(settings.registry_file),
        db=runtime.db,
        outbox=Outbox(tables.outbox),  # no relay to wait for
        subjects=settings.subjects,
        metrics=runtime.metrics,
        rejected_counter=Counter("rejected", "", ["code"], registry=CollectorRegistry()),
    )


async def stored(runtime: ServiceRuntime) -> dict[str, dict[str, Any]]:
    s = tables.submissions
    async with runtime.db.read() as conn:
        rows = (await conn.execute(select(s))).mappings().all()
    return {r["submission_id"]: dict(r) for r in rows}


async def outbox_rows(runtime: ServiceRuntime) -> int:
    async with runtime.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(tables.outbox)) or 0)


async def test_duplicates_within_a_batch_and_across_batches_name_the_first_accepted(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime)
    first = await intake.take(
        [
            inbound("a-1", progress(SCHOOLS[0], 100)),
            inbound("a-2", progress(SCHOOLS[0], 100)),  # the same content as a-1, in the same batch
            inbound("a-3", progress(SCHOOLS[1], 100)),  # the same figures from another unit: not a duplicate
            inbound("a-4", progress(SCHOOLS[0], 200)),
        ]
    )
    assert [(o.submission_id, o.accepted, o.code) for o in first] == [
        ("a-1", True, None),
        ("a-2", False, "duplicate_content"),
        ("a-3", True, None),
        ("a-4", True, None),
    ]
    later = await intake.take(
        [
            inbound("b-1", progress(SCHOOLS[1], 100)),  # a-3 again, a batch later
            inbound("b-2", progress(SCHOOLS[0], 300)),
            inbound("b-3", progress(SCHOOLS[0], 300)),
        ]
    )
    assert [(o.accepted, o.code) for o in later] == [
        (False, "duplicate_content"),
        (True, None),
        (False, "duplicate_content"),
    ]
    rows = await stored(runtime)
    assert json.loads(rows["a-2"]["reasons"])[0]["value"] == "a-1"
    assert json.loads(rows["b-1"]["reasons"])[0]["value"] == "a-3"
    assert json.loads(rows["b-3"]["reasons"])[0]["value"] == "b-2"
    assert rows["a-2"]["content_hash"] is None and rows["a-1"]["content_hash"]
    assert rows["a-2"]["unit_id"] == rows["a-1"]["unit_id"]
    assert await outbox_rows(runtime) == 7


async def test_a_redelivered_batch_is_answered_from_what_was_stored(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime)
    batch = [
        inbound("r-1", progress(SCHOOLS[0], 10)),
        inbound("r-2", progress(SCHOOLS[0], -3)),
        inbound(None, progress(SCHOOLS[1], 10), sequence=7),
    ]
    first = await intake.take(batch)
    assert [(o.submission_id, o.accepted, o.code) for o in first] == [
        ("r-1", True, None),
        ("r-2", False, "negative_value"),
        ("seq-7", False, "missing_submission_id"),
    ]
    again = await intake.take([*batch, inbound("r-3", progress(SCHOOLS[0], 10))])
    assert [(o.submission_id, o.accepted, o.code) for o in again] == [
        ("r-1", True, None),
        ("r-2", False, None),
        ("seq-7", False, None),
        ("r-3", False, "duplicate_content"),
    ]
    assert await outbox_rows(runtime) == 4
    assert set(await stored(runtime)) == {"r-1", "r-2", "seq-7", "r-3"}


async def test_a_retaken_submission_is_judged_against_what_was_accepted(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime)
    await intake.take([inbound("x-1", progress(SCHOOLS[0], 50)), inbound("x-2", progress(SCHOOLS[0], 50))])
    again = await intake.retake(inbound("x-2", progress(SCHOOLS[0], 50)), attempt="replay-2")
    assert (again.accepted, again.code) == (False, "duplicate_content")
    corrected = await intake.retake(inbound("x-2", progress(SCHOOLS[0], 60)), attempt="replay-2")
    assert corrected.accepted
    assert (await stored(runtime))["x-2"]["status"] == "accepted"


async def test_a_batch_costs_the_same_few_statements_whatever_its_size(runtime: ServiceRuntime) -> None:
    intake = intake_of(runtime)
    registry = UnitRegistry.load()
    schools = [u.name for u in registry.all() if u.kind == "school"][:40]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        batch = [
            inbound(f"n-{i}", progress(schools[i % len(schools)], i + 1), sequence=i) for i in range(len(schools) * 5)
        ]
        outcomes = await intake.take(batch)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    assert all(o.accepted for o in outcomes)
    # the ids known, the units' locks (PostgreSQL), the contents accepted, the submissions, the outbox
    assert len([s for s in statements if s in {"SELECT", "INSERT"}]) <= 5


async def test_replicas_taking_the_same_content_at_once_accept_it_once(runtime: ServiceRuntime) -> None:
    if runtime.db.is_sqlite:
        pytest.skip("one writer on SQLite: replicas cannot overlap")
    replicas = [intake_of(runtime) for _ in range(4)]
    schools = [u.name for u in UnitRegistry.load().all() if u.kind == "school"][:12]
    contents = [(school, value) for school in schools for value in (1, 2, 3, 4)]
    batches = [  # every replica gets every content, under its own ids, in its own order
        [
            inbound(f"p{n}-{i}", progress(*contents[(i * (1, 5, 7, 11)[n]) % len(contents)]), sequence=i)
            for i in range(len(contents))
        ]
        for n in range(len(replicas))
    ]
    outcomes = await asyncio.gather(*(r.take(b) for r, b in zip(replicas, batches, strict=True)))
    rows = (await stored(runtime)).values()
    accepted = [(r["unit_id"], r["content_hash"]) for r in rows if r["status"] == "accepted"]
    assert len(accepted) == len(set(accepted)) == len(contents)
    assert sum(o.accepted for batch in outcomes for o in batch) == len(contents)
    assert {o.code for batch in outcomes for o in batch if not o.accepted} == {"duplicate_content"}
