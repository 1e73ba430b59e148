"""Working days in China: weekends, statutory holidays and the adjusted working days (调休).

Rules implemented:
- 全国年节及纪念日放假办法 and the State Council General Office's yearly notice on holiday
  arrangements (国务院办公厅关于××年部分节假日安排的通知) decide which days are off and which
  weekend days are worked instead (调休). The data come from the `chinese-calendar` package
  (PyPI `chinesecalendar`, MIT, github.com/LKI/chinese-calendar), which transcribes those notices
  year by year; version 1.11 covers 2004–2026. A year it does not cover is refused with
  `UnsupportedYear` rather than guessed: the notice for a year is published only in the previous
  November, and a weekend-only guess would put deadlines inside the Spring Festival.
- A bureau may add local days: `extra_holidays` (e.g. a day off the county declares) and
  `extra_workdays`; they win over the national calendar.
- Counting follows 民法典 第二百零一条 (按日计算期间的，开始的当日不计入，自下一日开始计算) and
  第二百零三条 (期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日): see
  `add_days` and `add_working_days`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import chinese_calendar

_ONE_DAY = timedelta(days=1)


def _covered() -> tuple[int, int]:
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


COVERED_YEARS: tuple[int, int] = _covered()


class UnsupportedYear(ValueError):
    """The holiday calendar has no data for the year a computation needs."""

    def __init__(self, year: int) -> None:
        first, last = COVERED_YEARS
        self.year = year
        self.message_zh = (
            f"{year}年的法定节假日和调休安排尚未收录（chinese-calendar {chinese_calendar.__version__} "
            f"收录{first}–{last}年）：无法按工作日计算期限。请升级 chinesecalendar，或在 rules.yaml 的 "
            "casework.calendar 中补充当年安排。"
        )
        self.message_en = (
            f"no statutory holiday or adjusted-working-day data for {year} (chinese-calendar "
            f"{chinese_calendar.__version__} covers {first}-{last}): working-day deadlines cannot be "
            "computed. Upgrade chinesecalendar, or list that year's days in rules.yaml casework.calendar."
        )
        super().__init__(f"{self.message_en} / {self.message_zh}")


@cache
def _national_workday(day: date) -> bool:
    first, last = COVERED_YEARS
    if not first <= day.year <= last:
        raise UnsupportedYear(day.year)
    return bool(chinese_calendar.is_workday(day))


@dataclass(frozen=True)
class WorkCalendar:
    """The national calendar plus a bureau's own days off and days worked."""

    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        both = self.extra_holidays & self.extra_workdays
        if both:
            days = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"{days}: listed both as an extra holiday and an extra workday / 既列为休息日又列为工作日")

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return _national_workday(day)

    def is_rest_day(self, day: date) -> bool:
        return not self.is_workday(day)

    def workday_on_or_after(self, day: date) -> date:
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (`start` itself is not counted; 0 gives `start`).

        A work order received on Thursday 2023-09-28 with 3 working days is due Monday 2023-10-09:
        9-29 … 10-6 are the Mid-Autumn and National Day holiday, 10-7 and 10-8 are 调休 working days.
        """
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        day = start
        for _ in range(count):
            day += _ONE_DAY
            while not self.is_workday(day):
                day += _ONE_DAY
        return day

    def subtract_working_days(self, end: date, count: int) -> date:
        """The working day `count` working days before `end` (`end` itself is not counted)."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        day = end
        for _ in range(count):
            day -= _ONE_DAY
            while not self.is_workday(day):
                day -= _ONE_DAY
        return day

    def add_days(self, start: date, count: int, *, roll_to_workday: bool = True) -> date:
        """The last day of a period of `count` calendar days starting after `start` (民法典第二百零一条).

        With `roll_to_workday`, a last day that falls on a rest day moves to the next working day
        (民法典第二百零三条).
        """
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        last = start + timedelta(days=count)
        return self.workday_on_or_after(last) if roll_to_workday else last

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days after `start` `end` is (0 when end <= start)."""
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_workday(day)
            day += _ONE_DAY
        return count
