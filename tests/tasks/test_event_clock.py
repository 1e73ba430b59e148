"""The tasks service's event-time clock, on both databases: it only moves forward, in one statement that
also counts the writers' turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from duban_kit.db import Database
from duban_tasks.adapters import repository as repo
from tests.support.databases import tasks_database

START = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str, namespace: str) -> AsyncIterator[Database]:
    async with tasks_database(database_url, namespace) as database:
        yield database


async def test_the_clock_moves_to_the_newest_time_seen_and_never_back(db: Database) -> None:
    later, earlier = START + timedelta(days=3, microseconds=5), START + timedelta(days=1)
    beijing = (later + timedelta(hours=1)).astimezone(timezone(timedelta(hours=8)))  # stored as UTC
    async with db.begin() as conn:
        first = await repo.take_clock(conn, START)  # no clock row yet
        moved = await repo.take_clock(conn, later)
        kept = await repo.take_clock(conn, earlier)
        asked = await repo.take_clock(conn, None)
        local = await repo.take_clock(conn, beijing)
    async with db.read() as conn:
        stored = await repo.clock_now(conn)

    assert [(turn.generation, turn.now) for turn in (first, moved, kept, asked)] == [
        (None, START),
        (1, later),
        (2, later),
        (3, later),
    ]
    assert (local.generation, local.now) == (4, beijing)
    assert stored == beijing
    assert stored is not None and stored.utcoffset() == timedelta(0)
