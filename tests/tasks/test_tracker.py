"""The tasks use cases on a real database, without the bus: batches, as-of judgements, SQL vs the rule."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, text

from duban_contracts.events import (
    ActivityRecorded,
    MeasurementRecorded,
    ProgressMode,
    ProgressRecorded,
    UnitRef,
    derived_event_id,
)
from duban_contracts.plan import Target, TargetKind, load_plan
from duban_contracts.subjects import Subjects
from duban_contracts.timezone import SHANGHAI
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_tasks.adapters import repository as repo
from duban_tasks.adapters import tables
from duban_tasks.app import MIGRATIONS
from duban_tasks.domain.progress import (
    ProgressEntry,
    SourceSummary,
    combined_total,
    fold,
    latest_rate,
    source_total,
)
from duban_tasks.domain.status import as_of_end_of_day, evaluate
from duban_tasks.usecases.tracking import Tracker

PLAN = load_plan()
SCHOOLS = [UnitRef(id=f"school-{n}", name=f"学校{n}") for n in range(4)]


async def make_tracker(url: str) -> Tracker:
    return await make_tracker_on(Database(url, schema="unused", service="tasks"))


@pytest.fixture
async def tracker(tmp_path: Path) -> AsyncIterator[Tracker]:
    made = await make_tracker(f"sqlite:///{tmp_path}/tasks.db")
    yield made
    await made.db.dispose()


def local(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def progress(
    n: int, target: str, value: float, day: str, *, unit: UnitRef = SCHOOLS[0], mode: str = "increment"
) -> ProgressRecorded:
    at = local(day)
    return ProgressRecorded(
        event_id=derived_event_id("tracker", n),
        occurred_at=at,
        recorded_at=at,
        source=unit.id,
        unit=unit,
        target_id=target,
        value=value,
        measure_unit=PLAN.target(target).target.unit,
        mode=ProgressMode(mode),
    )


async def test_a_batch_with_many_reports_for_one_target_commits_once_with_one_change_per_level(
    tracker: Tracker,
) -> None:
    batch = [progress(n, "t07_sports_ground_new", 100, "2023-03-01") for n in range(50)]
    await tracker.record_progress(batch)
    async with tracker.db.read() as conn:
        staged = await conn.scalar(select(func.count()).select_from(tables.outbox))
        applied = await conn.scalar(select(func.count()).select_from(tables.inbox))
    assert applied == 50
    assert staged == 4  # the target, its task, its section and the plan changed once each
    judgement = await tracker.judge(as_of_end_of_day(date(2023, 3, 1)))
    assert judgement.targets["t07_sports_ground_new"].actual == 5000


# --- every target as of 2023-06-30 and 2023-12-31, for a fixed event set ---------------------------

#: How far each kind of additive target gets, by target id's position: the fixed event set.
SHARES_BY_JUNE = (1.0, 0.4, 0.1, 0.0)  # met / behind / far behind / never reported
SHARES_BY_DECEMBER = (1.0, 1.0, 0.3, 0.0)


def activity(event_no: int, target: Target, at: datetime) -> ActivityRecorded:
    return ActivityRecorded(
        event_id=derived_event_id("tracker-a", event_no),
        occurred_at=at,
        recorded_at=at,
        source="sec-office",
        unit=SCHOOLS[0],
        activity=target.metric,
        target_id=target.id,
    )


def fixed_events() -> list[object]:
    """Progress, activities and measurements for every target, in four fates (see SHARES_*)."""
    events: list[object] = []
    n = 0
    for index, placed in enumerate(PLAN.placed_targets()):
        target, fate = placed.target, index % 4
        if target.kind in (TargetKind.CUMULATIVE_COUNT, TargetKind.LEVEL):
            june, december = target.value * SHARES_BY_JUNE[fate], target.value * SHARES_BY_DECEMBER[fate]
            if june:
                events.append(progress(n := n + 1, target.id, june, "2023-06-20"))
            if december > june:
                events.append(progress(n := n + 1, target.id, december - june, "2023-11-30"))
        elif target.kind in (TargetKind.RATIO, TargetKind.COVERAGE, TargetKind.GROWTH):
            if fate in (0, 1):
                day_reached = "2023-06-20" if fate == 0 else "2023-11-30"
                events.append(progress(n := n + 1, target.id, target.value, day_reached, mode="cumulative"))
        elif target.kind is TargetKind.DATED_EVENT and fate != 3:
            events.append(activity(n := n + 1, target, local(placed.due.isoformat())))
        elif target.kind is TargetKind.PERIODIC:
            for month in ("03", "06", "12"):  # the third quarter's meeting is missed
                events.append(activity(n := n + 1, target, local(f"2023-{month}-15")))
        elif target.kind is TargetKind.CONSTRAINT:
            caps = target.comparator.value in ("<=", "<")  # 班额 ≤ 55 is a cap; 运动 ≥ 60 minutes a floor
            broken = fate == 0
            value = target.value + ((3 if broken else -5) if caps else (-5 if broken else 3))
            at = local("2023-09-01")
            events.append(
                MeasurementRecorded(
                    event_id=derived_event_id("tracker-m", n := n + 1),
                    occurred_at=at,
                    recorded_at=at,
                    source=SCHOOLS[1].id,
                    unit=SCHOOLS[1],
                    metric="m",
                    metric_zh=target.metric,
                    target_id=target.id,
                    value=value,
                    measure_unit=target.unit,
                    class_name="七年级1班",
                )
            )
    return events


def additive_status(share: float, expected: float, due: date, as_of: date) -> str:
    """What the supervision rule says for an additive `>=` target at `as_of`."""
    if share >= 1.0:
        return "done"
    if due < as_of:
        return "overdue"
    if expected <= 0.1:
        return "on_track" if share else "not_started"
    pace = share / expected
    return "on_track" if pace >= 0.9 else "lagging" if pace >= 0.7 else "critical"


async def test_every_target_has_the_expected_status_as_of_june_and_december(tracker: Tracker) -> None:
    events = fixed_events()
    for kind in (ProgressRecorded, ActivityRecorded, MeasurementRecorded):
        chosen = [e for e in events if isinstance(e, kind)]
        apply = {
            ProgressRecorded: tracker.record_progress,
            ActivityRecorded: tracker.record_activities,
            MeasurementRecorded: tracker.record_measurements,
        }[kind]
        await apply(chosen)
    june = await tracker.judge(as_of_end_of_day(date(2023, 6, 30)))
    december = await tracker.judge(as_of_end_of_day(date(2023, 12, 31)))

    june_day, december_day = date(2023, 6, 30), date(2023, 12, 31)
    checked = 0
    for index, placed in enumerate(PLAN.placed_targets()):
        target, fate = placed.target, index % 4
        in_june = june.targets[target.id].status.value
        in_december = december.targets[target.id].status.value
        if target.kind in (TargetKind.CUMULATIVE_COUNT, TargetKind.LEVEL) and target.comparator.value == ">=":
            expected_june = june.targets[target.id].expected
            expected_december = december.targets[target.id].expected
            assert in_june == additive_status(SHARES_BY_JUNE[fate], expected_june, placed.due, june_day), target.id
            assert in_december == additive_status(
                SHARES_BY_DECEMBER[fate], expected_december, placed.due, december_day
            ), target.id
            checked += 1
        elif target.kind in (TargetKind.RATIO, TargetKind.COVERAGE, TargetKind.GROWTH):
            assert in_june == (
                "done" if fate == 0 else ("overdue" if placed.due < date(2023, 6, 30) else "not_started")
            ), target.id
            assert in_december == (
                "done" if fate in (0, 1) else ("overdue" if placed.due < date(2023, 12, 31) else "not_started")
            ), target.id
            checked += 1
        elif target.kind is TargetKind.DATED_EVENT:
            if fate != 3:
                assert in_december == "done", target.id
                assert in_june == ("done" if placed.due <= date(2023, 6, 30) else "not_started"), target.id
            else:
                assert in_december == ("overdue" if placed.due < date(2023, 12, 31) else "not_started"), target.id
            checked += 1
        elif target.kind is TargetKind.PERIODIC:
            assert (in_june, in_december) == ("on_track", "critical"), target.id  # Q3 missed
            checked += 1
        elif target.kind is TargetKind.CONSTRAINT:
            assert in_december == ("critical" if fate == 0 else "on_track"), target.id
            checked += 1
    assert checked >= 70  # nearly every target of the plan is covered by the table above
    assert june.plan.counts and december.plan.counts


# --- the SQL aggregation is the domain rule ----------------------------------------------------

entries = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),  # source
        st.sampled_from(["increment", "cumulative"]),
        st.integers(min_value=0, max_value=1000),  # value
        st.integers(min_value=0, max_value=40),  # day of the year
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=entries, cut=st.integers(min_value=0, max_value=41))
def test_the_sql_total_equals_the_domain_rule_for_any_reports(
    tmp_path: Path, rows: list[tuple[str, str, int, int]], cut: int
) -> None:
    async def check() -> None:
        db = Database(f"sqlite:///{tmp_path}/agg-{abs(hash((tuple(rows), cut)))}.db", schema="x", service="tasks")
        await db.migrate(MIGRATIONS)
        start = datetime(2023, 1, 1, tzinfo=UTC)
        domain_entries = [
            ProgressEntry(f"e{i}", "t07_sports_ground_new", src, mode, float(value), start + timedelta(days=day))  # type: ignore[arg-type]
            for i, (src, mode, value, day) in enumerate(rows)
        ]
        async with db.begin() as conn:
            await repo.insert_rows(
                conn,
                tables.progress,
                [
                    {
                        "event_id": e.event_id,
                        "target_id": e.target_id,
                        "source": e.source,
                        "mode": e.mode,
                        "value": e.value,
                        "occurred_at": e.occurred_at,
                        "submission_id": None,
                    }
                    for e in domain_entries
                ],
            )
            as_of = start + timedelta(days=cut)
            facts = await repo.load_facts(conn, PLAN, ["t07_sports_ground_new"], as_of)
        await db.drop_schema()
        assert facts["t07_sports_ground_new"].actual == pytest.approx(combined_total(domain_entries, as_of))

    asyncio.run(check())


# --- the kept summaries are the history ------------------------------------------------------------

SUMMARISED_TARGETS = ("t07_sports_ground_new", "t31_hitech_total", "t02_party_org_coverage", "t10_class_size_max")


@settings(max_examples=300, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b"]),
                st.sampled_from(["increment", "cumulative"]),
                st.integers(min_value=0, max_value=100),
                st.integers(min_value=0, max_value=6),
            ),
            max_size=6,
        ),
        max_size=6,
    )
)
def test_folding_reports_in_any_order_and_batches_gives_the_rule(
    batches: list[list[tuple[str, str, int, int]]],
) -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    seen: list[ProgressEntry] = []
    summaries: dict[str, SourceSummary] = {}
    for b, batch in enumerate(batches):
        added = [
            ProgressEntry(f"e{b}-{i}", "t", src, mode, float(value), start + timedelta(days=day))  # type: ignore[arg-type]
            for i, (src, mode, value, day) in enumerate(batch)
        ]
        seen += added
        for src in {e.source for e in added}:
            folded, recount = fold(summaries.get(src, SourceSummary()), [e for e in added if e.source == src])
            if recount:  # what the repository asks the database for
                after = folded.cumulative_at
                assert after is not None
                increments = sum(
                    e.value for e in seen if e.source == src and e.mode == "increment" and e.occurred_at > after
                )
                folded = replace(folded, increments=increments)
            summaries[src] = folded
    for src, summary in summaries.items():
        mine = [e for e in seen if e.source == src]
        assert summary.total == source_total(mine)
        assert summary.reports == len(mine)
        assert summary.latest is not None and summary.latest[2] == latest_rate(mine)


def measurement(n: int, target: str, group: int, value: float, at: datetime) -> MeasurementRecorded:
    return MeasurementRecorded(
        event_id=derived_event_id("tracker-m", n),
        occurred_at=at,
        recorded_at=at,
        source=SCHOOLS[group].id,
        unit=SCHOOLS[group],
        metric="m",
        metric_zh="班额",
        target_id=target,
        value=value,
        measure_unit="人",
        class_name="七年级1班",
    )


def shuffled_events(rows: list[tuple[int, int, str, int, int]]) -> list[ProgressRecorded | MeasurementRecorded]:
    """Reports on the summarised targets, in the order drawn (so out of time order)."""
    start = datetime(2023, 3, 1, tzinfo=UTC)
    made: list[ProgressRecorded | MeasurementRecorded] = []
    for n, (target_no, school, mode, value, hours) in enumerate(rows):
        target, at = SUMMARISED_TARGETS[target_no], start + timedelta(hours=hours)
        if PLAN.target(target).target.kind is TargetKind.CONSTRAINT:
            made.append(measurement(n, target, school, float(value % 70), at))
            continue
        event = progress(n, target, float(value), "2023-03-01", unit=SCHOOLS[school], mode=mode)
        made.append(event.model_copy(update={"occurred_at": at, "recorded_at": at}))
    return made


async def facts_both_ways(db: Database, as_of: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    async with db.read() as conn:
        kept = await repo.load_facts(conn, PLAN, SUMMARISED_TARGETS, as_of, current=True)
        history = await repo.load_facts(conn, PLAN, SUMMARISED_TARGETS, as_of)
    return kept, history


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """A fresh database per call: a SQLite file, or a PostgreSQL schema (the URL's fragment)."""
    made = iter(range(1_000_000))
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path}/tasks-{next(made)}.db"
    url = str(request.getfixturevalue("postgres_url"))
    return lambda: f"{url}#t{uuid.uuid4().hex[:10]}"


