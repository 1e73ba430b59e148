from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban_reports.domain.periods import REPORT_TZ, ReportKind, local_midnight, parse_period
from duban_reports.domain.schedule import (
    DueReport,
    ReportSchedule,
    ScheduleEntry,
    default_schedule,
    due_reports,
    next_due_at,
)

YEAR_START = local_midnight(date(2023, 1, 1))
YEAR_END = local_midnight(date(2024, 1, 1))

EXPECTED_2023_KEYS = {
    ReportKind.WEEKLY: {"2022-W52", *(f"2023-W{n:02d}" for n in range(1, 53))},
    ReportKind.MONTHLY: {f"2023-{n:02d}" for n in range(1, 13)},
    ReportKind.QUARTERLY: {f"2023-Q{n}" for n in range(1, 5)},
    ReportKind.ANNUAL: {"2023"},
}


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=REPORT_TZ)


def _replay(schedule: ReportSchedule, ticks: list[datetime]) -> list[DueReport]:
    produced: list[DueReport] = []
    last = ticks[0]
    for now in ticks[1:]:
        produced.extend(due_reports(schedule, last, now))
        last = now
    return produced


def _irregular_ticks(seed: int, start: datetime, end: datetime) -> list[datetime]:
    rng = random.Random(seed)
    ticks, now = [start], start
    while now < end:
        now = min(end, now + timedelta(minutes=rng.choice([1, 7, 59, 60, 61, 480, 1439, 1440, 4000, 20000])))
        ticks.append(now)
    return ticks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_replayed_plan_year_produces_each_report_of_the_year_exactly_once(seed: int) -> None:
    produced = _replay(default_schedule(2023), _irregular_ticks(seed, YEAR_START, YEAR_END))

    assert Counter((r.kind, r.period.key) for r in produced).most_common(1)[0][1] == 1
    by_kind = {kind: {r.period.key for r in produced if r.kind is kind} for kind in EXPECTED_2023_KEYS}
    assert by_kind == EXPECTED_2023_KEYS
    assert Counter(r.kind for r in produced) == {
        ReportKind.WEEKLY: 53,
        ReportKind.MONTHLY: 12,
        ReportKind.QUARTERLY: 4,
        ReportKind.ANNUAL: 1,
    }


def test_running_past_the_year_end_produces_nothing_more_for_the_plan_year() -> None:
    schedule = default_schedule(2023)

    after = due_reports(schedule, YEAR_END, YEAR_END + timedelta(days=60))

    assert after == []


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=365 * 24 * 60 - 1), max_size=40))
def test_how_the_clock_ticks_does_not_change_which_reports_come_out_or_when(cuts: list[int]) -> None:
    schedule = default_schedule(2023)
    ticks = [YEAR_START, *sorted(YEAR_START + timedelta(minutes=m) for m in set(cuts)), YEAR_END]

    assert _replay(schedule, ticks) == due_reports(schedule, YEAR_START, YEAR_END)


def test_monday_0800_brings_the_previous_iso_weeks_report() -> None:
    schedule = default_schedule()
    monday_8 = _local(2023, 6, 12, 8, 0)

    due = due_reports(schedule, monday_8 - timedelta(minutes=1), monday_8)

    assert due == [DueReport(ReportKind.WEEKLY, parse_period("2023-W23"), monday_8.astimezone(UTC))]


def test_the_first_of_july_brings_junes_report_and_the_second_quarters() -> None:
    schedule = default_schedule(2023)

    due = due_reports(schedule, _local(2023, 7, 1, 7, 0), _local(2023, 7, 1, 9, 0))

    assert [(r.kind, r.period.key) for r in due] == [
        (ReportKind.MONTHLY, "2023-06"),
        (ReportKind.QUARTERLY, "2023-Q2"),
    ]


def test_a_tick_already_evaluated_is_not_evaluated_again() -> None:
    schedule = default_schedule(2023)
    monday_8 = _local(2023, 6, 12, 8, 0)

    assert due_reports(schedule, monday_8, monday_8 + timedelta(hours=1)) == []
    assert due_reports(schedule, monday_8, monday_8) == []


