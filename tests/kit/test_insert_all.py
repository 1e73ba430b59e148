"""kit's bulk inserts: one statement over column arrays on PostgreSQL, executemany on SQLite — the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Dialect, Integer, MetaData, String, Table, TypeDecorator, func, select
from sqlalchemy.exc import DBAPIError

from duban_kit.db import Database, insert_all, insert_missing, one_of, upsert
from duban_tasks.adapters import tables
from tests.support.databases import tasks_database

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
async def db(database_url: str, namespace: str) -> AsyncIterator[Database]:
    async with tasks_database(database_url, namespace) as database:
        yield database


def progress(n: int, submission_id: str | None) -> dict[str, Any]:
    return {
        "event_id": f"e{n}",
        "target_id": "t-学位",
        "source": "巴州区第二中学",
        "mode": "increment",
        "value": n * 1.5,
        "occurred_at": datetime(2023, 3, 1, 8, tzinfo=BEIJING) + timedelta(minutes=n),  # stored and read back as UTC
        "submission_id": submission_id,
    }


async def test_every_row_and_value_arrives_as_it_was_given(db: Database) -> None:
    rows = [progress(n, None if n % 3 == 0 else f"s{n}") for n in range(300)]
    outbox = [
        {"event_id": f"o{n}", "subject": "x.y", "payload": bytes([n % 256, 0, 255]), "created_at": datetime.now(UTC)}
        for n in range(5)
    ]
    async with db.begin() as conn:
        await insert_all(conn, tables.progress, rows)
        await insert_all(conn, tables.outbox, outbox)
        await insert_all(conn, tables.progress, [])

    async with db.read() as conn:
        kept = [dict(row) for row in (await conn.execute(select(tables.progress))).mappings()]
        payloads = [row[0] for row in await conn.execute(select(tables.outbox.c.payload).order_by(tables.outbox.c.id))]
    assert sorted(kept, key=lambda row: int(str(row["event_id"])[1:])) == [
        {**row, "occurred_at": row["occurred_at"].astimezone(UTC)} for row in rows
    ]
    assert payloads == [row["payload"] for row in outbox]


async def test_insert_missing_leaves_existing_rows_and_repeats_in_the_batch_alone(db: Database) -> None:
    async with db.begin() as conn:
        await insert_all(conn, tables.progress, [progress(1, "first")])
        await insert_missing(
            conn, tables.progress, [progress(1, "again"), progress(2, "new"), progress(2, "repeat")], keys=("event_id",)
        )

    async with db.read() as conn:
        kept = (await conn.execute(select(tables.progress.c.event_id, tables.progress.c.submission_id))).all()
    assert sorted(kept) == [("e1", "first"), ("e2", "new")]


async def test_a_value_longer_than_its_column_is_never_cut(db: Database) -> None:
    too_long = {**progress(1, None), "target_id": "t07_" + "x" * 200}  # the column holds 100 characters
    if db.is_sqlite:  # SQLite does not enforce lengths: the value is kept whole
        async with db.begin() as conn:
            await insert_all(conn, tables.progress, [too_long])
        async with db.read() as conn:
            assert await conn.scalar(select(tables.progress.c.target_id)) == too_long["target_id"]
        return
    with pytest.raises(DBAPIError, match="too long"):
        async with db.begin() as conn:
            await insert_all(conn, tables.progress, [progress(2, None), too_long])
    with pytest.raises(DBAPIError, match="too long"):
        async with db.begin() as conn:
            await insert_missing(conn, tables.progress, [too_long], keys=("event_id",))
    async with db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.progress)) == 0


class Shouted(TypeDecorator[str]):
    """A string column whose type converts what it stores: the array insert must let it."""

    impl = String(8)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.upper() if value is not None else None


async def test_a_column_type_converts_each_value_and_its_length_is_still_enforced(db: Database) -> None:
    metadata = MetaData()
    codes = Table("codes", metadata, Column("id", Integer, primary_key=True), Column("code", Shouted()))
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await insert_all(conn, codes, [{"id": 1, "code": "bz-ez"}, {"id": 2, "code": None}])
    if not db.is_sqlite:
        with pytest.raises(DBAPIError, match="too long"):
            async with db.begin() as conn:
                await insert_all(conn, codes, [{"id": 3, "code": "much-too-long"}])
    async with db.read() as conn:
        kept = (await conn.execute(select(codes.c.id, codes.c.code).order_by(codes.c.id))).all()
    assert kept == [(1, "BZ-EZ"), (2, None)]


async def test_upsert_updates_existing_rows_and_a_key_given_twice_ends_as_its_last_row(db: Database) -> None:
    s = tables.progress_sources
    at = datetime(2023, 3, 1, tzinfo=UTC)

    def summary(source: str, reports: int, note: str) -> dict[str, Any]:
        return {
            "target_id": "t-学位",
            "source": source,
            "reports": reports,
            "cumulative_at": None,
            "cumulative_value": None,
            "increments": reports * 0.5,
            "last_increment_at": at,
            "latest_at": at + timedelta(hours=reports),
            "latest_event_id": f'{note} "引号" \\ {reports}',  # quotes and backslashes travel as they are
            "latest_value": float(reports),
        }

    async with db.begin() as conn:
        await upsert(conn, s, [summary("一中", 1, "first"), summary("二中", 1, "first")], keys=("target_id", "source"))
    async with db.begin() as conn:
        await upsert(
            conn,
            s,
            [summary("一中", 2, "again"), summary("三中", 1, "new"), summary("一中", 3, "last")],
            keys=("target_id", "source"),
        )
        await upsert(conn, s, [], keys=("target_id", "source"))

    async with db.read() as conn:
        kept = {row.source: row for row in await conn.execute(select(s))}
    assert {source: (row.reports, row.latest_event_id) for source, row in kept.items()} == {
        "一中": (3, 'last "引号" \\ 3'),
        "二中": (1, 'first "引号" \\ 1'),
        "三中": (1, 'new "引号" \\ 1'),
    }
    assert kept["一中"].increments == 1.5 and kept["一中"].latest_at == at + timedelta(hours=3)


async def test_one_of_chooses_the_same_rows_as_in_with_one_statement_text_for_any_count(db: Database) -> None:
    rows = [progress(n, None) for n in range(300)]
    async with db.begin() as conn:
        await insert_all(conn, tables.progress, rows)
    p = tables.progress
    texts = set()
    async with db.read() as conn:
        for count in (0, 1, 3, 120, 300):
            wanted = [f"e{n}" for n in range(0, 2 * count, 2)]  # every other one, some beyond the rows
            query = select(p.c.event_id).where(one_of(conn, p.c.event_id, wanted))
            chosen = set((await conn.execute(query)).scalars())
            assert chosen == set((await conn.execute(select(p.c.event_id).where(p.c.event_id.in_(wanted)))).scalars())
            assert chosen == {e for e in wanted if int(e[1:]) < 300}
            texts.add(str(query.compile(conn.sync_connection, compile_kwargs={"render_postcompile": True})))
    # PostgreSQL: one array parameter (converted once, run prepared); SQLite: IN, a text per count
    assert len(texts) == (1 if conn.dialect.name == "postgresql" else 5)