def open_database(address: str) -> Database:
    url, _, schema = address.partition("#")
    return Database(url, schema=schema or "unused", service="tasks")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(SUMMARISED_TARGETS) - 1),
            st.integers(min_value=0, max_value=2),  # school
            st.sampled_from(["increment", "cumulative"]),
            st.integers(min_value=0, max_value=200),  # value
            st.integers(min_value=0, max_value=12),  # hours after the start: many ties
        ),
        max_size=30,
    ),
    cuts=st.lists(st.integers(min_value=1, max_value=30), max_size=4),
)
@example(  # a cumulative report older than increments already kept: those after it are recounted
    rows=[
        (0, 0, "increment", 5, 5),
        (0, 0, "increment", 7, 1),
        (0, 0, "cumulative", 100, 3),
        (0, 0, "increment", 2, 4),
    ],
    cuts=[2],
)
def test_judging_from_the_kept_summaries_equals_judging_from_the_history(
    database: Callable[[], str], rows: list[tuple[int, int, str, int, int]], cuts: list[int]
) -> None:
    async def check() -> None:
        tracker = await make_tracker_on(open_database(database()))
        try:
            events = shuffled_events(rows)
            bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
            for low, high in pairwise(bounds):  # batches of arbitrary sizes, each out of order
                batch = events[low:high]
                await tracker.record_progress([e for e in batch if isinstance(e, ProgressRecorded)])
                await tracker.record_measurements([e for e in batch if isinstance(e, MeasurementRecorded)])
            async with tracker.db.read() as conn:
                now = await repo.clock_now(conn)
            assert now is not None
            kept, history = await facts_both_ways(tracker.db, now)
            assert kept == history
            entries = [
                ProgressEntry(e.event_id, e.target_id, e.unit.id, e.mode.value, e.value, e.occurred_at)
                for e in events
                if isinstance(e, ProgressRecorded)
            ]
            for target in ("t07_sports_ground_new", "t31_hitech_total"):
                assert kept[target].actual == combined_total(e for e in entries if e.target_id == target)
            assert kept["t02_party_org_coverage"].actual == latest_rate(
                e for e in entries if e.target_id == "t02_party_org_coverage"
            )
            judgement = await tracker.judge(None)  # from the summaries, the clock not having moved
            for target in SUMMARISED_TARGETS:
                from_history = evaluate(PLAN.target(target), history[target], now, PLAN.year_start)
                assert judgement.targets[target] == from_history
        finally:
            await tracker.db.drop_schema()
            await tracker.db.dispose()

    asyncio.run(check())


