"""The tasks use cases on a real database, without the bus: batches, as-of judgements, SQL vs the rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from duban_contracts.events import (
    ActivityRecorded,
    MeasurementRecorded,
    ProgressMode,
    ProgressRecorded,
    UnitRef,
    derived_event_id,
)
from duban_contracts.plan import TargetKind, load_plan
from duban_contracts.subjects import Subjects
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_tasks.adapters import repository as repo
from duban_tasks.adapters import tables
from duban_tasks.app import MIGRATIONS
from duban_tasks.domain.progress import ProgressEntry, combined_total
from duban_tasks.domain.status import SHANGHAI, as_of_end_of_day
from duban_tasks.usecases.tracking import Tracker

PLAN = load_plan()
SCHOOLS = [UnitRef(id=f"school-{n}", name=f"学校{n}") for n in range(4)]


async def make_tracker(url: str) -> Tracker:
    db = Database(url, schema="unused", service="tasks")
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
            day = placed.due
            at = local(day.isoformat())
            events.append(
                ActivityRecorded(
                    event_id=derived_event_id("tracker-a", n := n + 1),
                    occurred_at=at,
                    recorded_at=at,
                    source="sec-office",
                    unit=SCHOOLS[0],
                    activity=target.metric,
                    target_id=target.id,
                )
            )
        elif target.kind is TargetKind.PERIODIC:
            for month in ("03", "06", "12"):  # the third quarter's meeting is missed
                at = local(f"2023-{month}-15")
                events.append(
                    ActivityRecorded(
                        event_id=derived_event_id("tracker-a", n := n + 1),
                        occurred_at=at,
                        recorded_at=at,
                        source="sec-office",
                        unit=SCHOOLS[0],
                        activity=target.metric,
                        target_id=target.id,
                    )
                )
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
        await apply(chosen)  # type: ignore[operator]
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
