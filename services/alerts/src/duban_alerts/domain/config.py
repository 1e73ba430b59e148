"""The rules configuration: thresholds, windows, routing. Loaded from `rules.yaml`, validated here.

Every section names its `source`; nothing in the rules code hard-codes a threshold.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from duban_contracts.casework import CaseChannel
from duban_contracts.events import IncidentCategory, IncidentGrade, Severity, TargetStatus

from .matchers import Matcher, parse_matchers
from .workdays import WorkCalendar

BUNDLED_RULES = "rules.yaml"


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --- incidents -------------------------------------------------------------------------------


class FoodPoisoningConfig(_Config):
    source: str
    categories: tuple[IncidentCategory, ...]
    min_people: int = Field(ge=1)
    severity: Severity


class IncidentConfig(_Config):
    source: str
    severity_by_grade: dict[IncidentGrade, Severity]
    ungraded: Severity
    any_death: Severity
    cluster_only_categories: tuple[IncidentCategory, ...] = ()
    food_poisoning: FoodPoisoningConfig
    resolve_after: timedelta | None = None


class LateReportCondition(_Config):
    """Matches when ANY of the given conditions holds."""

    min_deaths: int | None = None
    grades: tuple[IncidentGrade, ...] = ()
    categories: tuple[IncidentCategory, ...] = ()


class LateReportLimit(_Config):
    name: str
    when: LateReportCondition = LateReportCondition()
    limit: timedelta
    severity: Severity


class LateReportConfig(_Config):
    source: str
    limits: tuple[LateReportLimit, ...]
    default: LateReportLimit
    resolve_after: timedelta | None = None


# --- clusters --------------------------------------------------------------------------------


class Band(_Config):
    multiple: float = Field(gt=0)
    severity: Severity


Scope = Literal["class", "school"]


class Criterion(_Config):
    scope: Scope
    min_cases: int = Field(ge=1)
    window: timedelta
    bands: tuple[Band, ...] | None = None


class DiseaseRule(_Config):
    criteria: tuple[Criterion, ...]
    bands: tuple[Band, ...] | None = None
    quiet_period: timedelta | None = None


class ClusterConfig(_Config):
    source: str
    window_semantics: Literal["sliding_half_open"]
    categories: tuple[IncidentCategory, ...]
    unknown_disease: str
    aliases: dict[str, str] = Field(default_factory=dict)
    bands: tuple[Band, ...]
    quiet_period: timedelta
    default: DiseaseRule
    diseases: dict[str, DiseaseRule] = Field(default_factory=dict)

    def canonical_disease(self, disease: str | None) -> str:
        if not disease or not disease.strip():
            return self.unknown_disease
        name = disease.strip()
        return self.aliases.get(name, name)

    def rule_for(self, disease: str) -> DiseaseRule:
        return self.diseases.get(disease, self.default)

    def criteria_for(self, disease: str) -> tuple[Criterion, ...]:
        """The disease's own criteria; the general ones still apply at scopes it does not cover."""
        own = self.rule_for(disease).criteria
        covered = {criterion.scope for criterion in own}
        return own + tuple(criterion for criterion in self.default.criteria if criterion.scope not in covered)

    def bands_for(self, disease: str, criterion: Criterion) -> tuple[Band, ...]:
        """The criterion's own bands, else those of the rule it comes from, else the general ones."""
        rule = self.rule_for(disease)
        source = rule if criterion in rule.criteria else self.default
        bands = criterion.bands or source.bands or self.bands
        return tuple(sorted(bands, key=lambda band: band.multiple))

    def quiet_period_for(self, disease: str) -> timedelta:
        return self.rule_for(disease).quiet_period or self.quiet_period


# --- limits ----------------------------------------------------------------------------------


class LimitBand(_Config):
    op: Literal[">=", ">", "<=", "<"]
    value: float
    severity: Severity
    label_zh: str

    def holds(self, measured: float) -> bool:
        match self.op:
            case ">=":
                return measured >= self.value
            case ">":
                return measured > self.value
            case "<=":
                return measured <= self.value
            case "<":
                return measured < self.value


class LimitRule(_Config):
    rule: str
    metric: str
    title_zh: str
    source: str
    bands: tuple[LimitBand, ...]


# --- deadlines and lag -----------------------------------------------------------------------


class Reminder(_Config):
    days_before: int = Field(ge=0)
    severity: Severity


