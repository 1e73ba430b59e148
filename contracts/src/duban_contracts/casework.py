"""Casework (信访 and the 12345 hotline): the shared vocabulary, a case's file, and the rates.

Task 25 of the plan asks the bureau to handle 信访 cases under the 《信访工作条例》(2022), to deal with
matters passed down from above (上级交办), letters and visits and the "12345" citizen hotline, and to
raise 办结率, 满意度 and 化解率. Every service that counts cases counts them with the functions here,
so the tasks service's rate targets and the leaders' reports agree to the case.

A case is a sequence of recorded actions (`case.recorded` events): received, accepted, forwarded,
extended, concluded, revisited, resolved. `fold_case` turns them into a `CaseFile`; event time
decides, never arrival order, and a duplicate (same event id) counts once. Time limits (the clocks)
are the alerts service's business (they need the working-day calendar); a `CaseSummary` carries the
due date the clock gave, and the rates are pure functions over summaries.

Personal data: a case carries no petitioner's name, phone number, ID number or address — only the
office's own case number, the channel, the category, the handling unit and the dates. Free text
(`reason`, `note`) is masked by ingest like every other note.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from .timezone import SHANGHAI

if TYPE_CHECKING:
    from .events import CaseRecorded, CaseSummarised


class CaseChannel(StrEnum):
    """How a matter reached the bureau (信访工作条例 第十七条: 信息网络、书信、电话、传真、走访)."""

    LETTER = "来信"
    VISIT = "来访"
    ONLINE = "网上信访"
    HOTLINE = "12345"  # a work order (工单) from the 12345 citizen hotline
    ASSIGNED = "上级交办"  # passed down by a higher authority (信访工作条例 第二十二条)


class CaseAction(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    FORWARDED = "forwarded"
    EXTENDED = "extended"
    CONCLUDED = "concluded"
    REVISITED = "revisited"
    RESOLVED = "resolved"

    @property
    def label_zh(self) -> str:
        return _ACTION_ZH[self]


_ACTION_ZH = {
    CaseAction.RECEIVED: "登记",
    CaseAction.ACCEPTED: "受理",
    CaseAction.FORWARDED: "转送",
    CaseAction.EXTENDED: "延期",
    CaseAction.CONCLUDED: "办结",
    CaseAction.REVISITED: "回访",
    CaseAction.RESOLVED: "化解",
}

#: Same-instant actions are ordered as a case moves (registration before acceptance …).
_ACTION_ORDER = {action: rank for rank, action in enumerate(CaseAction)}


class CaseState(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    EXTENDED = "extended"
    FORWARDED = "forwarded"
    CONCLUDED = "concluded"
    REVISITED = "revisited"
    RESOLVED = "resolved"

    @property
    def label_zh(self) -> str:
        return _STATE_ZH[self]

    @property
    def is_open(self) -> bool:
        """Still with the bureau to handle (not concluded, not forwarded away)."""
        return self in (CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.EXTENDED)


_STATE_ZH = {
    CaseState.RECEIVED: "待受理",
    CaseState.ACCEPTED: "办理中",
    CaseState.EXTENDED: "延期办理",
    CaseState.FORWARDED: "已转送",
    CaseState.CONCLUDED: "已办结",
    CaseState.REVISITED: "已回访",
    CaseState.RESOLVED: "已化解",
}


class Satisfaction(StrEnum):
    """The petitioner's rating on a revisit (回访), as 信访 and 12345 systems record it."""

    SATISFIED = "满意"
    BASICALLY_SATISFIED = "基本满意"
    DISSATISFIED = "不满意"


#: Ratings that count as satisfied in 满意度 (the usual 满意率 = (满意 + 基本满意) / 参评件数).
SATISFIED_RATINGS: frozenset[Satisfaction] = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


# --- one case ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseStep:
    """One recorded action on a case (a `case.recorded` event, as the domain sees it)."""

    event_id: str
    case_id: str
    action: CaseAction
    at: datetime
    channel: CaseChannel
    unit_id: str
    unit_name: str
    category: str = ""
    satisfaction: Satisfaction | None = None
    limit_working_days: int | None = None
    extension_days: int | None = None
    reason: str | None = None
    forwarded_to: str | None = None

    @property
    def order(self) -> tuple[datetime, int, str]:
        return (self.at, _ACTION_ORDER[self.action], self.event_id)


@dataclass(frozen=True)
class Revisit:
    at: datetime
    satisfaction: Satisfaction | None


