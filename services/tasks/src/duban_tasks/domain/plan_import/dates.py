"""Dates in a task's text: observances it ties work to (“4.15”, 教师节) and deadlines (6月底前)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .numbers import FULL_WIDTH, parse_number
from .observances import OBSERVANCES, observance_on, window_of

_QUOTED_DAY = re.compile(r"[“\"](\d{1,2})\s*[.·]\s*(\d{1,2})[”\"]")
_MONTH = r"(?P<month>\d{1,2}|[一二三四五六七八九十]{1,3})月"
_DEADLINE = re.compile(
    _MONTH + r"(?:(?P<day>\d{1,2})日)?(?P<part>底|末|份|上旬|中旬|下旬)?(?:前|以前|之前)"
    r"|(?P<half>上半年)"
    r"|第(?P<quarter>[一二三四1-4])季度"
)
_PART_DAY = {"上旬": 10, "中旬": 20}


@dataclass(frozen=True)
class DatedMention:
    start: int
    end: int
    name: str
    start_date: date | None  # set for windows (宣传月, 活动周), None for a single day
    due: date


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    due: date


def dated_mentions(text: str, year: int) -> list[DatedMention]:
    """Observances named in the text, in order of appearance."""
    found = []
    for quoted in _QUOTED_DAY.finditer(text):
        month, day = int(quoted.group(1)), int(quoted.group(2))
        if not _valid(year, month, day):
            continue
        observance = observance_on(month, day)
        name = observance.name if observance else f"{month}.{day}"
        found.append(DatedMention(quoted.start(), quoted.end(), name, None, date(year, month, day)))
    for observance in OBSERVANCES:
        for spelling in observance.spellings:
            for named in re.finditer(re.escape(spelling), text):
                start, end = window_of(observance, year)
                found.append(DatedMention(named.start(), named.end(), observance.name, _window_start(start, end), end))
    return sorted(found, key=lambda mention: mention.start)


def deadlines(text: str, year: int) -> list[Deadline]:
    """Deadline phrases: 6月底前 -> 06-30, 9月1日前 -> 09-01, 上半年 -> 06-30, 第三季度 -> 09-30."""
    found = []
    for match in _DEADLINE.finditer(text):
        due = _deadline(match, year)
        if due:
            found.append(Deadline(match.start(), match.end(), due))
    return found


def _deadline(match: re.Match[str], year: int) -> date | None:
    if match.group("half"):
        return date(year, 6, 30)
    if match.group("quarter"):
        quarter = int(parse_number(match.group("quarter")))
        return date(year, quarter * 3, calendar.monthrange(year, quarter * 3)[1])
    month = int(parse_number(match.group("month")))
    if not 1 <= month <= 12:
        return None
    day = match.group("day")
    if day:
        return date(year, month, int(day)) if _valid(year, month, int(day)) else None
    part = match.group("part")
    return date(year, month, _PART_DAY.get(part or "", calendar.monthrange(year, month)[1]))


def _valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _window_start(start: date, end: date) -> date | None:
    return start if start != end else None


_DUE_DATE = re.compile(
    r"(?:(?P<year>20\d{2})\s*[年.\-/]\s*)?(?P<month>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"(?:\s*(?P<day>\d{1,2})\s*日)?(?P<part>底|末|份|上旬|中旬|下旬)?"
)
_YEAR_END_WORDS = re.compile(r"年底|年末|年内|全年|本年度|当年")


def due_in(text: str, year: int) -> date | None:
    """The due date a 完成时限 cell gives: the latest date it names (2024年12月底前, 6月30日, 年底);
    None for standing work (长期, 持续推进). A month alone means its last day."""
    normalised = text.translate(FULL_WIDTH)
    dues = []
    due_year = year  # a year written once holds for the dates after it: 2025年6月底…12月底
    for match in _DUE_DATE.finditer(normalised):
        month = int(parse_number(match.group("month")))
        due_year = int(match.group("year")) if match.group("year") else due_year
        if not 1 <= month <= 12:
            continue
        day = match.group("day")
        if day:
            if _valid(due_year, month, int(day)):
                dues.append(date(due_year, month, int(day)))
            continue
        dues.append(
            date(due_year, month, _PART_DAY.get(match.group("part") or "", calendar.monthrange(due_year, month)[1]))
        )
    if not dues and _YEAR_END_WORDS.search(normalised):
        dues.append(date(year, 12, 31))
    return max(dues, default=None)