class DeadlineConfig(_Config):
    source: str
    reminders: tuple[Reminder, ...]
    overdue_severity: Severity
    dated_event_lead_days: int = Field(ge=0)
    periodic_missed_severity: Severity
    periodic_resolve_after: timedelta | None = None
    coverage_shortfall_severity: Severity

    @field_validator("reminders")
    @classmethod
    def _earliest_first(cls, reminders: tuple[Reminder, ...]) -> tuple[Reminder, ...]:
        return tuple(sorted(reminders, key=lambda reminder: -reminder.days_before))


class LagLevel(_Config):
    statuses: tuple[TargetStatus, ...]
    severity: Severity


class LagConfig(_Config):
    source: str
    levels: tuple[str, ...]
    yellow: LagLevel
    red: LagLevel
    exempt_kinds: tuple[str, ...] = ()  # target kinds that raise no lag alert (their breaches alert elsewhere)


class EscalationConfig(_Config):
    source: str
    ladder: tuple[str, ...] = Field(min_length=1)
    step_after: dict[Severity, timedelta] = Field(default_factory=dict)


# --- casework (信访 and the 12345 hotline) ------------------------------------------------------


class Span(_Config):
    """A time limit: calendar `days` (counted from the day after, last day moved off a rest day) or `working_days`."""

    days: int | None = Field(default=None, ge=0)
    working_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Span:
        if (self.days is None) == (self.working_days is None):
            raise ValueError("a time limit gives either days or working_days / 期限须写明“日”或“工作日”之一")
        return self

    @property
    def in_working_days(self) -> bool:
        return self.working_days is not None

    @property
    def count(self) -> int:
        return self.working_days if self.working_days is not None else self.days or 0

    def plus(self, count: int) -> Span:
        return Span(working_days=self.count + count) if self.in_working_days else Span(days=self.count + count)

    @property
    def label_zh(self) -> str:
        return f"{self.count}个工作日" if self.in_working_days else f"{self.count}日"


class SpanReminder(_Config):
    before: Span
    severity: Severity


class ExtensionRule(_Config):
    source: str
    times: int = Field(default=1, ge=0)
    max: Span


class ClockRule(_Config):
    """One time limit of casework, the channels it applies to, and its reminders."""

    name_zh: str
    source: str
    channels: tuple[CaseChannel, ...] = Field(min_length=1)
    limit: Span
    by_category: dict[str, Span] = Field(default_factory=dict)
    category_aliases: dict[str, str] = Field(default_factory=dict)
    extension: ExtensionRule | None = None
    reminders: tuple[SpanReminder, ...] = ()

    @model_validator(mode="after")
    def _aliases_name_categories(self) -> ClockRule:
        unknown = sorted(set(self.category_aliases.values()) - set(self.by_category))
        if unknown:
            raise ValueError(f"category_aliases point to categories without a limit: {unknown}")
        return self

    def canonical_category(self, category: str) -> str | None:
        """The category as `by_category` names it, or None when it is not one of them."""
        name = category.strip()
        name = self.category_aliases.get(name, name)
        return name if name in self.by_category else None

    def limit_for(self, category: str) -> Span:
        canonical = self.canonical_category(category)
        return self.by_category[canonical] if canonical is not None else self.limit


class OverdueLevel(_Config):
    after: Span
    severity: Severity


class CalendarConfig(_Config):
    source: str
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        self.calendar()  # raises on a day listed both ways
        return self

    def calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.extra_holidays, self.extra_workdays)


class CaseworkConfig(_Config):
    source: str
    calendar: CalendarConfig
    counting_source: str
    roll_to_workday: bool = True
    acceptance: ClockRule
    handling: dict[str, ClockRule] = Field(min_length=1)
    revisit: ClockRule | None = None
    overdue_severity: Severity
    seriously_overdue: OverdueLevel | None = None

    @model_validator(mode="after")
    def _every_channel_has_one_handling_rule(self) -> CaseworkConfig:
        seen: dict[CaseChannel, str] = {}
        for name, rule in self.handling.items():
            for channel in rule.channels:
                if channel in seen:
                    raise ValueError(f"channel {channel.value} has two handling rules: {seen[channel]} and {name}")
                seen[channel] = name
        missing = [channel.value for channel in CaseChannel if channel not in seen]
        if missing:
            raise ValueError(f"channels without a handling rule: {missing}")
        return self

    def handling_for(self, channel: CaseChannel) -> ClockRule:
        return next(rule for rule in self.handling.values() if channel in rule.channels)


