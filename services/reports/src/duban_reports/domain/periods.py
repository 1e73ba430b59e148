"""Reporting periods: 周报 (ISO week), 月报, 季报, 年度总结, and any date range on demand.

A period is a run of whole days in the bureau's own time zone (Asia/Shanghai). Its `start` and
`end` are the UTC instants of its first midnight and of the midnight after its last day, so a
period is the half-open interval [start, end) on the event-time clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from duban_contracts.timezone import SHANGHAI

#: The bureau's clock: periods begin and end at local midnight.

#: Periods are whole days in the bureau's time zone.
REPORT_TZ = SHANGHAI

_QUARTER_ZH = ("一", "二", "三", "四")


class ReportKind(StrEnum):
    """The kinds of report, spelled as `ReportGenerated.kind`."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    ADHOC = "adhoc"

    @property
    def label_zh(self) -> str:
        return _KIND_ZH[self]


_KIND_ZH = {
    ReportKind.WEEKLY: "周报",
    ReportKind.MONTHLY: "月报",
    ReportKind.QUARTERLY: "季报",
    ReportKind.ANNUAL: "年度总结",
    ReportKind.ADHOC: "阶段报告",
}


class InvalidPeriod(ValueError):
    """A period's text or bounds do not name a real period."""


@dataclass(frozen=True)
class Period:
    """Whole days `first_day` … `last_day` (both included) of one report kind."""

    kind: ReportKind
    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise InvalidPeriod(f"period starts {self.first_day} after it ends {self.last_day}")

    @property
    def key(self) -> str:
        """The period's id as the wire spells it: 2023-W23, 2023-06, 2023-Q2, 2023, 2023-03-01..2023-03-15."""
        match self.kind:
            case ReportKind.WEEKLY:
                iso = self.first_day.isocalendar()
                return f"{iso.year}-W{iso.week:02d}"
            case ReportKind.MONTHLY:
                return f"{self.first_day.year}-{self.first_day.month:02d}"
            case ReportKind.QUARTERLY:
                return f"{self.first_day.year}-Q{_quarter_of(self.first_day)}"
            case ReportKind.ANNUAL:
                return str(self.first_day.year)
            case ReportKind.ADHOC:
                return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    @property
    def slug(self) -> str:
        """The key made safe for a file name (`..` becomes `_`)."""
        return self.key.replace("..", "_")

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive), in UTC."""
        return local_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label_zh(self) -> str:
        """2023年第23周（6月5日—6月11日）, 2023年6月, 2023年第二季度, 2023年度, 2023年3月1日—3月15日."""
        if self.kind is ReportKind.WEEKLY:
            return f"{self.title_label_zh}（{_day_range_zh(self.first_day, self.last_day, with_year=False)}）"
        return self.title_label_zh

    @property
    def title_label_zh(self) -> str:
        """The label as a report title uses it: a week without its dates."""
        match self.kind:
            case ReportKind.WEEKLY:
                iso = self.first_day.isocalendar()
                return f"{iso.year}年第{iso.week}周"
            case ReportKind.MONTHLY:
                return f"{self.first_day.year}年{self.first_day.month}月"
            case ReportKind.QUARTERLY:
                return f"{self.first_day.year}年第{_QUARTER_ZH[_quarter_of(self.first_day) - 1]}季度"
            case ReportKind.ANNUAL:
                return f"{self.first_day.year}年度"
            case ReportKind.ADHOC:
                return _day_range_zh(self.first_day, self.last_day, with_year=True)

    @property
    def range_zh(self) -> str:
        """The days covered, with the year: 2023年6月5日—6月11日."""
        return _day_range_zh(self.first_day, self.last_day, with_year=True)

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def overlaps(self, other: Period) -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day

    def previous(self) -> Period:
        """The period of the same kind just before this one (an ad hoc range shifts by its length)."""
        if self.kind is ReportKind.ADHOC:
            length = timedelta(days=self.days)
            return Period(ReportKind.ADHOC, self.first_day - length, self.last_day - length)
        return period_of(self.kind, self.first_day - timedelta(days=1))

    def next(self) -> Period:
        if self.kind is ReportKind.ADHOC:
            length = timedelta(days=self.days)
            return Period(ReportKind.ADHOC, self.first_day + length, self.last_day + length)
        return period_of(self.kind, self.last_day + timedelta(days=1))


def local_midnight(day: date) -> datetime:
    """The UTC instant at which `day` begins in Asia/Shanghai."""
    return datetime.combine(day, time(0), tzinfo=REPORT_TZ).astimezone(UTC)


def local_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware instant."""
    return require_aware(instant).astimezone(REPORT_TZ).date()


