"""SQL for the tasks service: store facts, aggregate them per target, keep the last published states.

Two ways to a target's facts, held to each other by tests:

- as of any time, aggregation in the database over the stored facts (one GROUP BY per kind of
  target), restricted to the targets asked for; `duban_tasks.domain.progress` is the same rule in
  Python, and a test holds the two to each other;
- at the service's now (`current=True`), the summaries `summarise_progress` and
  `summarise_measurements` keep per (target, source) and (target, group) in the transaction that
  stores the facts: reading them costs the same however long the history.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.plan import Comparator, Plan
from duban_kit.db import insert_all, insert_missing, moved_forward, one_of, upsert

from ..domain.progress import ProgressEntry, SourceSummary, fold
from ..domain.status import ACTIVITY_KINDS, ADDITIVE_KINDS, RATE_KINDS, TargetFacts
from . import tables as t

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredStatus:
    status: str
    completion: float
    expected: float
    actual: float | None
    revision: int = 0


async def save_plan(conn: AsyncConnection, plan: Plan, loaded_at: datetime) -> None:
    await conn.execute(delete(t.targets).where(t.targets.c.plan_id == plan.id))
    await conn.execute(delete(t.plans).where(t.plans.c.id == plan.id))
    await conn.execute(
        insert(t.plans).values(
            id=plan.id,
            title=plan.title,
            year=plan.year,
            definition=json.dumps(plan.model_dump(mode="json"), ensure_ascii=False),
            loaded_at=loaded_at,
        )
    )
    rows = [
        {
            "id": p.target.id,
            "plan_id": plan.id,
            "section_no": p.section.no,
            "task_no": p.task.no,
            "kind": p.target.kind.value,
            "metric": p.target.metric,
            "comparator": p.target.comparator.value,
            "value": p.target.value,
            "unit": p.target.unit,
            "due": p.due.isoformat(),
            "text": p.target.text,
        }
        for p in plan.placed_targets()
    ]
    if rows:
        await conn.execute(insert(t.targets), rows)


async def insert_rows(conn: AsyncConnection, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    await insert_all(conn, table, rows)


async def clock_now(conn: AsyncConnection) -> datetime | None:
    return await conn.scalar(select(t.clock.c.now).where(t.clock.c.id == 1))


async def ensure_clock(conn: AsyncConnection, start: datetime) -> None:
    await insert_missing(conn, t.clock, [{"id": 1, "now": start}], keys=("id",))


@dataclass(frozen=True)
class ClockTurn:
    """A writer's turn on the clock row: the row's generation (None where this turn created the row) and now."""

    generation: int | None
    now: datetime | None


async def take_clock(conn: AsyncConnection, candidate: datetime | None) -> ClockTurn:
    """Serialise writers and move the event-time clock, in one statement.

    Replicas take turns on the clock row (its write lock is held to the commit), so no judgement is
    made on another's uncommitted facts; each turn bumps the row's generation. The clock only moves
    forward: to the newest tick or event time seen."""
    c = t.clock.c
    values: dict[str, Any] = {"generation": c.generation + 1}
    if candidate is not None:
        values["now"] = moved_forward(c.now, candidate)
    taken = await conn.execute(update(t.clock).where(c.id == 1).values(values).returning(c.generation, c.now))
    row = taken.first()
    if row is not None:
        return ClockTurn(row.generation, row.now)
    if candidate is not None:  # no clock row yet
        await conn.execute(insert(t.clock).values(id=1, now=candidate))
    return ClockTurn(None, candidate)


async def load_facts(
    conn: AsyncConnection,
    plan: Plan,
    target_ids: Iterable[str],
    as_of: datetime | None,
    *,
    current: bool = False,
    summarised: Mapping[str, Sequence[SourceFigures]] | None = None,
) -> dict[str, TargetFacts]:
    """Each target's facts as of a time, from the whole history.

    `current=True` reads the kept summaries instead, which is only right when no stored fact is
    later than `as_of`: at or after the service's clock, which every stored fact's time has advanced;
    `summarised` are summaries already in hand (from `summarise_progress`), not read again.
    """
    placed = {p.target.id: p for p in plan.placed_targets()}
    wanted = [tid for tid in dict.fromkeys(target_ids) if tid in placed]
    additive = [tid for tid in wanted if placed[tid].target.kind in ADDITIVE_KINDS]
    rates = [tid for tid in wanted if placed[tid].target.kind in RATE_KINDS]
    constraints = {tid: placed[tid].target for tid in wanted if placed[tid].target.kind.value == "constraint"}
    when = as_of or FAR_FUTURE
    if current:
        totals, latest, reports = await _summarised_progress(conn, additive, rates, summarised or {})
        groups = await _summarised_groups(conn, constraints)
    else:
        totals = await _additive_totals(conn, additive, when)
        latest = await _latest_rates(conn, rates, when)
        reports = await _report_counts(conn, additive + rates, when)
        groups = await _constraint_groups(conn, constraints, when)
    activity = await _activity_times(conn, [tid for tid in wanted if placed[tid].target.kind in ACTIVITY_KINDS], when)
    facts: dict[str, TargetFacts] = {}
    for tid in wanted:
        measured, violating = groups.get(tid, (0, 0))
        facts[tid] = TargetFacts(
            actual=totals.get(tid, 0.0) if tid in additive else latest.get(tid),
            reports=reports.get(tid, 0),
            activity_times=tuple(activity.get(tid, ())),
            measured_groups=measured,
            violating_groups=violating,
        )
    return facts


@dataclass(frozen=True)
class SourceFigures:
    """One (target, source) row of `progress_sources`, as judging reads it."""

    target_id: str
    reports: int
    total: float  # the latest cumulative figure plus later increments
    latest: tuple[datetime, str, float]  # the newest report: time, event id, value


async def _summarised_progress(
    conn: AsyncConnection,
    additive: list[str],
    rates: list[str],
    known: Mapping[str, Sequence[SourceFigures]],
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Totals of additive targets, latest values of rates and report counts, from `progress_sources`
    (for the targets in `known`, from those rows as the batch just wrote them)."""
    unknown = [tid for tid in additive + rates if tid not in known]
    figures = [row for tid in additive + rates for row in known.get(tid, ())]
    if unknown:
        s = t.progress_sources
        query = select(
            s.c.target_id,
            s.c.reports,
            s.c.cumulative_value,
            s.c.increments,
            s.c.latest_at,
            s.c.latest_event_id,
            s.c.latest_value,
        ).where(one_of(conn, s.c.target_id, unknown))
        figures += [
            SourceFigures(
                r.target_id,
                int(r.reports),
                float(r.cumulative_value or 0.0) + float(r.increments),
                (r.latest_at, r.latest_event_id, float(r.latest_value)),
            )
            for r in await conn.execute(query)
        ]
    rate_ids = set(rates)
    totals: dict[str, float] = {}
    newest: dict[str, tuple[datetime, str, float]] = {}
    reports: dict[str, int] = {}
    for row in figures:
        tid = row.target_id
        reports[tid] = reports.get(tid, 0) + row.reports
        if tid in rate_ids:
            if tid not in newest or row.latest[:2] > newest[tid][:2]:
                newest[tid] = row.latest
        else:
            totals[tid] = totals.get(tid, 0.0) + row.total
    return totals, {tid: value for tid, (_, _, value) in newest.items()}, reports