async def make_tracker_on(db: Database) -> Tracker:
    await db.migrate(MIGRATIONS)
    tracker = Tracker(
        plan=PLAN,
        db=db,
        inbox=Inbox(tables.inbox),
        outbox=Outbox(tables.outbox),
        subjects=Subjects(),
        metrics=ServiceMetrics("tasks"),
    )
    await tracker.load_plan()
    return tracker


def upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_migration_summarises_the_facts_stored_before_it(database: Callable[[], str]) -> None:
    db = open_database(database())
    try:
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            await conn.run_sync(upgrade_to, "0001")
        start = datetime(2023, 3, 1, tzinfo=UTC)
        rows = [  # (target, source, mode, value, hours after the start), out of order, with ties
            ("t07_sports_ground_new", "a", "increment", 5.0, 9),
            ("t07_sports_ground_new", "a", "cumulative", 100.0, 5),
            ("t07_sports_ground_new", "a", "cumulative", 120.0, 5),
            ("t07_sports_ground_new", "a", "increment", 7.0, 2),
            ("t07_sports_ground_new", "b", "increment", 3.0, 1),
            ("t07_sports_ground_new", "b", "increment", 4.0, 8),
            ("t31_hitech_total", "a", "cumulative", 12.0, 3),
            ("t02_party_org_coverage", "a", "cumulative", 0.5, 7),
            ("t02_party_org_coverage", "b", "cumulative", 0.7, 7),
            ("t02_party_org_coverage", "b", "increment", 0.2, 4),
        ]
        async with db.begin() as conn:
            await repo.insert_rows(
                conn,
                tables.progress,
                [
                    {
                        "event_id": f"e{n}",
                        "target_id": target,
                        "source": source,
                        "mode": mode,
                        "value": value,
                        "occurred_at": start + timedelta(hours=hours),
                        "submission_id": None,
                    }
                    for n, (target, source, mode, value, hours) in enumerate(rows)
                ],
            )
            await repo.insert_rows(
                conn,
                tables.measurements,
                [
                    {
                        "event_id": f"m{n}",
                        "target_id": "t10_class_size_max",
                        "group_key": group,
                        "value": value,
                        "occurred_at": start + timedelta(hours=hours),
                    }
                    for n, (group, value, hours) in enumerate([("x", 50.0, 3), ("x", 60.0, 1), ("y", 58.0, 2)])
                ],
            )
        await db.migrate(MIGRATIONS)
        kept, history = await facts_both_ways(db, start + timedelta(days=1))
        assert kept == history
        assert kept["t07_sports_ground_new"].actual == 120 + 5 + 3 + 4
        assert kept["t02_party_org_coverage"].actual == 0.7
        assert (kept["t10_class_size_max"].measured_groups, kept["t10_class_size_max"].violating_groups) == (2, 1)
    finally:
        await db.drop_schema()
        await db.dispose()
