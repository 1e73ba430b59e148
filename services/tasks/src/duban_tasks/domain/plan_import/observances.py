"""Days and weeks a plan ties activities to: 教师节, 全民健身日, 推普周, “4.15” …

Source: the fixed-dates table of /work/shared/docs/domain-rules.md (the 2023 plan), extended with a
few other nationally fixed days that bureaus' plans commonly name. Moving observances are computed
for the plan year; where a year's window was announced differently it is listed in `ANNOUNCED`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

Window = tuple[date, date]


@dataclass(frozen=True)
class Observance:
    name: str
    spellings: tuple[str, ...]
    window: Callable[[int], Window]


def _on(month: int, day: int) -> Callable[[int], Window]:
    def window(year: int) -> Window:
        return date(year, month, day), date(year, month, day)

    return window


def _between(start: tuple[int, int], end: tuple[int, int]) -> Callable[[int], Window]:
    def window(year: int) -> Window:
        return date(year, *start), date(year, *end)

    return window


def _last_monday_of_march(year: int) -> Window:
    day = date(year, 3, 31)
    day -= timedelta(days=day.weekday())
    return day, day


def _third_week_of(month: int) -> Callable[[int], Window]:
    """The third calendar week (Monday to Sunday) of `month`, the week holding the 1st counting as
    the first: 推普周 2022-09-12, 2023-09-11, 2024-09-09."""

    def window(year: int) -> Window:
        first = date(year, month, 1)
        monday = first - timedelta(days=first.weekday()) + timedelta(weeks=2)
        return monday, monday + timedelta(days=6)

    return window


OBSERVANCES: tuple[Observance, ...] = (
    Observance("全国中小学生安全教育日", ("中小学生安全教育日",), _last_monday_of_march),
    Observance("植树节", ("植树节",), _on(3, 12)),
    Observance("全民国家安全教育日", ("国家安全教育日",), _on(4, 15)),
    Observance("世界读书日", ("世界读书日",), _on(4, 23)),
    Observance("全国防灾减灾日", ("防灾减灾日",), _on(5, 12)),
    Observance("全国学生营养日", ("学生营养日",), _on(5, 20)),
    Observance("全国爱眼日", ("爱眼日",), _on(6, 6)),
    Observance("国际禁毒日", ("禁毒日",), _on(6, 26)),
    Observance("全民健身日", ("全民健身日",), _on(8, 8)),
    Observance("教师节", ("教师节",), _on(9, 10)),
    Observance("全国消防日", ("消防日", "消防宣传日"), _on(11, 9)),
    Observance("世界艾滋病日", ("艾滋病日",), _on(12, 1)),
    Observance("全国交通安全日", ("交通安全日",), _on(12, 2)),
    Observance("国家宪法日", ("宪法日", "宪法晨读"), _on(12, 4)),
    Observance("国家公祭日", ("国家公祭日",), _on(12, 13)),
    Observance("学前教育宣传月", ("学前教育宣传月",), _between((5, 20), (6, 20))),
    Observance("科技活动周", ("科技活动周",), _third_week_of(5)),
    Observance("全国推广普通话宣传周", ("推广普通话宣传周", "推普周", "推普宣传周"), _third_week_of(9)),
)

#: Windows announced for a particular year that the general rule does not give.
ANNOUNCED: dict[tuple[str, int], Window] = {
    ("科技活动周", 2023): (date(2023, 5, 20), date(2023, 5, 31)),
}


def window_of(observance: Observance, year: int) -> Window:
    return ANNOUNCED.get((observance.name, year)) or observance.window(year)


def observance_on(month: int, day: int) -> Observance | None:
    """The single-day observance falling on month/day in any year (“4.15” -> 全民国家安全教育日)."""
    for observance in OBSERVANCES:
        start, end = observance.window(2001)
        if start == end == date(2001, month, day):
            return observance
    return None