@dataclass(frozen=True)
class CaseFile:
    """A case as its actions up to some time make it.

    - `received_at`: the earliest `received`; a case first seen through a later action counts as
      received then.
    - `accepted_at`, `concluded_at`, `resolved_at`: the earliest of each (a repeat is a re-send or
      a correction, not a new event in the case's life).
    - `forwarded_at`: the latest `forwarded`; the case has left the bureau (已转送) unless it was
      accepted again afterwards (e.g. handed back after an objection) or concluded.
    - `extensions`: every `extended`, in event time; the clocks decide which one counts.
    - `revisits`: every `revisited`, in event time; the latest rating counts.
    - `channel` and `category` come from the registration (else the first action); `unit_id` and
      `unit_name` from the latest (the unit handling it now); `limit_working_days` from the latest
      action that gives one (a work order's own time limit).
    """

    case_id: str
    channel: CaseChannel
    category: str
    unit_id: str
    unit_name: str
    received_at: datetime
    accepted_at: datetime | None
    forwarded_at: datetime | None
    concluded_at: datetime | None
    resolved_at: datetime | None
    extensions: tuple[CaseStep, ...]
    revisits: tuple[Revisit, ...]
    limit_working_days: int | None
    steps: tuple[CaseStep, ...]

    @property
    def is_forwarded(self) -> bool:
        if self.forwarded_at is None or self.concluded_at is not None:
            return False
        return self.accepted_at is None or not any(
            step.action is CaseAction.ACCEPTED and step.at > self.forwarded_at for step in self.steps
        )

    @property
    def satisfaction(self) -> Satisfaction | None:
        rated = [revisit for revisit in self.revisits if revisit.satisfaction is not None]
        return rated[-1].satisfaction if rated else None

    @property
    def rated_at(self) -> datetime | None:
        rated = [revisit for revisit in self.revisits if revisit.satisfaction is not None]
        return rated[-1].at if rated else None

    @property
    def state(self) -> CaseState:
        if self.resolved_at is not None:
            return CaseState.RESOLVED
        if self.concluded_at is not None:
            return CaseState.REVISITED if self.revisits else CaseState.CONCLUDED
        if self.is_forwarded:
            return CaseState.FORWARDED
        if self.extensions and self.accepted_at is not None:
            return CaseState.EXTENDED
        if self.accepted_at is not None:
            return CaseState.ACCEPTED
        return CaseState.RECEIVED

    def summary(self, due: date | None, zone: ZoneInfo = SHANGHAI) -> CaseSummary:
        """What the rates need, with `due` (the last day on time to conclude) from the case's clock."""

        def local(moment: datetime | None) -> date | None:
            return moment.astimezone(zone).date() if moment is not None else None

        handling_start = self.received_at if self.channel is CaseChannel.HOTLINE else self.accepted_at
        if handling_start is None and self.concluded_at is not None:
            handling_start = self.received_at  # concluded without a recorded acceptance (e.g. 当场答复)
        return CaseSummary(
            case_id=self.case_id,
            channel=self.channel,
            unit_id=self.unit_id,
            received_on=self.received_at.astimezone(zone).date(),
            accepted_on=local(handling_start),
            concluded_on=local(self.concluded_at),
            due=due,
            forwarded_on=local(self.forwarded_at) if self.is_forwarded else None,
            rated_on=local(self.rated_at),
            satisfaction=self.satisfaction,
            resolved_on=local(self.resolved_at),
        )


class CaseMismatch(ValueError):
    pass


def fold_case(steps: Iterable[CaseStep], as_of: datetime | None = None) -> CaseFile:
    """The case file from its actions (only those at or before `as_of`, when given).

    Duplicates (same event id) count once; the result does not depend on the order of `steps`.
    """
    unique = {step.event_id: step for step in steps if as_of is None or step.at <= as_of}
    ordered = tuple(sorted(unique.values(), key=lambda step: step.order))
    if not ordered:
        raise CaseMismatch("a case needs at least one action / 信访件至少要有一条办理记录")
    case_ids = {step.case_id for step in ordered}
    if len(case_ids) > 1:
        raise CaseMismatch(f"actions of different cases folded together / 不同信访件的记录不能合并: {sorted(case_ids)}")

    def first(action: CaseAction) -> CaseStep | None:
        return next((step for step in ordered if step.action is action), None)

    def at(step: CaseStep | None) -> datetime | None:
        return step.at if step is not None else None

    registration = first(CaseAction.RECEIVED) or ordered[0]
    forwarded = [step for step in ordered if step.action is CaseAction.FORWARDED]
    limits = [step.limit_working_days for step in ordered if step.limit_working_days is not None]
    return CaseFile(
        case_id=registration.case_id,
        channel=registration.channel,
        category=registration.category,
        unit_id=ordered[-1].unit_id,
        unit_name=ordered[-1].unit_name,
        received_at=min(registration.at, ordered[0].at),
        accepted_at=at(first(CaseAction.ACCEPTED)),
        forwarded_at=forwarded[-1].at if forwarded else None,
        concluded_at=at(first(CaseAction.CONCLUDED)),
        resolved_at=at(first(CaseAction.RESOLVED)),
        extensions=tuple(step for step in ordered if step.action is CaseAction.EXTENDED),
        revisits=tuple(Revisit(step.at, step.satisfaction) for step in ordered if step.action is CaseAction.REVISITED),
        limit_working_days=limits[-1] if limits else None,
        steps=ordered,
    )