async def _summarised_groups(conn: AsyncConnection, constraints: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    if not constraints:
        return {}
    g = t.measurement_groups
    query = select(g.c.target_id, g.c.value).where(g.c.target_id.in_(list(constraints)))
    return _judge_groups(constraints, await conn.execute(query))


async def summarise_progress(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[SourceFigures]]:
    """Fold newly stored progress rows (already inserted, each once) into `progress_sources`.

    Returns every source's figures of the targets the rows are about, as now written (for
    `load_facts(summarised=…)`: judging them reads nothing again)."""
    if not rows:
        return {}
    s, p = t.progress_sources, t.progress
    added: dict[tuple[str, str], list[ProgressEntry]] = defaultdict(list)
    for row in rows:
        added[(row["target_id"], row["source"])].append(
            ProgressEntry(
                row["event_id"], row["target_id"], row["source"], row["mode"], float(row["value"]), row["occurred_at"]
            )
        )
    kept: dict[tuple[str, str], SourceSummary] = {}
    found = await conn.execute(select(s).where(one_of(conn, s.c.target_id, sorted({tid for tid, _ in added}))))
    for r in found:  # every source of these targets: those not in `rows` are returned as they are
        kept[(r.target_id, r.source)] = SourceSummary(
            int(r.reports),
            r.cumulative_at,
            r.cumulative_value if r.cumulative_value is None else float(r.cumulative_value),
            float(r.increments),
            r.last_increment_at,
            (r.latest_at, r.latest_event_id, float(r.latest_value)),
        )
    folded: dict[tuple[str, str], SourceSummary] = {}
    recount: list[tuple[str, str]] = []
    for key, entries in added.items():
        folded[key], again = fold(kept.get(key, SourceSummary()), entries)
        if again:
            recount.append(key)
    if recount:  # a new cumulative report older than increments recorded before: sum those after it
        after = [
            and_(p.c.target_id == tid, p.c.source == source, p.c.occurred_at > folded[(tid, source)].cumulative_at)
            for tid, source in recount
        ]
        query = (
            select(p.c.target_id, p.c.source, func.sum(p.c.value))
            .where(p.c.mode == "increment", or_(*after))
            .group_by(p.c.target_id, p.c.source)
        )
        sums = {(tid, source): float(total or 0.0) for tid, source, total in await conn.execute(query)}
        for key in recount:
            folded[key] = replace(folded[key], increments=sums.get(key, 0.0))
    await upsert(
        conn,
        s,
        [
            {
                "target_id": tid,
                "source": source,
                "reports": summary.reports,
                "cumulative_at": summary.cumulative_at,
                "cumulative_value": summary.cumulative_value,
                "increments": summary.increments,
                "last_increment_at": summary.last_increment_at,
                "latest_at": summary.latest[0],
                "latest_event_id": summary.latest[1],
                "latest_value": summary.latest[2],
            }
            for (tid, source), summary in folded.items()
            if summary.latest is not None
        ],
        keys=("target_id", "source"),
    )
    written = kept | folded
    figures: dict[str, list[SourceFigures]] = defaultdict(list)
    for (tid, _), summary in written.items():
        if summary.latest is not None:
            figures[tid].append(SourceFigures(tid, summary.reports, summary.total, summary.latest))
    return figures


async def summarise_measurements(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep each (target, group)'s latest measurement in `measurement_groups` (ties by event id, as SQL)."""
    if not rows:
        return
    g = t.measurement_groups
    newest: dict[tuple[str, str], tuple[datetime, str, float]] = {}
    for row in rows:
        key = (row["target_id"], row["group_key"])
        candidate = (row["occurred_at"], row["event_id"], float(row["value"]))
        if key not in newest or candidate[:2] > newest[key][:2]:
            newest[key] = candidate
    found = await conn.execute(
        select(g.c.target_id, g.c.group_key, g.c.occurred_at, g.c.event_id).where(
            one_of(conn, g.c.target_id, sorted({tid for tid, _ in newest}))
        )
    )
    for tid, group_key, occurred_at, event_id in found:
        key = (tid, group_key)
        if key in newest and (occurred_at, event_id) >= newest[key][:2]:
            del newest[key]  # what is kept is newer
    await upsert(
        conn,
        g,
        [
            {"target_id": tid, "group_key": group_key, "occurred_at": at, "event_id": event_id, "value": value}
            for (tid, group_key), (at, event_id, value) in newest.items()
        ],
        keys=("target_id", "group_key"),
    )


async def _additive_totals(conn: AsyncConnection, target_ids: list[str], as_of: datetime) -> dict[str, float]:
    """Per source: the latest cumulative figure plus later increments; summed over sources."""
    if not target_ids:
        return {}
    p = t.progress
    in_scope = and_(p.c.target_id.in_(target_ids), p.c.occurred_at <= as_of)
    latest = (
        select(p.c.target_id, p.c.source, func.max(p.c.occurred_at).label("at"))
        .where(in_scope, p.c.mode == "cumulative")
        .group_by(p.c.target_id, p.c.source)
        .subquery("latest")
    )
    base = (
        select(p.c.target_id, p.c.source, func.max(p.c.value).label("value"))
        .join(latest, and_(p.c.target_id == latest.c.target_id, p.c.source == latest.c.source))
        .where(p.c.mode == "cumulative", p.c.occurred_at == latest.c.at)
        .group_by(p.c.target_id, p.c.source)
    )
    increments = (
        select(p.c.target_id, p.c.source, func.sum(p.c.value).label("value"))
        .outerjoin(latest, and_(p.c.target_id == latest.c.target_id, p.c.source == latest.c.source))
        .where(in_scope, p.c.mode == "increment", or_(latest.c.at.is_(None), p.c.occurred_at > latest.c.at))
        .group_by(p.c.target_id, p.c.source)
    )
    parts = union_all(base, increments).subquery("parts")
    query = select(parts.c.target_id, func.sum(parts.c.value)).group_by(parts.c.target_id)
    return {row[0]: float(row[1] or 0.0) for row in await conn.execute(query)}


async def _latest_rates(conn: AsyncConnection, target_ids: list[str], as_of: datetime) -> dict[str, float]:
    if not target_ids:
        return {}
    p = t.progress
    ranked = (
        select(
            p.c.target_id,
            p.c.value,
            func.row_number()
            .over(partition_by=p.c.target_id, order_by=(p.c.occurred_at.desc(), p.c.event_id.desc()))
            .label("rank"),
        )
        .where(p.c.target_id.in_(target_ids), p.c.occurred_at <= as_of)
        .subquery("ranked")
    )
    query = select(ranked.c.target_id, ranked.c.value).where(ranked.c.rank == 1)
    return {row[0]: float(row[1]) for row in await conn.execute(query)}


async def _report_counts(conn: AsyncConnection, target_ids: list[str], as_of: datetime) -> dict[str, int]:
    if not target_ids:
        return {}
    p = t.progress
    query = (
        select(p.c.target_id, func.count())
        .where(p.c.target_id.in_(target_ids), p.c.occurred_at <= as_of)
        .group_by(p.c.target_id)
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def _activity_times(conn: AsyncConnection, target_ids: list[str], as_of: datetime) -> dict[str, list[datetime]]:
    if not target_ids:
        return {}
    a = t.activities
    query = (
        select(a.c.target_id, a.c.occurred_at)
        .where(a.c.target_id.in_(target_ids), a.c.occurred_at <= as_of)
        .order_by(a.c.occurred_at)
    )
    found: dict[str, list[datetime]] = defaultdict(list)
    for target_id, occurred_at in await conn.execute(query):
        found[target_id].append(occurred_at)
    return found


async def _constraint_groups(
    conn: AsyncConnection, constraints: Mapping[str, Any], as_of: datetime
) -> dict[str, tuple[int, int]]:
    """(groups measured, groups whose latest measurement breaks the constraint) per target."""
    if not constraints:
        return {}
    m = t.measurements
    ranked = (
        select(
            m.c.target_id,
            m.c.value,
            func.row_number()
            .over(partition_by=(m.c.target_id, m.c.group_key), order_by=(m.c.occurred_at.desc(), m.c.event_id.desc()))
            .label("rank"),
        )
        .where(m.c.target_id.in_(list(constraints)), m.c.occurred_at <= as_of)
        .subquery("ranked")
    )
    return _judge_groups(
        constraints, await conn.execute(select(ranked.c.target_id, ranked.c.value).where(ranked.c.rank == 1))
    )


def _judge_groups(constraints: Mapping[str, Any], latest: Iterable[Any]) -> dict[str, tuple[int, int]]:
    """(groups measured, groups breaking the constraint) per target, from each group's latest value."""
    result: dict[str, tuple[int, int]] = {}
    for target_id, value in latest:
        target = constraints[target_id]
        comparator: Comparator = target.comparator
        measured, violating = result.get(target_id, (0, 0))
        result[target_id] = (measured + 1, violating + (0 if comparator.holds(float(value), target.value) else 1))
    return result


async def load_status(conn: AsyncConnection) -> dict[tuple[str, str], StoredStatus]:
    s = t.status
    rows = await conn.execute(
        select(s.c.level, s.c.ref, s.c.status, s.c.completion, s.c.expected, s.c.actual, s.c.revision)
    )
    return {(r.level, r.ref): StoredStatus(r.status, r.completion, r.expected, r.actual, r.revision) for r in rows}


async def save_status(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], known: set[tuple[str, str]]) -> None:
    """Two statements whatever the number of rows: one update of the known ones, one insert of the new."""
    s = t.status
    updates = [
        {"key_level": r["level"], "key_ref": r["ref"], **{k: v for k, v in r.items() if k not in ("level", "ref")}}
        for r in rows
        if (r["level"], r["ref"]) in known
    ]
    inserts = [dict(r) for r in rows if (r["level"], r["ref"]) not in known]
    if updates:
        values: dict[str, Any] = {c.name: bindparam(c.name) for c in s.columns if c.name not in ("level", "ref")}
        where = (s.c.level == bindparam("key_level"), s.c.ref == bindparam("key_ref"))
        await conn.execute(update(s).where(*where).values(values), updates)
    if inserts:
        await conn.execute(insert(s), inserts)
