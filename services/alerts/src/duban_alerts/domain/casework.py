"""Rule 7: casework clocks — 信访 cases and 12345 work orders (task 25 of the plan).

A case (folded from its actions by `duban_contracts.casework.fold_case`) runs up to three clocks,
each with its cited rule in `rules.yaml` (`casework:`):

- 受理告知期限 (`case_acceptance`), for 来信, 来访, 网上信访 and 上级交办: 15 days from receipt to tell
  the petitioner whether the matter is accepted (信访工作条例 第二十三条). Stopped by the first
  acceptance, forwarding (转送 is the decision, with the petitioner told where it went) or conclusion.
- 办理期限 (`case_handling`): for 信访 channels 60 days from acceptance, extendable once by up to 30
  days (第三十四条); for 12345 work orders a number of working days by category counted from the
  day after receipt (咨询 3, 求助 and 意见建议 7, 投诉举报 15). A limit the work order carries
  itself (`limit_working_days`, e.g. set by the hotline centre or by the authority that passed a
  matter down) wins. Stopped by the conclusion; a case forwarded away stops it as `forwarded`.
- 回访 (`case_revisit`), optional: a revisit within a set time after conclusion.

Counting: the day of receipt or acceptance is not counted; a calendar-day period ending on a rest
day ends on the next working day (民法典 第二百零一条、第二百零三条); working days follow China's
statutory holidays and 调休 (`workdays.WorkCalendar`).

Extensions: only `extension.times` of them count (once under the 条例), each only if recorded on or
before the due date then in force (an extension asked for after the limit has passed does not undo
the lateness), each adding what it asks (`extension_days`) up to `extension.max`. The others are
kept, with why they did not count, so messages can say so.

Stages on a local day, like the plan's deadlines (`deadlines.py`): each reminder from its day on
(counted back from the due date in days or working days), 逾期 from the day after the due date,
严重逾期 from the day after `seriously_overdue.after` more working days. Each stage is a step of the
escalation ladder (提醒 → 催办 → 督办), and the alert's times are the stage boundaries (local
midnight), so the outcome does not depend on how often the clock ticks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from duban_contracts.casework import CaseAction, CaseChannel, CaseFile, CaseStep, CaseSummary
from duban_contracts.events import Severity

from .alert import Alert, Cleared, Firing, Signal, fingerprint
from .config import CaseworkConfig, ClockRule, Span, SpanReminder
from .deadlines import local_midnight
from .workdays import WorkCalendar

CASE_ACCEPTANCE = "case_acceptance"
CASE_HANDLING = "case_handling"
CASE_REVISIT = "case_revisit"
CASE_RULES = (CASE_ACCEPTANCE, CASE_HANDLING, CASE_REVISIT)

OVERDUE = "overdue"
SERIOUSLY_OVERDUE = "seriously_overdue"

DONE = "done"
DONE_LATE = "done_late"
FORWARDED = "forwarded"


@dataclass(frozen=True)
class Extension:
    """An extension that counts: when it was recorded, what it added and why it was asked for."""

    at: datetime
    added: Span
    reason: str | None


@dataclass(frozen=True)
class IgnoredExtension:
    at: datetime
    on: date  # the local day it was recorded
    why_zh: str


@dataclass(frozen=True)
class Clock:
    """One time limit of one case: from when it counts, its due date, and whether it has stopped."""

    rule: str  # case_acceptance, case_handling, case_revisit
    name_zh: str
    case_id: str
    starts_on: date  # the day of receipt, acceptance or conclusion (not counted itself)
    limit: Span
    due: date  # the last day on time, extensions included
    basis_zh: str  # where the limit comes from, for messages
    source: str
    reminders: tuple[SpanReminder, ...] = ()
    extensions: tuple[Extension, ...] = ()
    ignored_extensions: tuple[IgnoredExtension, ...] = ()
    stopped_at: datetime | None = None
    stop_reason: str | None = None  # done, done_late, forwarded

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    @property
    def on_time(self) -> bool | None:
        """True or False once stopped by what it waited for; None while running or when forwarded."""
        if self.stop_reason in (DONE, DONE_LATE):
            return self.stop_reason == DONE
        return None


@dataclass(frozen=True)
class Stage:
    name: str  # T-7, T-1wd, overdue, seriously_overdue
    severity: Severity
    since: datetime
    step: int  # on the escalation ladder: 0 提醒, 1 催办, 2 督办


# --- counting ------------------------------------------------------------------------------------


def count_from(start: date, span: Span, calendar: WorkCalendar, *, roll_to_workday: bool) -> date:
    """The last day of `span` counted from the day after `start`."""
    if span.in_working_days:
        return calendar.add_working_days(start, span.count)
    return calendar.add_days(start, span.count, roll_to_workday=roll_to_workday)


def count_back(due: date, span: Span, calendar: WorkCalendar) -> date:
    """The day `span` before `due`: a reminder's first day."""
    if span.in_working_days:
        return calendar.subtract_working_days(due, span.count)
    return due - timedelta(days=span.count)