# --- the rates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSummary:
    """One case as the rates count it: local dates (Asia/Shanghai) and the due date of its clock.

    `accepted_on` is the day the handling clock starts: the acceptance for 信访 channels (the receipt
    when a case was concluded without a recorded acceptance), the receipt of the work order for
    12345. `due` is the last day on time to conclude (extension included), None when no clock runs
    (not yet accepted, or forwarded away).
    """

    case_id: str
    channel: CaseChannel
    unit_id: str
    received_on: date
    accepted_on: date | None = None
    concluded_on: date | None = None
    due: date | None = None
    forwarded_on: date | None = None
    rated_on: date | None = None
    satisfaction: Satisfaction | None = None
    resolved_on: date | None = None

    def concluded_by(self, day: date) -> bool:
        return self.concluded_on is not None and self.concluded_on <= day

    def forwarded_by(self, day: date) -> bool:
        return self.forwarded_on is not None and self.forwarded_on <= day

    @property
    def decided_on(self) -> date | None:
        """The day the case's timeliness was settled: concluded on time, or first overdue day."""
        if self.due is None:
            return None
        if self.concluded_on is not None and self.concluded_on <= self.due:
            return self.concluded_on
        return self.due + timedelta(days=1)

    @property
    def on_time(self) -> bool | None:
        if self.due is None:
            return None
        return self.concluded_on is not None and self.concluded_on <= self.due


PeriodKind = Literal["month", "quarter", "year"]