def test_the_year_end_reports_come_out_when_the_plan_year_closes() -> None:
    due = due_reports(default_schedule(2023), YEAR_END - timedelta(minutes=1), YEAR_END)

    assert {(r.kind, r.period.key) for r in due} == {
        (ReportKind.WEEKLY, "2023-W52"),
        (ReportKind.MONTHLY, "2023-12"),
        (ReportKind.QUARTERLY, "2023-Q4"),
        (ReportKind.ANNUAL, "2023"),
    }
    assert {r.scheduled_at for r in due} == {datetime(2023, 12, 31, 16, 0, tzinfo=UTC)}


def test_without_a_plan_year_the_year_end_reports_wait_for_the_new_years_tick() -> None:
    schedule = default_schedule()

    at_midnight = due_reports(schedule, YEAR_END - timedelta(minutes=1), YEAR_END)
    at_eight = due_reports(schedule, YEAR_END, _local(2024, 1, 1, 8, 0))

    assert at_midnight == []
    assert {(r.kind, r.period.key) for r in at_eight} == {
        (ReportKind.WEEKLY, "2023-W52"),
        (ReportKind.MONTHLY, "2023-12"),
        (ReportKind.QUARTERLY, "2023-Q4"),
        (ReportKind.ANNUAL, "2023"),
    }


def test_a_current_period_entry_reports_the_week_the_tick_falls_in_up_to_the_tick() -> None:
    friday_5pm = _local(2023, 6, 9, 17, 0)
    schedule = ReportSchedule((ScheduleEntry(ReportKind.WEEKLY, "0 17 * * 5", covers="current"),))

    (report,) = due_reports(schedule, friday_5pm - timedelta(hours=1), friday_5pm)

    assert report.period.key == "2023-W23"
    assert report.as_of == friday_5pm.astimezone(UTC)


def test_a_previous_period_report_is_as_of_the_periods_end() -> None:
    monday_8 = _local(2023, 6, 12, 8, 0)

    (report,) = due_reports(default_schedule(2023), monday_8 - timedelta(hours=1), monday_8)

    assert report.as_of == parse_period("2023-W23").end


def test_cron_is_read_in_asia_shanghai() -> None:
    eight_local = _local(2023, 6, 12, 8, 0)

    (report,) = due_reports(
        default_schedule(), datetime(2023, 6, 11, 23, 0, tzinfo=UTC), datetime(2023, 6, 12, 1, 0, tzinfo=UTC)
    )

    assert report.scheduled_at == eight_local.astimezone(UTC) == datetime(2023, 6, 12, 0, 0, tzinfo=UTC)


def test_next_due_at_names_the_first_instant_a_report_falls_due() -> None:
    schedule = default_schedule(2023)

    first = next_due_at(schedule, YEAR_START)

    assert first == _local(2023, 1, 2, 8, 0).astimezone(UTC)
    assert due_reports(schedule, YEAR_START, first - timedelta(seconds=1)) == []
    assert due_reports(schedule, YEAR_START, first) != []


def test_next_due_at_skips_ticks_whose_period_lies_outside_the_plan_year() -> None:
    # 1 January 2024 08:00 would report on December 2023 and on 2023-W52: not the 2024 plan's business.
    assert next_due_at(default_schedule(2024), _local(2023, 12, 31, 0, 0)) == _local(2024, 1, 8, 8, 0).astimezone(UTC)
    assert next_due_at(default_schedule(2023), YEAR_END) is None


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_reports(default_schedule(), datetime(2023, 1, 1), datetime(2023, 2, 1))


@pytest.mark.parametrize(
    ("kind", "cron"),
    [(ReportKind.WEEKLY, "every monday"), (ReportKind.WEEKLY, "0 25 * * 1"), (ReportKind.ADHOC, "0 8 * * 1")],
)
def test_a_schedule_entry_needs_a_valid_cron_and_a_scheduled_kind(kind: ReportKind, cron: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - both faults are ValueErrors with their own message
        ScheduleEntry(kind, cron)


def test_a_schedule_takes_one_entry_per_kind() -> None:
    with pytest.raises(ValueError, match="one schedule entry per report kind"):
        ReportSchedule((ScheduleEntry(ReportKind.WEEKLY, "0 8 * * 1"), ScheduleEntry(ReportKind.WEEKLY, "0 17 * * 5")))
