"""Writers that take turns on one database judge as one writer would.

Each tracker keeps the `status` table in memory between its batches and trusts it only while the
clock row's generation shows no one else wrote: here two replicas alternate (and one of them fails a
batch half-way), and what they publish and store is compared with a single tracker's.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from duban_contracts.events import (
    ActivityRecorded,
    ClockTicked,
    MeasurementRecorded,
    ProgressRecorded,
    derived_event_id,
)
from duban_contracts.timezone import SHANGHAI
from duban_kit.db import Database
from duban_tasks.adapters import repository as repo
from duban_tasks.adapters import tables
from duban_tasks.usecases.tracking import Tracker
from tests.tasks.test_tracker import fixed_events, make_tracker_on

Batch = tuple[str, Sequence[Any]]


def month_end(month: int) -> ClockTicked:
    at = datetime(2023, month + 1, 1, tzinfo=SHANGHAI) if month < 12 else datetime(2024, 1, 1, tzinfo=SHANGHAI)
    return ClockTicked(
        event_id=derived_event_id("replicas-tick", month), occurred_at=at, recorded_at=at, source="clock"
    )


def batches() -> list[Batch]:
    """The fixed events of every kind, a few at a time in time order, with a tick at each month's end."""
    events = sorted(fixed_events(), key=lambda e: e.occurred_at)  # type: ignore[attr-defined]
    made: list[Batch] = []
    month = 1
    for start in range(0, len(events), 4):
        chunk = events[start : start + 4]
        while chunk[0].occurred_at >= month_end(month).occurred_at:  # type: ignore[attr-defined]
            made.append(("tick", [month_end(month)]))
            month += 1
        for kind, model in (
            ("progress", ProgressRecorded),
            ("activities", ActivityRecorded),
            ("measurements", MeasurementRecorded),
        ):
            picked = [e for e in chunk if isinstance(e, model)]
            if picked:
                made.append((kind, picked))
    made += [("tick", [month_end(m)]) for m in range(month, 13)]
    return made


async def apply(tracker: Tracker, batch: Batch) -> None:
    kind, events = batch
    appliers = {
        "progress": tracker.record_progress,
        "activities": tracker.record_activities,
        "measurements": tracker.record_measurements,
        "tick": tracker.tick,
    }
    await appliers[kind](events)


async def outcome(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What was published (less the wall-clock time of publishing) and the stored statuses."""
    async with db.read() as conn:
        payloads = (await conn.execute(select(tables.outbox.c.payload))).scalars().all()
        stored = (await conn.execute(select(tables.status).order_by("level", "ref"))).all()
    published = []
    for payload in payloads:
        event = json.loads(payload)
        event.pop("recorded_at")
        published.append(tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in event.items())))
    return sorted(published), [tuple(row) for row in stored]


class Refused(RuntimeError):
    pass


def failing_after(save: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def save_then_fail(*args: Any, **kwargs: Any) -> None:
        await save(*args, **kwargs)
        raise Refused("the database went away after the statuses were written")

    return save_then_fail


def open_database(url: str, namespace: str, name: str) -> Database:
    """The database `name` of this test: a SQLite file, or a PostgreSQL schema."""
    return Database(url.replace("{service}", name), schema=f"{namespace}_{name}", service="tasks")


async def test_two_replicas_taking_turns_publish_and_store_what_one_tracker_does(
    database_url: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = batches()
    alone = await make_tracker_on(open_database(database_url, namespace, "alone"))
    first = await make_tracker_on(open_database(database_url, namespace, "shared"))
    second = await make_tracker_on(open_database(database_url, namespace, "shared"))
    try:
        for batch in work:
            await apply(alone, batch)

        failed = 0
        for n, batch in enumerate(work):
            writer = second if n % 3 == 2 else first
            if n % 7 == 5:  # this writer's transaction fails after writing statuses: nothing of it may stay
                with monkeypatch.context() as patch:
                    patch.setattr(repo, "save_status", failing_after(repo.save_status))
                    with pytest.raises(Refused):
                        await apply(writer, batch)
                failed += 1
            await apply(writer, batch)

        expected_published, expected_stored = await outcome(alone.db)
        published, stored = await outcome(first.db)
        assert failed > 3 and len(expected_published) > 100
        assert published == expected_published
        assert stored == expected_stored
        assert {row[0] for row in stored} == {"target", "task", "section", "plan"}
    finally:
        for tracker in (alone, first, second):
            await tracker.db.drop_schema()
            await tracker.db.dispose()


def test_the_batches_cover_the_year() -> None:
    made = batches()
    assert [b for b in made if b[0] == "tick"][-1][1][0].occurred_at == datetime(2024, 1, 1, tzinfo=SHANGHAI)
    assert {kind for kind, _ in made} == {"progress", "activities", "measurements", "tick"}
    assert made[0][1][0].occurred_at >= datetime(2023, 1, 1, tzinfo=UTC)
