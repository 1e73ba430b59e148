"""What a leader report shows, as plain data: the aggregates fill it, the renderers only read it.

Everything here is a snapshot "as of" one instant of the event-time clock. Values are in the
targets' base units and ratios are fractions (90% = 0.9), as in the plan model. Counts that can
be derived from the rows the report lists (targets by status, reporting totals) are derived here,
so that a headline can never disagree with its appendix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from duban_contracts.events import IncidentCategory, IncidentGrade, Severity, TargetStatus
from duban_contracts.plan.model import Comparator, TargetKind
from duban_contracts.plan.wording import (
    COUNTED_ORDER,
    CountedAs,
    Figure,
    Terms,
    counted_as,
    figure_zh,
    is_paced,
    status_zh,
)

from .casework import CaseworkSection
from .data_quality import DataQualitySection
from .formatting import format_quantity
from .periods import Period, ReportKind, local_date, require_aware

#: The order a leader reads statuses in: done first, not started last.
STATUS_ORDER: tuple[TargetStatus, ...] = (
    TargetStatus.DONE,
    TargetStatus.ON_TRACK,
    TargetStatus.LAGGING,
    TargetStatus.CRITICAL,
    TargetStatus.OVERDUE,
    TargetStatus.NOT_STARTED,
)

#: Worst first: the order of the late list.
STATUS_URGENCY: tuple[TargetStatus, ...] = (
    TargetStatus.OVERDUE,
    TargetStatus.CRITICAL,
    TargetStatus.LAGGING,
    TargetStatus.NOT_STARTED,
    TargetStatus.ON_TRACK,
    TargetStatus.DONE,
)

LATE_STATUSES = frozenset({TargetStatus.LAGGING, TargetStatus.CRITICAL, TargetStatus.OVERDUE})


class TrafficLight(StrEnum):
    """督查督办's traffic light: green on track, yellow behind, red seriously behind or overdue."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"

    @property
    def label_zh(self) -> str:
        return _LIGHT_ZH[self]


_LIGHT_ZH = {
    TrafficLight.GREEN: "绿灯",
    TrafficLight.YELLOW: "黄灯",
    TrafficLight.RED: "红灯",
    TrafficLight.GREY: "灰灯",
}

_LIGHTS = {
    TargetStatus.DONE: TrafficLight.GREEN,
    TargetStatus.ON_TRACK: TrafficLight.GREEN,
    TargetStatus.LAGGING: TrafficLight.YELLOW,
    TargetStatus.CRITICAL: TrafficLight.RED,
    TargetStatus.OVERDUE: TrafficLight.RED,
    TargetStatus.NOT_STARTED: TrafficLight.GREY,
}


def traffic_light(status: TargetStatus | None) -> TrafficLight:
    """Grey where nothing is known yet (not started, or no status at all)."""
    return TrafficLight.GREY if status is None else _LIGHTS[status]


def count_as(tallies: Iterable[CountedAs]) -> dict[CountedAs, int]:
    """Every tally in COUNTED_ORDER, zero included: the six statuses, then 达标 / 未达标 / 暂无测量 for rules."""
    counted = Counter(tallies)
    return {key: counted[key] for key in COUNTED_ORDER}


@dataclass(frozen=True)
class PlanInfo:
    title: str  # 巴州区教育科技和体育局2023年度教育科技体育工作计划
    issuer: str  # 巴州区教育科技和体育局
    year: int


