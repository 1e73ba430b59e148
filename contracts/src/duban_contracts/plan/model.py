"""The work plan as data: plan -> sections (一 … 九) -> tasks (1 … 36) -> targets.

A target is one measurable promise of the plan, traced to the verbatim Chinese phrase it comes
from. Values are in base units (see `duban_contracts.units`); ratios are fractions (90% = 0.9).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..units import is_base_unit


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="

    def holds(self, actual: float, target: float) -> bool:
        match self:
            case Comparator.GE:
                return actual >= target
            case Comparator.GT:
                return actual > target
            case Comparator.LE:
                return actual <= target
            case Comparator.LT:
                return actual < target
            case Comparator.EQ:
                return actual == target


class TargetKind(StrEnum):
    CUMULATIVE_COUNT = "cumulative_count"  # counted up during the year: 补充教师260名
    LEVEL = "level"  # a stock to reach: 国家高新技术企业总量达20家以上
    RATIO = "ratio"  # a rate: 优生录取就读率不低于90%
    GROWTH = "growth"  # relative to last year: 本科上线人数增长10%以上
    CONSTRAINT = "constraint"  # never broken: 严禁新产生55人以上大班额
    PERIODIC = "periodic"  # each period: 每季度召开意识形态分析研判专题会
    DATED_EVENT = "dated_event"  # on a date or in a window: 4.15 全民国家安全教育日
    COVERAGE = "coverage"  # 100% / 全覆盖


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Milestone(_Model):
    due: date
    value: float = Field(description="Cumulative value expected by `due`, in the target's base unit.")


class Schedule(_Model):
    every: Literal["week", "month", "quarter", "year"]
    times: int = Field(default=1, ge=1, description="How many times per period.")


class Target(_Model):
    id: str = Field(
        pattern=r"^t\d{2,3}_[a-z0-9_]+$",
        description="Stable id, e.g. t07_school_building_new (three digits for task tables past 序号 99).",
    )
    text: str = Field(description="The verbatim Chinese phrase the target comes from.")
    metric: str = Field(description="Short Chinese metric name, e.g. 新建中小学校舍.")
    aliases: list[str] = Field(default_factory=list, description="Other names integrations use.")
    comparator: Comparator = Comparator.GE
    value: float = Field(description="Target value in base units (ratios as fractions).")
    unit: str = Field(description="Base unit, e.g. 平方米, 人次, 元, ratio.")
    kind: TargetKind
    due: date | None = Field(default=None, description="Deadline; the plan year's end when unset.")
    start: date | None = Field(default=None, description="Start of a dated window (宣传月, 活动周).")
    schedule: Schedule | None = None
    responsible: list[str] = Field(default_factory=list, description="Owning units (股室).")
    milestones: list[Milestone] = Field(default_factory=list)
    baseline: float | None = Field(default=None, description="Last year's value, for growth targets.")
    range: tuple[float, float] | None = Field(
        default=None, description="A range as written (品牌校3-4所): [low, high]; `value` is the low end."
    )
    standard: str | None = Field(
        default=None, description="The level or standard a level target names (四星级高中, 省Ⅰ类标准)."
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Target:
        if not is_base_unit(self.unit):
            raise ValueError(f"target {self.id}: unit {self.unit!r} is not a base unit")
        if self.kind is TargetKind.PERIODIC and self.schedule is None:
            raise ValueError(f"target {self.id}: a periodic target needs a schedule")
        if self.start and self.due and self.start > self.due:
            raise ValueError(f"target {self.id}: start {self.start} is after due {self.due}")
        if self.range and not self.range[0] <= self.value <= self.range[1]:
            raise ValueError(f"target {self.id}: value {self.value:g} is outside its range {list(self.range)}")
        return self


class Task(_Model):
    no: int = Field(ge=1)
    title: str
    responsible: list[str] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)


class Section(_Model):
    no: str = Field(description="Chinese ordinal: 一 … 九.")
    index: int = Field(ge=1)
    title: str
    tasks: list[Task]


class PlacedTarget(_Model):
    """A target with where it sits in the plan, and its effective due date."""

    section: Section
    task: Task
    target: Target
    due: date


class Plan(_Model):
    id: str
    title: str
    year: int
    issuer: str
    published: date | None = None
    source: str | None = Field(default=None, description="Where the text came from.")
    sections: list[Section]

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        seen: set[str] = set()
        for placed in self.placed_targets():
            if placed.target.id in seen:
                raise ValueError(f"duplicate target id {placed.target.id}")
            seen.add(placed.target.id)
        return self

    @property
    def year_start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def year_end(self) -> date:
        return date(self.year, 12, 31)

    def tasks(self) -> Iterator[tuple[Section, Task]]:
        for section in self.sections:
            for task in section.tasks:
                yield section, task

    def placed_targets(self) -> Iterator[PlacedTarget]:
        for section, task in self.tasks():
            for target in task.targets:
                yield PlacedTarget(section=section, task=task, target=target, due=target.due or self.year_end)

    def target(self, target_id: str) -> PlacedTarget:
        for placed in self.placed_targets():
            if placed.target.id == target_id:
                return placed
        raise KeyError(target_id)
