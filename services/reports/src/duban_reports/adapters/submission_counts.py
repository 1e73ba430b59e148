"""The day counts of submissions (`domain.submission_counts`) in SQL: kept, recounted, rebuilt and read.

New submissions add to their counts with one upsert per batch (concurrent batches add, never
overwrite); a submission whose verdict moved it between counts has those counts recounted from the
rows, in the same transaction that rewrote it. Reads take whole days from the counts and the last,
partial day from `submission_facts` itself, so every figure is exactly what the rows give.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.periods import REPORT_TZ, local_midnight
from ..domain.submission_counts import Basis, CountKey, DaySpan, Tally, add_tallies, tallies
from . import tables as t

c = t.submission_counts
f = t.submission_facts

#: Rows read at a time when counts are rebuilt from every stored submission.
_REBUILD_CHUNK = 20_000


def _rows(counted: Mapping[CountKey, Tally]) -> list[dict[str, Any]]:
    return [
        {
            "basis": key.basis,
            "day": key.day,
            "status": key.status,
            "kind": key.kind,
            "unit_id": key.unit_id,
            "month": key.month,
            "count": tally.count,
            "first_received": tally.first_received,
            "unit_name": tally.unit_name,
        }
        for key, tally in sorted(counted.items())  # one lock order for concurrent batches
    ]


#: PostgreSQL: a batch's tallies as one statement over arrays (one round trip, a cached plan), not one
#: execution per row — 500 counts went from ~22 ms to a few.
_ADD_ON_POSTGRESQL = text(
    """
    INSERT INTO submission_counts (basis, day, status, kind, unit_id, month, count, first_received, unit_name)
    SELECT * FROM unnest(
        CAST(:basis AS varchar[]), CAST(:day AS date[]), CAST(:status AS varchar[]), CAST(:kind AS varchar[]),
        CAST(:unit_id AS varchar[]), CAST(:month AS date[]), CAST(:count AS integer[]),
        CAST(:first_received AS timestamptz[]), CAST(:unit_name AS text[])
    )
    ON CONFLICT (basis, day, status, kind, unit_id) DO UPDATE SET
        count = submission_counts.count + excluded.count,
        first_received = least(submission_counts.first_received, excluded.first_received),
        unit_name = greatest(submission_counts.unit_name, excluded.unit_name)
    """
)


async def add_counts(conn: AsyncConnection, counted: Mapping[CountKey, Tally]) -> None:
    """Add new submissions' tallies to the stored counts."""
    if not counted:
        return
    rows = _rows(counted)
    if conn.dialect.name == "postgresql":
        await conn.execute(_ADD_ON_POSTGRESQL, {column: [row[column] for row in rows] for column in rows[0]})
        return
    statement = sqlite_insert(c)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[c.c.basis, c.c.day, c.c.status, c.c.kind, c.c.unit_id],
        set_={
            "count": c.c.count + new.count,
            "first_received": func.min(c.c.first_received, new.first_received),  # min() of two: a scalar
            # max() of two is NULL when either is: the name kept, or the new one
            "unit_name": func.coalesce(func.max(c.c.unit_name, new.unit_name), c.c.unit_name, new.unit_name),
        },
    )
    await conn.execute(statement, rows)


async def recount(conn: AsyncConnection, keys: Collection[CountKey]) -> None:
    """Set these counts to what the stored submissions give now (removing the ones that fell to none)."""
    if not keys:
        return
    recounted: dict[CountKey, Tally] = {}
    for key in sorted(keys):
        rows = (await conn.execute(select(*f.c).where(*_in_count(key)))).mappings()
        recounted |= {k: v for k, v in tallies(rows).items() if k == key}
        await conn.execute(delete(c).where(*_count_is(key)))
    if recounted:
        await conn.execute(c.insert(), _rows(recounted))


def _count_is(key: CountKey) -> tuple[ColumnElement[bool], ...]:
    return (
        c.c.basis == key.basis,
        c.c.day == key.day,
        c.c.status == key.status,
        c.c.kind == key.kind,
        c.c.unit_id == key.unit_id,
    )


