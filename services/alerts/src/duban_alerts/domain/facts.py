"""What the alerts domain is told: small facts mapped from the canonical events at the edge.

Fields follow the events (IncidentReported, MeasurementRecorded, ActivityRecorded,
TaskStatusChanged) so the mapping is one line per field. `fact_id` is the event id; `known_at` is
when the bureau could first know the fact — the domain's clock for that fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from duban_contracts.events import IncidentCategory, IncidentGrade, TargetStatus


@dataclass(frozen=True)
class IncidentFact:
    fact_id: str
    occurred_at: datetime
    reported_at: datetime
    unit_id: str
    unit_name: str
    category: IncidentCategory
    disease: str | None = None
    grade: IncidentGrade | None = None
    cases: int = 0
    deaths: int = 0
    injuries: int = 0
    class_name: str | None = None
    summary: str | None = None

    @property
    def known_at(self) -> datetime:
        return self.reported_at

    @property
    def report_delay(self) -> float:
        """Seconds between the incident and its report."""
        return (self.reported_at - self.occurred_at).total_seconds()


@dataclass(frozen=True)
class MeasurementFact:
    fact_id: str
    occurred_at: datetime
    unit_id: str
    unit_name: str
    metric: str
    metric_zh: str
    value: float
    measure_unit: str
    class_name: str | None = None
    target_id: str | None = None

    @property
    def known_at(self) -> datetime:
        return self.occurred_at


@dataclass(frozen=True)
class ActivityFact:
    fact_id: str
    occurred_at: datetime
    unit_id: str
    unit_name: str
    activity: str
    target_id: str | None = None

    @property
    def known_at(self) -> datetime:
        return self.occurred_at


@dataclass(frozen=True)
class StatusFact:
    """A TaskStatusChanged. Only `level == "target"` facts drive alerts."""

    fact_id: str
    occurred_at: datetime
    level: Literal["target", "task", "section", "plan"]
    ref: str
    title: str
    status: TargetStatus
    completion: float
    previous_status: TargetStatus | None = None
    expected: float | None = None
    actual: float | None = None
    target_value: float | None = None
    measure_unit: str | None = None
    task: int | None = None
    section: str | None = None
    due: date | None = None
    revision: int = 0  # orders the changes of one target that share an event time

    @property
    def known_at(self) -> datetime:
        return self.occurred_at


# --- the plan, as the deadline rules need it ------------------------------------------------------

TargetKindName = Literal[
    "cumulative_count", "level", "ratio", "growth", "constraint", "periodic", "dated_event", "coverage"
]
PeriodName = Literal["week", "month", "quarter", "year"]


@dataclass(frozen=True)
class MilestoneDue:
    due: date
    value: float


@dataclass(frozen=True)
class PlanTarget:
    """One plan target with what the deadline rules need; see `plan_targets` for the mapping."""

    target_id: str
    title_zh: str
    kind: TargetKindName
    due: date
    value: float = 1.0
    unit: str = ""
    start: date | None = None
    every: PeriodName | None = None
    times: int = 1
    milestones: tuple[MilestoneDue, ...] = ()
    task: int | None = None
    section: str | None = None
    responsible: tuple[str, ...] = ()
    active_from: date | None = None  # deadlines before this date are not watched (e.g. the plan's publication)
