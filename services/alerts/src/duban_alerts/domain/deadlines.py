"""Rule 5: deadlines — dated events, milestones, periodic duties and coverage targets.

Each deadline has one alert whose stage advances with the calendar: T-14 (info), T-7 and T-1
(warning), then 逾期 (major) once the due day is over. Stages start at 00:00 local time, and the
alert's times are those boundaries, so the outcome does not depend on how often the clock ticks.
A deadline that is done — an activity in its window, or the tasks service's progress reaching the
milestone — resolves its alert.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from duban_contracts.events import Severity, TargetStatus

from .alert import Alert, Cleared, Firing, Signal, fingerprint
from .config import DeadlineConfig, Reminder
from .facts import PeriodName, PlanTarget
from .lag import StatusRecord

DEADLINE = "deadline"
MILESTONE = "milestone"
PERIODIC = "periodic"
COVERAGE_SHORTFALL = "coverage_shortfall"
OVERDUE = "overdue"


@dataclass(frozen=True)
class ActivityRecord:
    fact_id: str
    target_id: str
    occurred_at: datetime
    unit_id: str
    unit_name: str
    activity: str


@dataclass(frozen=True)
class Deadline:
    """One date a target must be done by."""

    rule: str
    target: PlanTarget
    key: str  # the due date, or the period's label
    anchor: date  # reminders count down to this day (a window's start, or the due date)
    due: date  # the last day that is on time
    window_start: date | None = None  # activities from this day count (activity-based deadlines)
    needed: int = 1
    milestone_value: float | None = None
    reminder_horizon_days: int | None = None  # reminders further ahead than this are skipped

    @property
    def labels(self) -> dict[str, str]:
        labels = {"rule": self.rule, "target_id": self.target.target_id}
        labels["period" if self.rule == PERIODIC else "due"] = self.key
        if self.target.task is not None:
            labels["task"] = str(self.target.task)
        if self.target.section:
            labels["section"] = self.target.section
        return labels

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)

    @property
    def by_activity(self) -> bool:
        return self.window_start is not None


@dataclass(frozen=True)
class Stage:
    name: str  # T-14, T-7, T-1, overdue
    severity: Severity
    since: datetime


@dataclass(frozen=True)
class Done:
    at: datetime
    on_time: bool


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def stage_on(
    today: date,
    deadline: Deadline,
    reminders: Sequence[Reminder],
    overdue_severity: Severity,
    zone: ZoneInfo,
) -> Stage | None:
    """The deadline's stage on a local calendar day, or None before the first reminder."""
    if today > deadline.due:
        return Stage(OVERDUE, overdue_severity, local_midnight(deadline.due + timedelta(days=1), zone))
    horizon = deadline.reminder_horizon_days
    reached = [
        reminder
        for reminder in reminders
        if today >= deadline.anchor - timedelta(days=reminder.days_before)
        and (horizon is None or reminder.days_before < horizon)
    ]
    if not reached:
        return None
    latest = min(reached, key=lambda reminder: reminder.days_before)
    starts = local_midnight(deadline.anchor - timedelta(days=latest.days_before), zone)
    return Stage(f"T-{latest.days_before}", latest.severity, starts)


# --- which deadlines a target has --------------------------------------------------------------


