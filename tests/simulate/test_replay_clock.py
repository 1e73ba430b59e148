"""The replay's clock: a tick at the end of every day, 08:00 on report days, and the year's closing ticks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from duban.replay import closing_ticks, end_of_day, report_tick
from duban.runtime import sample_day
from duban.simulate.model import SHANGHAI
from duban_contracts.plan import load_plan
from duban_tasks.domain.status import as_of_end_of_day


@pytest.mark.parametrize(
    ("day", "ticks_at_eight"),
    [
        (date(2023, 1, 2), True),  # a Monday: the 周报 falls due
        (date(2023, 2, 1), True),  # the first of a month: the 月报
        (date(2023, 5, 1), True),  # both
        (date(2023, 2, 8), False),  # a Wednesday
        (date(2023, 12, 31), False),
    ],
)
def test_the_clock_ticks_at_eight_on_the_days_a_scheduled_report_falls_due(day: date, ticks_at_eight: bool) -> None:
    tick = report_tick(day)

    assert (tick is not None) == ticks_at_eight
    if tick is not None:
        assert tick == datetime(day.year, day.month, day.day, 8, tzinfo=SHANGHAI)


def test_the_end_of_a_day_is_the_instant_status_as_of_that_date_describes() -> None:
    day = date(2023, 3, 31)

    assert end_of_day(day) == as_of_end_of_day(day)
    assert end_of_day(day) + timedelta(microseconds=1) == datetime(2023, 4, 1, tzinfo=SHANGHAI)


def test_the_year_closes_at_its_end_instant_and_again_at_eight_the_next_morning() -> None:
    assert closing_ticks(date(2023, 12, 31)) == (
        datetime(2024, 1, 1, tzinfo=SHANGHAI),
        datetime(2024, 1, 1, 8, tzinfo=SHANGHAI),
    )


def test_the_sample_runs_on_a_named_day_inside_the_plan_year_not_today() -> None:
    day = sample_day()

    assert day == date(2023, 9, 15)  # the latest day the ten sample submissions name
    assert load_plan().year_start <= day <= load_plan().year_end


def test_the_sample_day_is_the_latest_day_any_submission_names() -> None:
    sample = [
        ("a", {"kind": "progress", "date": "2023-04-20"}),
        ("b", {"kind": "incident", "occurred_at": "2023-05-02 08:10", "reported_at": "2023-05-03 09:00"}),
    ]

    assert sample_day(sample) == date(2023, 5, 3)
