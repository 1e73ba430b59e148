"""When reports fall due, on the event-time clock.

Each schedule entry is a cron expression read in Asia/Shanghai; a tick of it produces one report
of its kind, covering the last period that has ended by the tick (`covers="previous"`, the
default: Monday 08:00 → last ISO week's 周报) or the period the tick falls in
(`covers="current"`: a report up to the tick).

`due_reports(schedule, last_evaluated, now)` returns every report scheduled in the half-open
interval (last_evaluated, now]. The caller persists `now` as the next `last_evaluated`, so each
report comes out exactly once however irregularly the clock ticks — a year replayed in fast
ticks produces the same reports as the live year, each once.

The plan year (decision, for the lead to review). When the schedule knows the plan year:
- only periods that overlap the plan year are reported (the December report of the previous year,
  which the 1 January tick would produce, is not part of this plan; the ISO week that holds
  1 January is, because it holds plan days);
- the periods that end with the plan year (December, the fourth quarter, the year itself, and the
  last ISO week when it ends on 31 December) are produced at the instant the plan year ends
  (local midnight of 1 January) instead of at the next cron tick, and not again at that tick.
  A replay that runs to the end of its year therefore yields the 年度总结 and the other year-end
  reports; the clock must reach the year-end instant (a final tick at or after it) for that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

from croniter import croniter

from .periods import REPORT_TZ, Period, ReportKind, local_date, period_of, require_aware, year

Covers = Literal["previous", "current"]

_EPSILON = timedelta(microseconds=1)
_SEARCH_HORIZON = timedelta(days=2 * 366)


@dataclass(frozen=True)
class ScheduleEntry:
    kind: ReportKind
    cron: str  # minute hour day-of-month month day-of-week, in the schedule's time zone
    covers: Covers = "previous"

    def __post_init__(self) -> None:
        if self.kind is ReportKind.ADHOC:
            raise ValueError("ad hoc reports are produced on demand, not on a schedule")
        if not croniter.is_valid(self.cron):
            raise ValueError(f"not a cron expression: {self.cron!r}")

    def covered_period(self, tick: datetime) -> Period:
        """The period a tick reports on: the one it falls in, or (by default) the one before it."""
        current = period_of(self.kind, local_date(tick))
        return current if self.covers == "current" else current.previous()


@dataclass(frozen=True)
class ReportSchedule:
    """Cron entries, read in Asia/Shanghai like the periods they produce."""

    entries: tuple[ScheduleEntry, ...]
    plan_year: Period | None = None  # the annual period of the plan, see the module docstring

    def __post_init__(self) -> None:
        kinds = [entry.kind for entry in self.entries]
        if len(kinds) != len(set(kinds)):
            # Two ticks of one kind would report the same period twice.
            raise ValueError(f"one schedule entry per report kind, got {', '.join(kinds)}")
        if self.plan_year is not None and self.plan_year.kind is not ReportKind.ANNUAL:
            raise ValueError(f"the plan year must be an annual period, got {self.plan_year.key}")


#: 周报 Monday 08:00, 月报 the 1st 08:00, 季报 1 Jan/Apr/Jul/Oct 08:00, 年度总结 1 January 08:00.
DEFAULT_ENTRIES: tuple[ScheduleEntry, ...] = (
    ScheduleEntry(ReportKind.WEEKLY, "0 8 * * 1"),
    ScheduleEntry(ReportKind.MONTHLY, "0 8 1 * *"),
    ScheduleEntry(ReportKind.QUARTERLY, "0 8 1 1,4,7,10 *"),
    ScheduleEntry(ReportKind.ANNUAL, "0 8 1 1 *"),
)


def default_schedule(plan_year: int | None = None) -> ReportSchedule:
    return ReportSchedule(DEFAULT_ENTRIES, plan_year=None if plan_year is None else year(plan_year))


class DueReport(NamedTuple):
    kind: ReportKind
    period: Period
    scheduled_at: datetime  # UTC

    @property
    def as_of(self) -> datetime:
        """The instant the report's figures describe: the period's end, or the tick if earlier."""
        return min(self.period.end, self.scheduled_at)


_KIND_ORDER = tuple(ReportKind)


def due_reports(schedule: ReportSchedule, last_evaluated: datetime, now: datetime) -> list[DueReport]:
    """Reports scheduled in (last_evaluated, now], in time order (weekly before monthly at one instant)."""
    since, until = require_aware(last_evaluated).astimezone(UTC), require_aware(now).astimezone(UTC)
    if until <= since:
        return []
    return sorted(
        _scheduled(schedule, since, until),
        key=lambda r: (r.scheduled_at, _KIND_ORDER.index(r.kind), r.period.first_day),
    )


def next_due_at(schedule: ReportSchedule, after: datetime) -> datetime | None:
    """The first instant after `after` at which a report falls due, so a caller can skip the ticks before it.

    None when nothing falls due within the search horizon (e.g. every later tick lies past the plan year).
    """
    horizon = require_aware(after).astimezone(UTC)
    give_up = horizon + _SEARCH_HORIZON
    plan_end = _plan_end(schedule)
    while horizon < give_up:
        candidates = [_next_tick(entry, horizon) for entry in schedule.entries]
        if plan_end is not None and plan_end > horizon:
            candidates.append(plan_end)
        if not candidates:
            return None
        step = min(candidates)
        if due_reports(schedule, horizon, step):
            return step
        horizon = step
    return None


def _scheduled(schedule: ReportSchedule, since: datetime, until: datetime) -> Iterator[DueReport]:
    plan_end = _plan_end(schedule)
    for entry in schedule.entries:
        for tick in _ticks(entry, since, until):
            period = entry.covered_period(tick)
            if not _in_plan(schedule, period):
                continue
            if plan_end is not None and tick > plan_end and period.end <= plan_end:
                continue  # produced when the plan year closed
            yield DueReport(entry.kind, period, tick)
        if plan_end is not None and since < plan_end <= until:
            yield from _closing_report(schedule, entry, plan_end)


def _closing_report(schedule: ReportSchedule, entry: ScheduleEntry, plan_end: datetime) -> Iterator[DueReport]:
    """The report the first tick after the plan year would produce, brought forward to the year's end."""
    tick = _next_tick(entry, plan_end - _EPSILON)
    if tick == plan_end:
        return  # a tick exactly at the year end is an ordinary tick
    period = entry.covered_period(tick)
    if period.end <= plan_end and _in_plan(schedule, period):
        yield DueReport(entry.kind, period, plan_end)


def _in_plan(schedule: ReportSchedule, period: Period) -> bool:
    return schedule.plan_year is None or period.overlaps(schedule.plan_year)


def _plan_end(schedule: ReportSchedule) -> datetime | None:
    return None if schedule.plan_year is None else schedule.plan_year.end


def _ticks(entry: ScheduleEntry, since: datetime, until: datetime) -> Iterator[datetime]:
    ticks = croniter(entry.cron, since.astimezone(REPORT_TZ))
    while True:
        tick: datetime = ticks.get_next(datetime).astimezone(UTC)
        if tick > until:
            return
        yield tick


def _next_tick(entry: ScheduleEntry, after: datetime) -> datetime:
    tick: datetime = croniter(entry.cron, after.astimezone(REPORT_TZ)).get_next(datetime)
    return tick.astimezone(UTC)