def periods(every: PeriodName, year: int) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each period of `year`."""
    if every == "year":
        return [(str(year), date(year, 1, 1), date(year, 12, 31))]
    if every == "quarter":
        return [
            (f"{year}-Q{q}", date(year, 3 * q - 2, 1), date(year, 3 * q, calendar.monthrange(year, 3 * q)[1]))
            for q in range(1, 5)
        ]
    if every == "month":
        return [
            (f"{year}-{m:02d}", date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1])) for m in range(1, 13)
        ]
    first_monday = date(year, 1, 1) + timedelta(days=(7 - date(year, 1, 1).weekday()) % 7)
    found = []
    monday = first_monday
    while monday.year == year:
        iso_year, week, _ = monday.isocalendar()
        found.append((f"{iso_year}-W{week:02d}", monday, monday + timedelta(days=6)))
        monday += timedelta(days=7)
    return found


def deadlines_of(target: PlanTarget, config: DeadlineConfig) -> list[Deadline]:
    found: list[Deadline] = []
    if target.kind == "dated_event":
        window_start = target.start or target.due - timedelta(days=config.dated_event_lead_days)
        anchor = target.start or target.due
        found.append(Deadline(DEADLINE, target, target.due.isoformat(), anchor, target.due, window_start))
    if target.kind == "periodic" and target.every is not None:
        for label, first, last in periods(target.every, target.due.year):
            horizon = (last - first).days + 1
            found.append(Deadline(PERIODIC, target, label, last, last, first, target.times, None, horizon))
    if target.kind == "coverage":
        found.append(Deadline(COVERAGE_SHORTFALL, target, target.due.isoformat(), target.due, target.due))
    found.extend(
        Deadline(
            MILESTONE, target, milestone.due.isoformat(), milestone.due, milestone.due, milestone_value=milestone.value
        )
        for milestone in target.milestones
    )
    if target.active_from is not None:
        found = [deadline for deadline in found if deadline.due >= target.active_from]
    return found


# --- when a deadline is done ---------------------------------------------------------------------


def done_by_activities(deadline: Deadline, activities: Iterable[ActivityRecord], zone: ZoneInfo) -> Done | None:
    assert deadline.window_start is not None
    ordered = sorted(activities, key=lambda activity: (activity.occurred_at, activity.fact_id))
    in_window = [a for a in ordered if deadline.window_start <= a.occurred_at.astimezone(zone).date() <= deadline.due]
    if len(in_window) >= deadline.needed:
        return Done(in_window[deadline.needed - 1].occurred_at, on_time=True)
    if deadline.rule == PERIODIC:
        return None  # an activity after the period counts for the period it is held in
    late = [a for a in ordered if a.occurred_at.astimezone(zone).date() > deadline.due]
    if len(in_window) + len(late) >= deadline.needed:
        return Done(late[deadline.needed - len(in_window) - 1].occurred_at, on_time=False)
    return None


def done_by_status(deadline: Deadline, status: StatusRecord | None, zone: ZoneInfo) -> Done | None:
    if status is None:
        return None
    if deadline.rule == COVERAGE_SHORTFALL:
        reached = status.status is TargetStatus.DONE or status.completion >= 1
    else:
        assert deadline.milestone_value is not None
        actual = status.actual if status.actual is not None else status.completion * deadline.target.value
        reached = status.status is TargetStatus.DONE or actual >= deadline.milestone_value
    if not reached:
        return None
    return Done(status.occurred_at, on_time=status.occurred_at.astimezone(zone).date() <= deadline.due)


def done(
    deadline: Deadline, activities: Iterable[ActivityRecord], status: StatusRecord | None, zone: ZoneInfo
) -> Done | None:
    if deadline.by_activity:
        return done_by_activities(deadline, activities, zone)
    return done_by_status(deadline, status, zone)


# --- the signal ----------------------------------------------------------------------------------


def deadline_signal(
    deadline: Deadline,
    *,
    today: date,
    finished: Done | None,
    current: Alert | None,
    config: DeadlineConfig,
    zone: ZoneInfo,
) -> Signal | None:
    """What the deadline looks like on `today`: done (resolve), a stage (fire), or nothing yet."""
    if finished is not None:
        return Cleared(deadline.fingerprint, finished.at, reason="done" if finished.on_time else "done_late")
    reminders = () if deadline.rule == COVERAGE_SHORTFALL else config.reminders
    stage = stage_on(today, deadline, reminders, _overdue_severity(deadline, config), zone)
    if stage is None:
        return None
    if current is not None and current.is_open and current.last_seen > stage.since:
        return None  # a clock running backwards (e.g. a replayed tick) never takes a stage back
    first_seen = current.first_seen if current is not None and current.is_open else stage.since
    return Firing(
        labels=deadline.labels,
        severity=stage.severity,
        title_zh=_title(deadline, stage),
        summary_zh=_summary(deadline, stage),
        at=stage.since,
        first_seen=first_seen,
        last_seen=stage.since,
        severity_since=stage.since,
        stage=stage.name,
        annotations={"title": deadline.target.title_zh, "due": deadline.due.isoformat()},
        once=True,
    )


def _overdue_severity(deadline: Deadline, config: DeadlineConfig) -> Severity:
    if deadline.rule == PERIODIC:
        return config.periodic_missed_severity
    if deadline.rule == COVERAGE_SHORTFALL:
        return config.coverage_shortfall_severity
    return config.overdue_severity


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _title(deadline: Deadline, stage: Stage) -> str:
    name = deadline.target.title_zh
    if deadline.rule == PERIODIC:
        if stage.name == OVERDUE:
            return f"【未按期】{name}（{deadline.key}）未开展"
        return f"【提醒】{name}（{deadline.key}）须于{_md(deadline.due)}前完成"
    if deadline.rule == COVERAGE_SHORTFALL:
        return f"【未达标】{name}截至{_md(deadline.due)}未实现全覆盖"
    what = "里程碑" if deadline.rule == MILESTONE else ""
    if stage.name == OVERDUE:
        return f"【逾期】{name}{what}（{_md(deadline.due)}截止）未完成"
    days = int(stage.name.removeprefix("T-"))
    if deadline.anchor != deadline.due:
        return f"【提醒】{name}将于{_md(deadline.anchor)}开始（{_md(deadline.anchor)}至{_md(deadline.due)}）"
    return f"【提醒】{name}{what}将于{_md(deadline.due)}截止（剩余不足{days}天）"


def _summary(deadline: Deadline, stage: Stage) -> str:
    target = deadline.target
    owners = "、".join(target.responsible) or "责任单位"
    task = f"第{target.task}项任务" if target.task is not None else "计划任务"
    if deadline.milestone_value is not None:
        goal = f"累计达到{deadline.milestone_value:g}{target.unit}"
    elif deadline.rule == COVERAGE_SHORTFALL:
        goal = "实现全覆盖"
    elif deadline.needed > 1:
        goal = f"开展{deadline.needed}次并报送"
    else:
        goal = "开展并报送活动记录"
    state = "已逾期" if stage.name == OVERDUE else f"截止{deadline.due.isoformat()}"
    return f"{task}“{target.title_zh}”须{goal}（{state}）。责任单位：{owners}。"
