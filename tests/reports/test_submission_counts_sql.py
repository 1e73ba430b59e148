"""Submissions counted per day give exactly what the rows give, on both databases.

Submissions are kept batch by batch as the service keeps them (rejections later accepted, a verdict
moving a submission to another day and status, rows without a unit or kind); then every count read
for spans ending mid-day, on a midnight, or open at the start is compared with a GROUP BY over the
rows themselves, and the kept counts with counts made afresh (`rebuild`, as migration 0006 does).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, and_, func, insert, select, text

from duban_kit.db import Database
from duban_reports.adapters import submission_counts
from duban_reports.adapters import tables as t
from duban_reports.adapters.fact_store import SqlFactStore
from duban_reports.app import MIGRATIONS
from duban_reports.domain.periods import local_midnight
from duban_reports.domain.submission_counts import CountKey, Tally, day_span, tallies, upper_bound
from duban_reports.usecases.facts import keep_submissions

START = datetime.fromisoformat("2023-03-01T00:00:00+08:00")
UNITS = [("bz-ez", "巴中市第二中学"), ("bz-sz", "巴中市第三中学"), (None, None)]


def submission(rng: random.Random, n: int) -> dict[str, Any]:
    occurred = START + timedelta(minutes=rng.randrange(60 * 24 * 20))
    unit_id, unit_name = rng.choice(UNITS)
    return {
        "submission_id": f"s-{n}",
        "event_id": f"e-{n}",
        "unit_id": unit_id,
        "unit_name": unit_name,
        "township": None,
        "kind": rng.choice(["progress", "measurement", "activity", None]),
        "status": "rejected" if rng.random() < 0.3 else "accepted",
        "code": None,
        "occurred_at": occurred,
        "received_at": occurred + timedelta(minutes=rng.randrange(60 * 24 * 4)),
    }


def accepted_later(row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A rejected submission replayed and accepted days later: it moves to other counts."""
    return {
        **row,
        "status": "accepted",
        "kind": row["kind"] or "progress",
        "received_at": row["received_at"] + timedelta(days=rng.randrange(1, 5)),
    }


async def stored_counts(db: Database) -> dict[CountKey, Tally]:
    """The day counts in the database, as the domain writes them."""
    async with db.read() as conn:
        rows = (await conn.execute(select(t.submission_counts))).mappings()
        return {
            CountKey(r["basis"], r["day"], r["status"], r["kind"], r["unit_id"]): Tally(
                r["count"], r["first_received"], r["unit_name"]
            )
            for r in rows
        }


async def from_rows(conn: Any, basis: str, start: datetime | None, end: datetime, inclusive: bool, by: str) -> Any:
    """The oracle: the same figures grouped over `submission_facts` itself."""
    f = t.submission_facts
    at = f.c.occurred_at if basis == "occurred" else f.c.received_at
    where = [at <= end if inclusive else at < end]
    if start is not None:
        where.append(at >= start)
    group = func.coalesce(f.c[by], "")
    query = select(group, func.count(), func.max(f.c.unit_name)).where(and_(*where)).group_by(group)
    return {key: (n, name) for key, n, name in await conn.execute(query)}


async def test_day_counts_give_what_the_rows_give(database_url: str, namespace: str) -> None:
    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    await db.migrate(MIGRATIONS)
    rng = random.Random(7)
    try:
        batches = [[submission(rng, n) for n in range(k * 120, (k + 1) * 120)] for k in range(3)]
        for batch in batches:
            async with db.begin() as conn:
                await keep_submissions(SqlFactStore(conn), batch)
        rejected = [row for batch in batches for row in batch if row["status"] == "rejected"]
        async with db.begin() as conn:  # some of them accepted later, one seen twice in the batch
            replayed = [accepted_later(row, rng) for row in rejected[::2]]
            await keep_submissions(SqlFactStore(conn), [*replayed, replayed[0]])

        async with db.read() as conn:
            rows = (await conn.execute(select(t.submission_facts))).mappings().all()
        kept = await stored_counts(db)
        assert kept == tallies(rows)
        assert any(k.status == "accepted" and k.unit_id == "" for k in kept)  # no unit: grouped under ""

        ends = [
            START + timedelta(days=6, hours=13, minutes=7),  # mid-day
            START + timedelta(days=9),  # a local midnight
            START + timedelta(days=30),  # after every row
            START + timedelta(hours=5),  # inside the first day
        ]
        async with db.read() as conn:
            for basis in ("occurred", "received"):
                for start in (None, START, START + timedelta(days=2)):
                    for end in ends:
                        for inclusive in (True, False):
                            for by in ("unit_id", "status"):
                                span = day_span(start, end, end_inclusive=inclusive)
                                got = await submission_counts.counted(conn, basis, span, by)
                                want = await from_rows(conn, basis, start, end, inclusive, by)
                                assert got == want, (basis, start, end, inclusive, by)

        async with db.begin() as conn:
            assert await conn.run_sync(submission_counts.rebuild) == len(kept)
        assert await stored_counts(db) == kept
    finally:
        await db.drop_schema()
        await db.dispose()


def test_a_span_is_whole_days_and_the_rest_of_its_last_day() -> None:
    mid = START + timedelta(days=3, hours=9)
    span = day_span(START, mid)
    assert (span.first_day, span.end_day) == (START.date(), (START + timedelta(days=3)).date())
    assert span.rows_from == local_midnight((START + timedelta(days=3)).date())
    on_midnight = day_span(START, START + timedelta(days=3), end_inclusive=False)
    assert on_midnight.rows_from is None and on_midnight.end_day == (START + timedelta(days=3)).date()
    before_start = day_span(START, START - timedelta(hours=1))
    assert before_start.first_day == before_start.end_day and before_start.rows_from is None  # nothing
    assert upper_bound(START + timedelta(days=7), mid) == (mid, True)
    assert upper_bound(START + timedelta(days=2), mid) == (START + timedelta(days=2), False)
    with pytest.raises(ValueError, match="local midnight"):
        day_span(START + timedelta(hours=1), mid)


def upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_migration_counts_the_submissions_kept_before_it(database_url: str, namespace: str) -> None:
    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    rng = random.Random(11)
    rows = [submission(rng, n) for n in range(200)]
    try:
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            await conn.run_sync(upgrade_to, "0005")
            await conn.execute(insert(t.submission_facts), rows)
        await db.migrate(MIGRATIONS)
        assert await stored_counts(db) == tallies(rows)
    finally:
        await db.drop_schema()
        await db.dispose()