def _in_count(key: CountKey) -> tuple[ColumnElement[bool], ...]:
    """The `submission_facts` rows a count is made of."""
    at = f.c.occurred_at if key.basis == "occurred" else f.c.received_at
    return (
        at >= local_midnight(key.day),
        at < local_midnight(key.day + timedelta(days=1)),
        f.c.status == key.status,
        f.c.kind == key.kind if key.kind else f.c.kind.is_(None),
        f.c.unit_id == key.unit_id if key.unit_id else f.c.unit_id.is_(None),
    )


def rebuild(conn: Connection) -> int:
    """Count every stored submission afresh (migration 0006, and after a bulk load); returns the counts kept.

    PostgreSQL counts in SQL (a million rows in seconds); SQLite, the embedded stack's small files, in
    Python with the domain's own `tallies`. Tests hold both to the counts kept batch by batch.
    """
    conn.execute(delete(c))
    if conn.dialect.name == "postgresql":
        return _rebuild_in_sql(conn)
    counted: dict[CountKey, Tally] = {}
    for chunk in _chunks(conn):
        add_tallies(counted, tallies(chunk))
    rows = _rows(counted)
    for n in range(0, len(rows), _REBUILD_CHUNK):
        conn.execute(c.insert(), rows[n : n + _REBUILD_CHUNK])
    return len(rows)


def _rebuild_in_sql(conn: Connection) -> int:
    inserted = 0
    for basis, at in (("occurred", "occurred_at"), ("received", "received_at")):
        result = conn.execute(
            text(
                f"""
                INSERT INTO submission_counts
                    (basis, day, status, kind, unit_id, month, count, first_received, unit_name)
                SELECT :basis, day, status, kind, unit_id, date_trunc('month', day)::date,
                       count(*), min(received_at), max(unit_name)
                FROM (
                    SELECT ({at} AT TIME ZONE :zone)::date AS day, status, coalesce(kind, '') AS kind,
                           coalesce(unit_id, '') AS unit_id, received_at, unit_name
                    FROM submission_facts
                ) AS rows
                GROUP BY day, status, kind, unit_id
                """
            ),
            {"basis": basis, "zone": REPORT_TZ.key},
        )
        inserted += result.rowcount
    return inserted


def _chunks(conn: Connection) -> Iterator[Sequence[Mapping[Any, Any]]]:
    columns = (f.c.status, f.c.kind, f.c.unit_id, f.c.unit_name, f.c.occurred_at, f.c.received_at)
    result = conn.execute(select(*columns).execution_options(yield_per=_REBUILD_CHUNK))
    yield from result.mappings().partitions()


Group = tuple[int, str | None]  # how many, the greatest unit name among them


async def counted(
    conn: AsyncConnection,
    basis: Basis,
    span: DaySpan,
    by: str,
    *,
    statuses: Collection[str] = (),
    kinds: Collection[str] = (),
) -> dict[str, Group]:
    """Submissions in `span` (by the instant `basis` names), grouped by `by` (`unit_id` or `status`).

    Whole days come from the counts, the partial last day from the rows; a submission without a unit
    or kind groups under "".
    """
    whole_days = [c.c.basis == basis, c.c.day < span.end_day]
    if span.first_day is not None:
        whole_days.append(c.c.day >= span.first_day)
    if statuses:
        whole_days.append(c.c.status.in_(statuses))
    if kinds:
        whole_days.append(c.c.kind.in_(kinds))
    column = c.c[by]
    parts = [select(column, func.sum(c.c.count), func.max(c.c.unit_name)).where(*whole_days).group_by(column)]
    if span.rows_from is not None:
        at = f.c.occurred_at if basis == "occurred" else f.c.received_at
        rows = [at >= span.rows_from, at <= span.end if span.end_inclusive else at < span.end]
        if statuses:
            rows.append(f.c.status.in_(statuses))
        if kinds:
            rows.append(f.c.kind.in_(kinds))
        raw = func.coalesce(f.c[by], "")
        parts.append(select(raw, func.count(), func.max(f.c.unit_name)).where(and_(*rows)).group_by(raw))
    groups: dict[str, Group] = {}
    for part in parts:
        for group, n, name in await conn.execute(part):
            count, greatest = groups.get(group, (0, None))
            names = [each for each in (greatest, name) if each is not None]
            groups[group] = (count + int(n), max(names) if names else None)
    return groups