@dataclass(frozen=True)
class TargetRow:
    """One plan target as of the report: a row of the appendix and of the XLSX section sheets."""

    section_no: str  # 一 … 九
    section_title: str
    task_no: int
    task_title: str
    target_id: str
    text: str  # the plan's verbatim phrase
    metric: str
    target_value: float
    unit: str  # base unit, or "ratio"
    status: TargetStatus
    due: date
    actual: float | None = None
    completion: float | None = None  # actual as a share of the target (1.0 = met)
    expected: float | None = None  # 序时进度 at as_of
    comparator: Comparator = Comparator.GE
    kind: TargetKind = TargetKind.CUMULATIVE_COUNT
    responsible: tuple[str, ...] = ()
    every: str | None = None  # a periodic duty's period
    breaches: tuple[str, ...] = ()  # who breaks a constraint (classes, schools), where known
    achieved_on: date | None = None  # when a level target was first judged reached

    @property
    def light(self) -> TrafficLight:
        return traffic_light(self.status)

    @property
    def status_zh(self) -> str:
        """The status in the words of the target's kind (a broken rule is 未达标, not 严重滞后)."""
        return status_zh(self.kind, self.status)

    @property
    def counted_as(self) -> CountedAs:
        """What the row is counted as in a headline: a broken rule under 未达标, not 严重滞后."""
        return counted_as(self.kind, self.status)

    @property
    def paced(self) -> bool:
        """Whether 完成率 and 序时进度 speak of this target (only a plain quantity's do)."""
        return is_paced(self.kind)

    @property
    def figure_zh(self) -> str:
        """The target's figure in the words of its kind: 3个班超过55人, 较上年增长12%（目标增长10%以上）."""
        terms = Terms(self.kind, self.target_value, self.unit, self.metric, self.due, self.comparator, self.every)
        figure = Figure(
            self.actual, self.completion, self.expected, breaches=self.breaches, achieved_on=self.achieved_on
        )
        return figure_zh(terms, self.status, figure, quantity=format_quantity)

    @property
    def is_late(self) -> bool:
        return self.status in LATE_STATUSES

    def days_overdue(self, as_of: datetime) -> int:
        """Whole days past the due date at `as_of` (0 when not yet due)."""
        return max(0, (local_date(as_of) - self.due).days)


@dataclass(frozen=True)
class TaskProgress:
    no: int
    title: str
    status: TargetStatus | None
    completion: float | None
    expected: float | None
    responsible: tuple[str, ...] = ()

    @property
    def light(self) -> TrafficLight:
        return traffic_light(self.status)


@dataclass(frozen=True)
class SectionProgress:
    """A section of the plan (一 … 九) as the tasks service rolled it up."""

    no: str
    index: int
    title: str  # 深化党建引领，筑牢战斗堡垒
    status: TargetStatus | None
    completion: float | None
    expected: float | None
    tasks: tuple[TaskProgress, ...] = ()

    @property
    def light(self) -> TrafficLight:
        return traffic_light(self.status)

    @property
    def short_title(self) -> str:
        """The first clause: 深化党建引领."""
        return self.title.replace(",", "，").split("，")[0]


@dataclass(frozen=True)
class AlertFigures:
    opened: int = 0
    acknowledged: int = 0
    resolved: int = 0
    open_at_end: int = 0
    median_time_to_acknowledge: timedelta | None = None
    median_time_to_resolve: timedelta | None = None
    opened_by_severity: Mapping[Severity, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Headline:
    """The figures of 一、总体情况 that the rows of the report cannot give by themselves."""

    plan_completion: float | None  # the plan's overall completion, as the tasks service computes it
    expected_completion: float | None  # 序时进度 of the plan at as_of
    incidents_in_period: int = 0
    incidents_year_to_date: int = 0
    deaths_in_period: int = 0
    injuries_in_period: int = 0
    deaths_year_to_date: int = 0
    injuries_year_to_date: int = 0
    outbreaks_in_period: int = 0
    outbreaks_active: int = 0
    alerts: AlertFigures = AlertFigures()
    submissions_received: int = 0
    submissions_rejected: int = 0


K = TypeVar("K")


@dataclass(frozen=True)
class Tally(Generic[K]):
    """Incidents counted under one key: a category, a grade, a township or a month."""

    key: K
    incidents: int
    deaths: int = 0
    injuries: int = 0


@dataclass(frozen=True)
class IncidentItem:
    """An incident a leader should read about by name (casualties, or a grade)."""

    occurred_at: datetime
    unit_name: str
    category: IncidentCategory
    township: str | None = None
    grade: IncidentGrade | None = None
    deaths: int = 0
    injuries: int = 0
    summary: str | None = None
    report_delay: timedelta | None = None  # reported_at - occurred_at


class OutbreakStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"

    @property
    def label_zh(self) -> str:
        return "持续中" if self is OutbreakStatus.ACTIVE else "已结束"


@dataclass(frozen=True)
class OutbreakItem:
    """A cluster of infectious disease in one school (学校和托幼机构传染病疫情报告工作规范)."""

    school: str
    disease: str
    cases: int
    first_case: date
    last_case: date
    status: OutbreakStatus
    township: str | None = None


@dataclass(frozen=True)
class SafetySummary:
    """Incidents in the period, broken down as the lead's GROUP BYs give them."""

    by_category: tuple[Tally[IncidentCategory], ...] = ()
    by_grade: tuple[Tally[IncidentGrade | None], ...] = ()
    by_township: tuple[Tally[str | None], ...] = ()
    by_month: tuple[Tally[date], ...] = ()  # key: the first day of the month
    notable: tuple[IncidentItem, ...] = ()
    outbreaks: tuple[OutbreakItem, ...] = ()


class _Completeness:
    """Reading reports received and on time against those expected (a unit's, or the district's)."""

    expected: int
    received: int
    on_time: int

    @property
    def late(self) -> int:
        return self.received - self.on_time

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def reporting_rate(self) -> float | None:
        return _rate(self.received, self.expected)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.expected)


