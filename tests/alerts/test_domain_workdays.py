"""Working days on China's statutory holidays and adjusted working days (调休)."""

from __future__ import annotations

from datetime import date

import pytest

from duban_alerts.domain.workdays import COVERED_YEARS, UnsupportedYear, WorkCalendar

NATIONAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2023, 9, 28), True),  # Thursday before the Mid-Autumn + National Day holiday
        (date(2023, 9, 29), False),  # 中秋节
        (date(2023, 10, 2), False),  # 国庆节, a Monday
        (date(2023, 10, 6), False),  # last day off
        (date(2023, 10, 7), True),  # Saturday, 调休 working day
        (date(2023, 10, 8), True),  # Sunday, 调休 working day
        (date(2024, 2, 4), True),  # Sunday before the Spring Festival, 调休 working day
        (date(2024, 2, 12), False),  # Spring Festival, a Monday
        (date(2024, 2, 18), True),  # Sunday after it, 调休 working day
        (date(2023, 6, 10), False),  # an ordinary Saturday
        (date(2023, 6, 12), True),  # an ordinary Monday
    ],
)
def test_the_national_calendar_knows_holidays_and_adjusted_working_days(day: date, workday: bool) -> None:
    assert NATIONAL.is_workday(day) is workday


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        # Received Thursday just before the long holiday: 9-29 … 10-6 off, 10-7 and 10-8 worked.
        (date(2023, 9, 28), 1, date(2023, 10, 7)),
        (date(2023, 9, 28), 3, date(2023, 10, 9)),
        (date(2023, 9, 28), 7, date(2023, 10, 13)),
        (date(2023, 9, 28), 15, date(2023, 10, 25)),
        # Spring Festival 2024: 2-10 … 2-17 off, 2-4 and 2-18 worked.
        (date(2024, 2, 8), 1, date(2024, 2, 9)),
        (date(2024, 2, 8), 3, date(2024, 2, 19)),  # 2-9, 2-18 (Sunday, worked), 2-19
        (date(2024, 2, 3), 1, date(2024, 2, 4)),  # Saturday → the Sunday worked
        # An ordinary weekend: received Friday, one working day is Monday.
        (date(2023, 6, 9), 1, date(2023, 6, 12)),
        (date(2023, 6, 10), 1, date(2023, 6, 12)),  # received on Saturday
        (date(2023, 6, 12), 0, date(2023, 6, 12)),
        # Across a year end (2023-12-30 … 2024-01-01 off).
        (date(2023, 12, 29), 1, date(2024, 1, 2)),
    ],
)
def test_working_days_are_counted_from_the_day_after_receipt(start: date, count: int, due: date) -> None:
    assert NATIONAL.add_working_days(start, count) == due


@pytest.mark.parametrize(
    ("start", "count", "roll", "last"),
    [
        # 60 days after 2023-08-01 is 2023-09-30, inside the holiday: it moves to 2023-10-07 (worked).
        (date(2023, 8, 1), 60, True, date(2023, 10, 7)),
        (date(2023, 8, 1), 60, False, date(2023, 9, 30)),
        # 15 days after 2024-01-27 is 2024-02-11 (Spring Festival): the next working day is 2024-02-18.
        (date(2024, 1, 27), 15, True, date(2024, 2, 18)),
        # 15 days after Friday 2023-06-02 is Saturday 2023-06-17: Monday 2023-06-19.
        (date(2023, 6, 2), 15, True, date(2023, 6, 19)),
        (date(2023, 6, 1), 15, True, date(2023, 6, 16)),  # a Friday: no move
    ],
)
def test_a_calendar_day_period_ending_on_a_rest_day_ends_on_the_next_working_day(
    start: date, count: int, roll: bool, last: date
) -> None:
    assert NATIONAL.add_days(start, count, roll_to_workday=roll) == last


def test_counting_back_skips_rest_days() -> None:
    # One working day before Monday 2023-10-09 is Sunday 2023-10-08 (调休 working day).
    assert NATIONAL.subtract_working_days(date(2023, 10, 9), 1) == date(2023, 10, 8)
    assert NATIONAL.subtract_working_days(date(2023, 10, 7), 1) == date(2023, 9, 28)
    assert NATIONAL.working_days_between(date(2023, 9, 28), date(2023, 10, 9)) == 3
    assert NATIONAL.working_days_between(date(2023, 10, 9), date(2023, 9, 28)) == 0


def test_local_days_off_and_days_worked_win_over_the_national_calendar() -> None:
    local = WorkCalendar.of(holidays=[date(2023, 6, 12)], workdays=[date(2023, 6, 10)])

    assert not local.is_workday(date(2023, 6, 12))
    assert local.is_workday(date(2023, 6, 10))
    assert local.add_working_days(date(2023, 6, 9), 2) == date(2023, 6, 13)


def test_a_day_both_off_and_worked_is_refused() -> None:
    with pytest.raises(ValueError, match="2023-06-12"):
        WorkCalendar.of(holidays=[date(2023, 6, 12)], workdays=[date(2023, 6, 12)])


def test_the_library_covers_2018_to_2026() -> None:
    first, last = COVERED_YEARS
    assert first <= 2018
    assert last >= 2026
    assert not NATIONAL.is_workday(date(2026, 10, 1))


def test_a_year_the_library_does_not_cover_is_refused_with_a_clear_error() -> None:
    year = COVERED_YEARS[1] + 1
    with pytest.raises(UnsupportedYear) as raised:
        NATIONAL.add_working_days(date(COVERED_YEARS[1], 12, 31), 3)

    assert raised.value.year == year
    assert f"{year}年" in raised.value.message_zh
    assert str(year) in raised.value.message_en
