"""Dates and times as schools write them, read in the bureau's time zone and returned in UTC.

Accepted: ISO 8601 with or without an offset (`2023-05-31T08:30:00+08:00`, `2023-05-31 08:30`,
`2023-05-31`), `2023年5月31日`, `2023/5/31`, `2023.5.31`, `二〇二三年五月三十一日`, times as `08:30`,
`8时30分`, `8点半`, `下午3点` (`许`/`左右` after a time is dropped), and month–day without a year
(`5月31日`, `5.12`), which takes the plan year. Spreadsheet cells arrive as `date`/`datetime`.

A time without an offset is local time (Asia/Shanghai by default).

**A date without a time of day is the start of that local day**, converted to UTC: `2023-05-31` is
`2023-05-30T16:00:00Z`. The local calendar date is therefore recovered exactly by converting back to
the bureau's zone (never by reading the UTC date); and a report dated today, sent at 09:00, is never
"in the future" — which local noon would make it until 12:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import cn2an

from .text import nfkc

_EARLIEST_YEAR = 1900
_LATEST_YEAR = 2999
_NOISE = re.compile(r"[(（]?北京时间[)）]?|许|左右|前后")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{8}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_CHINESE_DIGITS = re.compile(r"[〇零一二两三四五六七八九十]")
_WRITTEN = re.compile(
    r"^(?:(?P<year>\d{4}) ?(?:年|[-/.]) ?)?(?P<month>\d{1,2}) ?(?:月|[-/.]) ?(?P<day>\d{1,2}) ?[日号]?"
    r"(?:(?: |T|,)?(?P<period>上午|下午|晚上|中午|凌晨|早上|早晨|傍晚|夜间|夜里)? ?"
    r"(?P<hour>\d{1,2}) ?"
    r"(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2}))?"
    r"|[时点] ?(?:(?P<half>半)|(?P<minute_zh>\d{1,2}) ?分?(?: ?(?P<second_zh>\d{1,2}) ?秒)?)?))?$"
)
_AFTERNOON = ("下午", "晚上", "傍晚", "夜间", "夜里")
_EARLY = ("凌晨", "上午", "早上", "早晨")


@dataclass(frozen=True)
class Moment:
    """A point in time: `at` in UTC, and the local calendar date it falls on."""

    at: datetime
    local_date: date
    has_time: bool


@dataclass(frozen=True)
class NotADate:
    reason_zh: str
    reason_en: str


_UNREADABLE = NotADate("无法识别的格式", "unrecognised format")
_NO_SUCH_DATE = NotADate("日期或时间不存在", "no such date or time")
_BAD_YEAR = NotADate("年份不合理", "implausible year")


def parse_moment(value: str | date | datetime, default_year: int, zone: ZoneInfo) -> Moment | NotADate:
    """Read `value` as a moment; a month–day without a year takes `default_year`."""
    if isinstance(value, datetime):
        return _from_datetime(value, zone)
    if isinstance(value, date):
        return _start_of_day(value, zone)
    return _parse_text(value, default_year, zone)


def start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _parse_text(text: str, default_year: int, zone: ZoneInfo) -> Moment | NotADate:
    cleaned = " ".join(_NOISE.sub("", nfkc(text)).split())
    if not cleaned or len(cleaned) > 64:
        return _UNREADABLE
    if _ISO_DATE.match(cleaned) or _ISO_DATETIME.match(cleaned):
        iso = _parse_iso(cleaned, zone)
        if iso is not None:
            return iso
    written = _parse_written(cleaned, default_year, zone)
    if isinstance(written, NotADate) and _CHINESE_DIGITS.search(cleaned):
        return _parse_written(_arabic_digits(cleaned), default_year, zone)
    return written


def _parse_iso(text: str, zone: ZoneInfo) -> Moment | NotADate | None:
    try:
        if _ISO_DATE.match(text):
            return _start_of_day(date.fromisoformat(text), zone)
        return _from_datetime(datetime.fromisoformat(text), zone)
    except ValueError:
        return None


def _parse_written(text: str, default_year: int, zone: ZoneInfo) -> Moment | NotADate:
    match = _WRITTEN.match(text)
    if match is None:
        return _UNREADABLE
    year = int(match["year"]) if match["year"] else default_year
    try:
        day = date(year, int(match["month"]), int(match["day"]))
        if match["hour"] is None:
            return _start_of_day(day, zone)
        clock = time(_hour(int(match["hour"]), match["period"]), *_minute_second(match))
    except ValueError:
        return _NO_SUCH_DATE
    return _from_datetime(datetime.combine(day, clock), zone)


def _hour(hour: int, period: str | None) -> int:
    if period in _AFTERNOON and hour < 12:
        return hour + 12
    if period == "中午" and hour < 11:
        return hour + 12
    if period in _EARLY and hour == 12:
        return 0
    return hour


def _minute_second(match: re.Match[str]) -> tuple[int, int]:
    if match["half"]:
        return 30, 0
    minute = match["minute"] or match["minute_zh"] or "0"
    second = match["second"] or match["second_zh"] or "0"
    return int(minute), int(second)


def _arabic_digits(text: str) -> str:
    try:
        return str(cn2an.transform(text, "cn2an"))
    except (ValueError, KeyError, IndexError, TypeError):
        return text


def _from_datetime(moment: datetime, zone: ZoneInfo) -> Moment | NotADate:
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        return _BAD_YEAR
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return Moment(at=local.astimezone(UTC), local_date=local.date(), has_time=True)


def _start_of_day(day: date, zone: ZoneInfo) -> Moment | NotADate:
    if not _EARLIEST_YEAR <= day.year <= _LATEST_YEAR:
        return _BAD_YEAR
    return Moment(at=start_of_local_day(day, zone), local_date=day, has_time=False)