# --- which clocks a case runs ----------------------------------------------------------------------


def clocks_of(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> list[Clock]:
    """The case's clocks as its actions make them (running or stopped)."""
    clocks = []
    acceptance = _acceptance_clock(case, config, calendar, zone)
    if acceptance is not None:
        clocks.append(acceptance)
    handling = handling_clock(case, config, calendar, zone)
    if handling is not None:
        clocks.append(handling)
    revisit = _revisit_clock(case, config, calendar, zone)
    if revisit is not None:
        clocks.append(revisit)
    return clocks


def _local(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _first(case: CaseFile, actions: Iterable[CaseAction]) -> datetime | None:
    wanted = set(actions)
    return next((step.at for step in case.steps if step.action in wanted), None)


def _stopped(moment: datetime | None, due: date, zone: ZoneInfo) -> tuple[datetime | None, str | None]:
    if moment is None:
        return None, None
    return moment, DONE if _local(moment, zone) <= due else DONE_LATE


def _acceptance_clock(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> Clock | None:
    rule = config.acceptance
    if case.channel not in rule.channels:
        return None
    starts_on = _local(case.received_at, zone)
    due = count_from(starts_on, rule.limit, calendar, roll_to_workday=config.roll_to_workday)
    decided = _first(case, (CaseAction.ACCEPTED, CaseAction.FORWARDED, CaseAction.CONCLUDED))
    stopped_at, reason = _stopped(decided, due, zone)
    return Clock(
        rule=CASE_ACCEPTANCE,
        name_zh=rule.name_zh,
        case_id=case.case_id,
        starts_on=starts_on,
        limit=rule.limit,
        due=due,
        basis_zh=f"自收到之日起{rule.limit.label_zh}内告知",
        source=rule.source,
        reminders=rule.reminders,
        stopped_at=stopped_at,
        stop_reason=reason,
    )


def handling_clock(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> Clock | None:
    """The clock to conclude the case; None while a 信访 case waits for its acceptance."""
    rule = config.handling_for(case.channel)
    has_acceptance_step = case.channel in config.acceptance.channels
    started = case.accepted_at if has_acceptance_step else case.received_at
    if started is None:
        return None
    starts_on = _local(started, zone)
    limit, basis = _handling_limit(case, rule)
    due = count_from(starts_on, limit, calendar, roll_to_workday=config.roll_to_workday)
    extensions, ignored, due = _extend(
        case.extensions,
        rule=rule,
        starts_on=starts_on,
        limit=limit,
        due=due,
        calendar=calendar,
        config=config,
        zone=zone,
    )
    if case.concluded_at is not None:
        stopped_at, reason = _stopped(case.concluded_at, due, zone)
    elif case.is_forwarded:
        stopped_at, reason = case.forwarded_at, FORWARDED
    else:
        stopped_at, reason = None, None
    return Clock(
        rule=CASE_HANDLING,
        name_zh=rule.name_zh,
        case_id=case.case_id,
        starts_on=starts_on,
        limit=limit,
        due=due,
        basis_zh=basis,
        source=rule.source if case.limit_working_days is None else "工单（交办件）自带办理时限",
        reminders=rule.reminders,
        extensions=extensions,
        ignored_extensions=ignored,
        stopped_at=stopped_at,
        stop_reason=reason,
    )


def _handling_limit(case: CaseFile, rule: ClockRule) -> tuple[Span, str]:
    start = "自受理之日起" if case.channel is not CaseChannel.HOTLINE else "自收到工单次日起"
    if case.limit_working_days is not None:
        limit = Span(working_days=case.limit_working_days)
        return limit, f"{start}{limit.label_zh}（工单自带时限）"
    canonical = rule.canonical_category(case.category)
    limit = rule.limit_for(case.category)
    if rule.by_category and canonical is None:
        shown = case.category.strip() or "未填"
        return limit, f"{start}{limit.label_zh}（类别“{shown}”未识别，按默认时限）"
    kind = f"{canonical}类" if canonical is not None else ""
    return limit, f"{kind}{start}{limit.label_zh}"


def _extend(
    requested: Sequence[CaseStep],
    *,
    rule: ClockRule,
    starts_on: date,
    limit: Span,
    due: date,
    calendar: WorkCalendar,
    config: CaseworkConfig,
    zone: ZoneInfo,
) -> tuple[tuple[Extension, ...], tuple[IgnoredExtension, ...], date]:
    counted: list[Extension] = []
    ignored: list[IgnoredExtension] = []
    total = limit
    for step in requested:
        recorded_on = _local(step.at, zone)
        if rule.extension is None or rule.extension.times == 0:
            ignored.append(IgnoredExtension(step.at, recorded_on, "该类事项不可延期"))
            continue
        if len(counted) >= rule.extension.times:
            ignored.append(IgnoredExtension(step.at, recorded_on, f"延期限{rule.extension.times}次，本次不计"))
            continue
        if recorded_on > due:
            ignored.append(IgnoredExtension(step.at, recorded_on, "期限届满后才申请延期，不计"))
            continue
        cap = rule.extension.max
        asked = step.extension_days if step.extension_days is not None else cap.count
        added = Span(working_days=min(asked, cap.count)) if cap.in_working_days else Span(days=min(asked, cap.count))
        counted.append(Extension(step.at, added, step.reason))
        if added.in_working_days == total.in_working_days:
            total = total.plus(added.count)
            due = count_from(starts_on, total, calendar, roll_to_workday=config.roll_to_workday)
        else:
            due = count_from(due, added, calendar, roll_to_workday=config.roll_to_workday)
    return tuple(counted), tuple(ignored), due


def _revisit_clock(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> Clock | None:
    rule = config.revisit
    if rule is None or case.channel not in rule.channels or case.concluded_at is None:
        return None
    starts_on = _local(case.concluded_at, zone)
    due = count_from(starts_on, rule.limit, calendar, roll_to_workday=config.roll_to_workday)
    revisited = _first(case, (CaseAction.REVISITED, CaseAction.RESOLVED))
    stopped_at, reason = _stopped(revisited, due, zone)
    return Clock(
        rule=CASE_REVISIT,
        name_zh=rule.name_zh,
        case_id=case.case_id,
        starts_on=starts_on,
        limit=rule.limit,
        due=due,
        basis_zh=f"办结后{rule.limit.label_zh}内回访",
        source=rule.source,
        reminders=rule.reminders,
        stopped_at=stopped_at,
        stop_reason=reason,
    )


# --- what is due on a day --------------------------------------------------------------------------


def stage_on(today: date, clock: Clock, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> Stage | None:
    """The clock's stage on a local day: a reminder, 逾期, 严重逾期, or None (not yet, or stopped)."""
    if not clock.is_running:
        return None
    if today > clock.due:
        serious = config.seriously_overdue
        if serious is not None:
            serious_from = count_from(clock.due, serious.after, calendar, roll_to_workday=False) + timedelta(days=1)
            if today >= serious_from:
                return Stage(SERIOUSLY_OVERDUE, serious.severity, local_midnight(serious_from, zone), 2)
        return Stage(OVERDUE, config.overdue_severity, local_midnight(clock.due + timedelta(days=1), zone), 1)
    reached = [
        (first_day, reminder)
        for reminder in clock.reminders
        if clock.starts_on < (first_day := count_back(clock.due, reminder.before, calendar)) <= today
    ]
    if not reached:
        return None
    first_day, reminder = max(reached, key=lambda pair: pair[0])
    suffix = "wd" if reminder.before.in_working_days else ""
    return Stage(f"T-{reminder.before.count}{suffix}", reminder.severity, local_midnight(first_day, zone), 0)


def case_labels(case: CaseFile, clock: Clock) -> dict[str, str]:
    return {"rule": clock.rule, "case_id": case.case_id, "channel": case.channel.value}


def clock_signal(
    case: CaseFile,
    clock: Clock,
    *,
    today: date,
    current: Alert | None,
    config: CaseworkConfig,
    calendar: WorkCalendar,
    ladder: Sequence[str],
    zone: ZoneInfo,
) -> Signal | None:
    """What the clock looks like on `today`: stopped (resolve), a stage (fire), or nothing yet.

    `current` is the latest alert of the clock's fingerprint (`fingerprint(case_labels(...))`).
    """
    labels = case_labels(case, clock)
    if not clock.is_running:
        assert clock.stopped_at is not None
        assert clock.stop_reason is not None
        return Cleared(fingerprint(labels), clock.stopped_at, reason=clock.stop_reason)
    stage = stage_on(today, clock, config, calendar, zone)
    if stage is None:
        return None
    if current is not None and current.is_open and current.last_seen > stage.since:
        return None  # a clock running backwards (a replayed tick) never takes a stage back
    first_seen = current.first_seen if current is not None and current.is_open else stage.since
    step = ladder[min(stage.step, len(ladder) - 1)] if ladder else ""
    return Firing(
        labels=labels,
        severity=stage.severity,
        title_zh=case_title(case, clock, stage, step),
        summary_zh=case_summary_zh(case, clock, stage),
        at=stage.since,
        first_seen=first_seen,
        last_seen=stage.since,
        severity_since=stage.since,
        stage=stage.name,
        annotations={
            "due": clock.due.isoformat(),
            "unit_name": case.unit_name,
            "category": case.category,
            "step": step,
            "source": clock.source,
        },
        once=True,
    )


def case_signals(
    case: CaseFile,
    *,
    today: date,
    latest: dict[str, Alert] | None = None,
    config: CaseworkConfig,
    calendar: WorkCalendar,
    ladder: Sequence[str],
    zone: ZoneInfo,
) -> list[Signal]:
    """Every clock's signal on `today`; `latest` maps a fingerprint to its latest alert.

    Evaluate each case with a running clock or an open alert once per local day (as `deadlines`
    are), and each case again when one of its actions arrives. A date beyond the holiday data
    raises `workdays.UnsupportedYear`: report it, do not guess.
    """
    found = []
    for clock in clocks_of(case, config, calendar, zone):
        current = (latest or {}).get(fingerprint(case_labels(case, clock)))
        signal = clock_signal(
            case, clock, today=today, current=current, config=config, calendar=calendar, ladder=ladder, zone=zone
        )
        if signal is not None:
            found.append(signal)
    return found


# --- texts ----------------------------------------------------------------------------------------


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def case_name(case: CaseFile) -> str:
    return f"12345工单{case.case_id}" if case.channel is CaseChannel.HOTLINE else f"信访件{case.case_id}"


def case_title(case: CaseFile, clock: Clock, stage: Stage, step: str) -> str:
    name = case_name(case)
    tag = f"【{step}】" if step else ""
    if stage.name in (OVERDUE, SERIOUSLY_OVERDUE):
        missing = {CASE_ACCEPTANCE: "未告知受理情况", CASE_HANDLING: "未办结", CASE_REVISIT: "未回访"}[clock.rule]
        worse = "，已严重超期" if stage.name == SERIOUSLY_OVERDUE else ""
        return f"{tag}{name}超过{clock.name_zh}（{_md(clock.due)}）{missing}{worse}"
    return f"{tag}{name}{clock.name_zh}将于{_md(clock.due)}届满"


def case_summary_zh(case: CaseFile, clock: Clock, stage: Stage) -> str:
    category = f"，{case.category}" if case.category else ""
    parts = [
        f"{case_name(case)}（{case.channel.value}{category}，{case.unit_name}承办）",
        f"{clock.name_zh}：{clock.basis_zh}，自{clock.starts_on.isoformat()}起算，{clock.due.isoformat()}届满",
    ]
    for extension in clock.extensions:
        reason = f"，理由：{extension.reason}" if extension.reason else ""
        parts.append(f"已延期{extension.added.label_zh}{reason}")
    parts.extend(f"{item.on.isoformat()}的延期申请未计入（{item.why_zh}）" for item in clock.ignored_extensions)
    state = {OVERDUE: "已逾期", SERIOUSLY_OVERDUE: "已严重逾期"}.get(stage.name, "即将到期")
    return "；".join(parts) + f"。{state}。依据：{clock.source}"


# --- for lists and rates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """One line of `duban cases list`: the case, its state, and the clock that matters now."""

    case_id: str
    channel: str
    category: str
    unit_name: str
    state: str  # the Chinese label, e.g. 办理中
    is_open: bool
    clock: str | None  # the clock whose due date is shown, e.g. 办理期限
    due: date | None
    overdue: bool
    stage: str | None


def case_row(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo, today: date) -> CaseRow:
    """The case for a list: the running clock due first, else the handling clock's (or the last) due date."""
    clocks = clocks_of(case, config, calendar, zone)
    running = sorted((clock for clock in clocks if clock.is_running), key=lambda clock: clock.due)
    handling = next((clock for clock in clocks if clock.rule == CASE_HANDLING), None)
    shown = running[0] if running else handling or (clocks[-1] if clocks else None)
    stage = stage_on(today, shown, config, calendar, zone) if shown is not None else None
    return CaseRow(
        case_id=case.case_id,
        channel=case.channel.value,
        category=case.category,
        unit_name=case.unit_name,
        state=case.state.label_zh,
        is_open=case.state.is_open,
        clock=shown.name_zh if shown is not None else None,
        due=shown.due if shown is not None else None,
        overdue=shown is not None and shown.is_running and today > shown.due,
        stage=stage.name if stage is not None else None,
    )


def case_summary(case: CaseFile, config: CaseworkConfig, calendar: WorkCalendar, zone: ZoneInfo) -> CaseSummary:
    """The case as the rates count it, with the handling clock's due date."""
    handling = handling_clock(case, config, calendar, zone)
    if handling is None or handling.stop_reason == FORWARDED:
        return case.summary(None, zone)
    return replace(case.summary(handling.due, zone), accepted_on=handling.starts_on)