def require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place on the event-time clock: {instant!r}")
    return instant


def week(iso_year: int, iso_week: int) -> Period:
    try:
        monday = date.fromisocalendar(iso_year, iso_week, 1)
    except ValueError as exc:
        raise InvalidPeriod(f"{iso_year} has no ISO week {iso_week}") from exc
    return Period(ReportKind.WEEKLY, monday, monday + timedelta(days=6))


def month(year: int, month_no: int) -> Period:
    if not 1 <= month_no <= 12:
        raise InvalidPeriod(f"no month {month_no}")
    first = date(year, month_no, 1)
    following = date(year + 1, 1, 1) if month_no == 12 else date(year, month_no + 1, 1)
    return Period(ReportKind.MONTHLY, first, following - timedelta(days=1))


def quarter(year: int, quarter_no: int) -> Period:
    if not 1 <= quarter_no <= 4:
        raise InvalidPeriod(f"no quarter {quarter_no}")
    first_month = 3 * quarter_no - 2
    return Period(ReportKind.QUARTERLY, date(year, first_month, 1), month(year, first_month + 2).last_day)


def year(year_no: int) -> Period:
    return Period(ReportKind.ANNUAL, date(year_no, 1, 1), date(year_no, 12, 31))


def days(first_day: date, last_day: date) -> Period:
    """An on-demand period: every day from `first_day` to `last_day`, both included."""
    return Period(ReportKind.ADHOC, first_day, last_day)


def period_of(kind: ReportKind, day: date) -> Period:
    """The period of `kind` that holds `day` (an ad hoc period is the day itself)."""
    match kind:
        case ReportKind.WEEKLY:
            iso = day.isocalendar()
            return week(iso.year, iso.week)
        case ReportKind.MONTHLY:
            return month(day.year, day.month)
        case ReportKind.QUARTERLY:
            return quarter(day.year, _quarter_of(day))
        case ReportKind.ANNUAL:
            return year(day.year)
        case ReportKind.ADHOC:
            return days(day, day)


_PATTERNS: tuple[tuple[re.Pattern[str], ReportKind], ...] = (
    (re.compile(r"(\d{4})-W(\d{1,2})", re.IGNORECASE), ReportKind.WEEKLY),
    (re.compile(r"(\d{4})-Q(\d)", re.IGNORECASE), ReportKind.QUARTERLY),
    (re.compile(r"(\d{4})-(\d{1,2})"), ReportKind.MONTHLY),
    (re.compile(r"(\d{4})"), ReportKind.ANNUAL),
    (re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})"), ReportKind.ADHOC),
)


def parse_period(text: str) -> Period:
    """`2023-W23`, `2023-06`, `2023-Q2`, `2023` or `2023-03-01..2023-03-15` as a Period."""
    cleaned = text.strip()
    for pattern, kind in _PATTERNS:
        found = pattern.fullmatch(cleaned)
        if found is None:
            continue
        first, *rest = found.groups()
        match kind:
            case ReportKind.WEEKLY:
                return week(int(first), int(rest[0]))
            case ReportKind.QUARTERLY:
                return quarter(int(first), int(rest[0]))
            case ReportKind.MONTHLY:
                return month(int(first), int(rest[0]))
            case ReportKind.ANNUAL:
                return year(int(first))
            case ReportKind.ADHOC:
                return days(_parse_day(first), _parse_day(rest[0]))
    raise InvalidPeriod(f"not a period: {text!r} (expected 2023-W23, 2023-06, 2023-Q2, 2023 or 2023-03-01..2023-03-15)")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(f"not a date: {text!r}") from exc


def _quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _day_range_zh(first: date, last: date, *, with_year: bool) -> str:
    """6月5日—6月11日; the year is written where it is needed to be unambiguous."""
    crosses_year = first.year != last.year
    head = (
        f"{first.year}年{first.month}月{first.day}日" if with_year or crosses_year else f"{first.month}月{first.day}日"
    )
    if first == last:
        return head
    tail = f"{last.year}年{last.month}月{last.day}日" if crosses_year else f"{last.month}月{last.day}日"
    return f"{head}—{tail}"
