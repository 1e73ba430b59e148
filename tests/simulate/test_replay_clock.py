"""The replay's clock: a tick at the end of every day, 08:00 on report days, and the year's closing ticks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from duban.replay import closing_ticks, end_of_day, report_tick
from duban.simulate.model import SHANGHAI
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
