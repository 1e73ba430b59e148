"""The year as schools and offices live it: working days, terms, office hours (Asia/Shanghai)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from .model import SHANGHAI

#: 2023 public holidays (国务院办公厅关于2023年部分节假日安排的通知); other years: weekends only.
_HOLIDAYS: dict[int, tuple[tuple[date, date], ...]] = {
    2023: (
        (date(2023, 1, 1), date(2023, 1, 2)),
        (date(2023, 1, 21), date(2023, 1, 27)),
        (date(2023, 4, 5), date(2023, 4, 5)),
        (date(2023, 4, 29), date(2023, 5, 3)),
        (date(2023, 6, 22), date(2023, 6, 24)),
        (date(2023, 9, 29), date(2023, 10, 6)),
    )
}
#: Saturdays and Sundays worked in exchange for the holidays (调休上班).
_WORKED_WEEKENDS: dict[int, frozenset[date]] = {
    2023: frozenset(
        {date(2023, 1, 28), date(2023, 1, 29), date(2023, 4, 23), date(2023, 5, 6), date(2023, 6, 25)}
        | {date(2023, 10, 7), date(2023, 10, 8)}
    )
}


def days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def is_holiday(day: date) -> bool:
    return any(first <= day <= last for first, last in _HOLIDAYS.get(day.year, ()))


def is_workday(day: date) -> bool:
    if day in _WORKED_WEEKENDS.get(day.year, frozenset()):
        return True
    return day.weekday() < 5 and not is_holiday(day)


def workday_on_or_after(day: date) -> date:
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workday_on_or_before(day: date) -> date:
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def in_term(day: date) -> bool:
    """School is in session: spring term mid-February to early July, autumn term from September."""
    year = day.year
    spring = date(year, 2, 6) <= day <= date(year, 7, 7)
    autumn = day >= date(year, 9, 1)
    winter_tail = day <= date(year, 1, 13)
    return (spring or autumn or winter_tail) and is_workday(day)


def month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def office_time(rng: random.Random, day: date) -> datetime:
    """A moment in office hours (08:30–11:45, 14:30–17:45), the way people file reports."""
    if rng.random() < 0.55:
        minutes = rng.randrange(8 * 60 + 30, 11 * 60 + 45)
    else:
        minutes = rng.randrange(14 * 60 + 30, 17 * 60 + 45)
    return local(day, minutes // 60, minutes % 60)