@dataclass(frozen=True)
class Period:
    label: str  # 2023-06, 2023-Q2, 2023
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(f"{year}-{month:02d}", date(year, month, 1), following - timedelta(days=1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first, last = cls.month(year, 3 * quarter - 2), cls.month(year, 3 * quarter)
        return cls(f"{year}-Q{quarter}", first.first, last.last)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(str(year), date(year, 1, 1), date(year, 12, 31))


def periods(year: int, kind: PeriodKind) -> list[Period]:
    if kind == "month":
        return [Period.month(year, month) for month in range(1, 13)]
    if kind == "quarter":
        return [Period.quarter(year, quarter) for quarter in range(1, 5)]
    return [Period.year(year)]


RateName = Literal["办结率", "按期办结率", "满意度", "化解率"]
RATE_NAMES: tuple[RateName, ...] = ("办结率", "按期办结率", "满意度", "化解率")


@dataclass(frozen=True)
class Rate:
    name: RateName
    period: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share, or None when nothing counts (no case is not 0 %, nor 100 %)."""
        return self.numerator / self.denominator if self.denominator else None


def _as_of(period: Period, as_of: date | None) -> date:
    return min(period.last, as_of) if as_of is not None else period.last


def conclusion_rate(cases: Sequence[CaseSummary], period: Period, as_of: date | None = None) -> Rate:
    """办结率: of the cases whose handling started in the period, the share concluded.

    Counted: cases whose handling clock started (`accepted_on`) within the period and by `as_of`,
    not forwarded away by `as_of`. The denominator leaves out the cases still within their time
    limit on `as_of` (open and `due` on or after `as_of`): they are neither done nor late yet. So
    办结率 = concluded / (concluded + open past due). `as_of` defaults to the period's last day; a
    later `as_of` (never past the period's end) sees later conclusions of the same cohort only if
    they happened within the period.
    """
    day = _as_of(period, as_of)
    concluded = late_open = 0
    for case in cases:
        if case.accepted_on is None or case.accepted_on not in period or case.accepted_on > day:
            continue
        if case.forwarded_by(day):
            continue
        if case.concluded_by(day):
            concluded += 1
        elif case.due is not None and case.due < day:
            late_open += 1
    return Rate("办结率", period.label, concluded, concluded + late_open)


def on_time_rate(cases: Sequence[CaseSummary], period: Period, as_of: date | None = None) -> Rate:
    """按期办结率: of the cases whose timeliness was settled in the period, the share concluded in time.

    A case's timeliness is settled once: on the day it is concluded if that is on or before its
    `due` (on time), else on the day after `due` (late — whether it is concluded later or never).
    It counts in the period containing that day, if the day is on or before `as_of`. Forwarded
    cases and cases without a clock do not count.
    """
    day = _as_of(period, as_of)
    on_time = settled = 0
    for case in cases:
        decided = case.decided_on
        if decided is None or decided not in period or decided > day or case.forwarded_by(day):
            continue
        settled += 1
        on_time += bool(case.on_time)
    return Rate("按期办结率", period.label, on_time, settled)


def satisfaction_rate(cases: Sequence[CaseSummary], period: Period, as_of: date | None = None) -> Rate:
    """满意度: of the cases rated on a revisit in the period, the share rated 满意 or 基本满意.

    A case counts in the period of its latest rated revisit (`rated_on`), if that is on or before
    `as_of`; revisits without a rating (未参评) do not count.
    """
    day = _as_of(period, as_of)
    satisfied = rated = 0
    for case in cases:
        if case.rated_on is None or case.rated_on not in period or case.rated_on > day:
            continue
        rated += 1
        satisfied += case.satisfaction in SATISFIED_RATINGS
    return Rate("满意度", period.label, satisfied, rated)


def resolution_rate(cases: Sequence[CaseSummary], period: Period, as_of: date | None = None) -> Rate:
    """化解率: of the cases concluded in the period, the share resolved (化解, 事要解决) by `as_of`.

    A concluded case is answered; a resolved one is settled for good (the petitioner's matter is
    disposed of, no repeat petition). Counted: cases concluded within the period and by `as_of`.
    """
    day = _as_of(period, as_of)
    resolved = concluded = 0
    for case in cases:
        if case.concluded_on is None or case.concluded_on not in period or case.concluded_on > day:
            continue
        concluded += 1
        resolved += case.resolved_on is not None and case.resolved_on <= day
    return Rate("化解率", period.label, resolved, concluded)


def case_rates(cases: Sequence[CaseSummary], period: Period, as_of: date | None = None) -> dict[RateName, Rate]:
    """All four rates of a period, in the order of `RATE_NAMES`."""
    return {
        "办结率": conclusion_rate(cases, period, as_of),
        "按期办结率": on_time_rate(cases, period, as_of),
        "满意度": satisfaction_rate(cases, period, as_of),
        "化解率": resolution_rate(cases, period, as_of),
    }


def improved(current: float | None, baseline: float | None, min_gain: float = 0.0) -> bool | None:
    """Whether a rate "进一步提高" against last year's figure (the plan's task 25).

    Met when the rate is above the baseline by more than nothing and at least `min_gain`
    (percentage points as a fraction: 0.01 = one point), or when both are already 100 % (a rate
    cannot rise above 100 %; keeping it is the most there is). None when either figure is unknown.
    """
    if current is None or baseline is None:
        return None
    if baseline >= 1.0 and current >= 1.0:
        return True
    return current > baseline and current - baseline >= min_gain


def summary_of(event: CaseSummarised) -> CaseSummary:
    """The domain's view of a `case.summarised` event."""
    return CaseSummary(
        case_id=event.case_id,
        channel=event.channel,
        unit_id=event.unit.id,
        received_on=event.received_on,
        accepted_on=event.accepted_on,
        concluded_on=event.concluded_on,
        due=event.due,
        forwarded_on=event.forwarded_on,
        rated_on=event.rated_on,
        satisfaction=event.satisfaction,
        resolved_on=event.resolved_on,
    )


def step_of(event: CaseRecorded) -> CaseStep:
    """The domain's view of a `case.recorded` event."""
    return CaseStep(
        event_id=event.event_id,
        case_id=event.case_id,
        action=event.action,
        at=event.occurred_at,
        channel=event.channel,
        unit_id=event.unit.id,
        unit_name=event.unit.name,
        category=event.category,
        satisfaction=event.satisfaction,
        limit_working_days=event.limit_working_days,
        extension_days=event.extension_days,
        reason=event.reason,
        forwarded_to=event.forwarded_to,
    )
