"""Pooled PostgreSQL connections are checked only after idling: a dead idle one is replaced unseen, a busy
one is not pinged on every transaction (its failure is the transaction's, which consumers retry)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from duban_kit import db as kit_db
from duban_kit.db import Database


@pytest.fixture
async def database(postgres_url: str, namespace: str) -> AsyncIterator[Database]:
    made = Database(postgres_url, schema=namespace, service="kit")
    try:
        yield made
    finally:
        await made.dispose()


async def backend_of(database: Database) -> int:
    async with database.begin() as conn:
        pid: int = await conn.scalar(text("SELECT pg_backend_pid()"))
    return pid


async def kill(database: Database, pid: int) -> None:
    other = Database(database.url, schema=database.schema, service="kit-killer")
    try:
        async with other.begin() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_an_idle_connection_that_died_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    first = await backend_of(database)
    await kill(database, first)

    second = await backend_of(database)  # no error: the ping found it dead, the pool connected anew

    assert second != first


async def test_a_busy_connection_is_not_pinged_and_its_death_fails_one_transaction(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 3600.0)
    first = await backend_of(database)
    await kill(database, first)

    with pytest.raises(OperationalError) as failed:
        await backend_of(database)
    assert kit_db.is_transient(failed.value)
    assert await backend_of(database) != first  # the pool was emptied: the next one is new