@dataclass(frozen=True)
class UnitReporting(_Completeness):
    """Reporting completeness of one unit, in DHIS2's sense: received and on-time reports over expected."""

    unit_id: str
    unit_name: str
    expected: int
    received: int
    on_time: int
    township: str | None = None
    rejected: int = 0

    @property
    def complete(self) -> bool:
        """Everything expected arrived on time."""
        return self.on_time >= self.expected


@dataclass(frozen=True)
class ReportingTotals(_Completeness):
    units: int
    expected: int
    received: int
    on_time: int
    rejected: int


@dataclass(frozen=True)
class ProgressPoint:
    """The plan's completion at the end of one week or month, against 序时进度."""

    at: date
    actual: float
    expected: float


@dataclass(frozen=True)
class Trends:
    progress: tuple[ProgressPoint, ...] = ()
    incidents_by_month: tuple[Tally[date], ...] = ()  # the year to date


@dataclass(frozen=True)
class SignOffFigures:
    """销号 at the report's instant: targets by sign-off state, approved figures apart from self-reported."""

    approved: int
    pending: int
    returned: int
    approved_below_reported: int = 0  # signed off at a figure lower than the units report now


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows; its kind is its period's (an on-demand date range is a 阶段报告)."""

    period: Period
    as_of: datetime  # the event-time instant the figures describe (usually the period's end)
    plan: PlanInfo
    headline: Headline
    sections: tuple[SectionProgress, ...]
    targets: tuple[TargetRow, ...]
    safety: SafetySummary = SafetySummary()
    reporting: tuple[UnitReporting, ...] = ()
    trends: Trends = Trends()
    casework: CaseworkSection | None = None  # 信访维稳 (task 25); None where no case was ever recorded
    data_quality: DataQualitySection | None = None  # None where the period has no figures to score
    signoff: SignOffFigures | None = None  # 销号; None where no target ever went to sign-off

    def __post_init__(self) -> None:
        require_aware(self.as_of)

    @property
    def kind(self) -> ReportKind:
        return self.period.kind

    @property
    def title(self) -> str:
        """巴州区教育科技和体育局 2023年第二季度工作计划执行情况报告（季报）."""
        return f"{self.plan.issuer} {self.period.title_label_zh}工作计划执行情况报告（{self.kind.label_zh}）"

    @property
    def status_counts(self) -> dict[CountedAs, int]:
        """Targets by what they are counted as, as the tasks service counts them (a rule: 达标 or 未达标)."""
        return count_as(row.counted_as for row in self.targets)

    def section_targets(self, section_no: str) -> tuple[TargetRow, ...]:
        return tuple(row for row in self.targets if row.section_no == section_no)

    @property
    def late_targets(self) -> tuple[TargetRow, ...]:
        """Lagging, seriously lagging and overdue targets, worst and earliest due first."""
        late = [row for row in self.targets if row.is_late]
        return tuple(sorted(late, key=lambda row: (STATUS_URGENCY.index(row.status), row.due, row.target_id)))

    @property
    def late_by_owner(self) -> tuple[tuple[str, int], ...]:
        """How many late targets each responsible unit owns, most first (未明确 where nobody is named)."""
        owners = Counter(owner for row in self.late_targets for owner in (row.responsible or ("未明确",)))
        return tuple(sorted(owners.items(), key=lambda item: (-item[1], item[0])))

    @property
    def reporting_totals(self) -> ReportingTotals:
        return ReportingTotals(
            units=len(self.reporting),
            expected=sum(unit.expected for unit in self.reporting),
            received=sum(unit.received for unit in self.reporting),
            on_time=sum(unit.on_time for unit in self.reporting),
            rejected=sum(unit.rejected for unit in self.reporting),
        )

    @property
    def reporting_gaps(self) -> tuple[UnitReporting, ...]:
        """Units with missing or late reports, lowest on-time rate first."""
        gaps = [unit for unit in self.reporting if not unit.complete]
        return tuple(
            sorted(gaps, key=lambda unit: (unit.on_time_rate or 0.0, unit.reporting_rate or 0.0, unit.unit_id))
        )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