# --- data quality ------------------------------------------------------------------------------


class QualityCheck(_Config):
    """How a data-quality check weighs in the unit's score, and the severity of its alert."""

    source: str
    severity: Severity
    weight: float = Field(ge=0, le=1)


class CumulativeDecreaseCheck(QualityCheck):
    tolerance: float = Field(default=0, ge=0)


class PlausibleRange(QualityCheck):
    metric: str
    metric_zh: str
    min: float | None = None
    max: float | None = None
    whole: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> PlausibleRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"plausible range of {self.metric}: min {self.min} is above max {self.max}")
        return self


class OutlierCheck(QualityCheck):
    threshold: float = Field(gt=0)
    min_history: int = Field(ge=3)


class DuplicateCheck(QualityCheck):
    tolerance: float = Field(default=0, ge=0)


class ScoreBand(_Config):
    min: float = Field(ge=0, le=1)
    label_zh: str


class DataQualityConfig(_Config):
    source: str
    resolve_after: timedelta | None = None
    cumulative_decrease: CumulativeDecreaseCheck
    plausible_ranges: tuple[PlausibleRange, ...] = ()
    increment_outlier: OutlierCheck
    conflicting_duplicate: DuplicateCheck
    score_source: str
    score_bands: tuple[ScoreBand, ...] = Field(min_length=1)

    @field_validator("score_bands")
    @classmethod
    def _best_first(cls, bands: tuple[ScoreBand, ...]) -> tuple[ScoreBand, ...]:
        ordered = tuple(sorted(bands, key=lambda band: -band.min))
        if ordered[-1].min != 0:
            raise ValueError("the lowest score band must start at 0 so every score has a band")
        return ordered

    def range_for(self, metric: str) -> PlausibleRange | None:
        return next((rule for rule in self.plausible_ranges if rule.metric == metric), None)

    def band_for(self, score: float) -> ScoreBand:
        return next(band for band in self.score_bands if score >= band.min)


# --- notifications ---------------------------------------------------------------------------


class RouteConfig(_Config):
    """A node of the routing tree; unset fields inherit from the parent (Alertmanager semantics)."""

    receiver: str | None = None
    matchers: tuple[str, ...] = ()
    group_by: tuple[str, ...] | None = None
    group_wait: timedelta | None = None
    group_interval: timedelta | None = None
    repeat_interval: timedelta | None = None
    send_resolved: bool | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: tuple[RouteConfig, ...] = ()

    @field_validator("matchers")
    @classmethod
    def _parseable(cls, matchers: tuple[str, ...]) -> tuple[str, ...]:
        parse_matchers(matchers)
        return matchers

    @property
    def parsed_matchers(self) -> tuple[Matcher, ...]:
        return parse_matchers(self.matchers)


class InhibitRule(_Config):
    source_matchers: tuple[str, ...]
    target_matchers: tuple[str, ...]
    equal: tuple[str, ...] = ()

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _parseable(cls, matchers: tuple[str, ...]) -> tuple[str, ...]:
        parse_matchers(matchers)
        return matchers


class NotificationConfig(_Config):
    route: RouteConfig
    inhibit_rules: tuple[InhibitRule, ...] = ()

    @model_validator(mode="after")
    def _root_is_complete(self) -> NotificationConfig:
        root = self.route
        missing = [
            name
            for name in ("receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "send_resolved")
            if getattr(root, name) is None
        ]
        if missing:
            raise ValueError(f"the root route must set {', '.join(missing)}")
        return self


# --- the whole ---------------------------------------------------------------------------------


class RulesConfig(_Config):
    timezone: str
    incident: IncidentConfig
    late_report: LateReportConfig
    clusters: ClusterConfig
    limits: tuple[LimitRule, ...]
    deadlines: DeadlineConfig
    lag: LagConfig
    escalation: EscalationConfig
    notifications: NotificationConfig
    casework: CaseworkConfig
    data_quality: DataQualityConfig

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def limit_for(self, metric: str) -> LimitRule | None:
        return next((rule for rule in self.limits if rule.metric == metric), None)


def parse_rules(text: str) -> RulesConfig:
    """Rules from their YAML text."""
    return RulesConfig.model_validate(yaml.safe_load(text))


def load_rules(path: str | Path | None = None) -> RulesConfig:
    """The rules at `path`, or the bundled defaults."""
    if path is None:
        text = resources.files(__package__).joinpath(BUNDLED_RULES).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_rules(text)
