"""kit's inbox: a batch's event ids are claimed in one statement, once, even by two replicas at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from duban_kit.db import Database
from duban_kit.messaging import Inbox
from duban_tasks.adapters import tables
from tests.support.databases import tasks_database


@pytest.fixture
async def db(database_url: str, namespace: str) -> AsyncIterator[Database]:
    async with tasks_database(database_url, namespace) as database:
        yield database


@pytest.fixture
async def pg(postgres_url: str, namespace: str) -> AsyncIterator[Database]:
    async with tasks_database(postgres_url, namespace) as database:
        yield database


async def claim_and_fail(db: Database, inbox: Inbox, event_ids: list[str]) -> None:
    async with db.begin() as conn:
        assert await inbox.claim(conn, "tasks-clock", event_ids) == {"c"}
        raise RuntimeError("the batch failed")


async def test_only_ids_not_applied_before_are_claimed_and_a_rollback_frees_them(db: Database) -> None:
    inbox = Inbox(tables.inbox)
    async with db.begin() as conn:
        assert await inbox.claim(conn, "tasks-clock", ["a", "b", "a"]) == {"a", "b"}  # a repeat inside the batch
    with pytest.raises(RuntimeError, match="the batch failed"):
        await claim_and_fail(db, inbox, ["b", "c"])
    async with db.begin() as conn:
        assert await inbox.claim(conn, "tasks-clock", ["c", "b", "d"]) == {"c", "d"}
    async with db.read() as conn:
        rows = (await conn.execute(select(tables.inbox.c.event_id, tables.inbox.c.consumer))).all()
    assert sorted(rows) == [(e, "tasks-clock") for e in "abcd"]


async def test_two_replicas_claiming_the_same_ids_at_once_apply_each_once(pg: Database) -> None:
    db = pg  # PostgreSQL: replicas overlap only there (SQLite has one writer)
    inbox = Inbox(tables.inbox)
    first_claimed, release = asyncio.Event(), asyncio.Event()

    async def first() -> set[str]:
        async with db.begin() as conn:
            claimed = await inbox.claim(conn, "tasks-clock", ["a", "b"])
            first_claimed.set()
            await release.wait()  # still uncommitted while the other replica claims
            return claimed

    async def second() -> set[str]:
        await first_claimed.wait()
        async with db.begin() as conn:
            return await inbox.claim(conn, "tasks-clock", ["b", "c"])

    one, two = asyncio.create_task(first()), asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.2)
    assert not two.done()  # it waits for the first replica's transaction
    release.set()
    assert (await one, await two) == ({"a", "b"}, {"c"})
