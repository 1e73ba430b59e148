"""Who reports: the registry's schools and sections, each with its habits and its integration's style.

A unit's style is how its system writes a submission (English or Chinese keys, ISO or Chinese dates,
bare numbers or numbers with units, which of its names it signs with); its habit is how punctually
it files the monthly report (most on time by the 5th, some often late, a few never).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from duban_contracts.reporting_units import ReportingUnit

from .calendar import is_workday, workday_on_or_after, workday_on_or_before

Habit = Literal["punctual", "sometimes_late", "late", "never"]
KeyStyle = Literal["en", "zh"]
DateStyle = Literal["iso", "zh", "slash"]
NumberStyle = Literal["plain", "text"]
StampStyle = Literal["iso_offset", "local", "zh"]

#: Stages whose classes the plan's 55-pupil limit covers (kindergarten classes are smaller by rule).
CLASS_STAGES = frozenset({"小学", "初中", "九年一贯制", "高中", "中职"})
#: Central townships, where the crowded schools are.
URBAN_TOWNSHIPS = frozenset({"江北街道", "东城街道", "西城街道", "回风街道", "宕梁街道", "时新街道"})
_DISTRICT = "巴州区"


@dataclass(frozen=True)
class Style:
    keys: KeyStyle
    dates: DateStyle
    numbers: NumberStyle
    stamp: StampStyle
    source: str  # the name the unit signs with: official name, an alias, or with the city prefix
    uuid_ids: bool  # the integration numbers its messages with UUIDs rather than readable ids


@dataclass(frozen=True)
class Reporter:
    unit: ReportingUnit
    style: Style
    habit: Habit

    @property
    def id(self) -> str:
        return self.unit.id

    @property
    def is_school(self) -> bool:
        return self.unit.kind == "school"

    @property
    def has_classes(self) -> bool:
        return self.is_school and self.unit.stage in CLASS_STAGES

    @property
    def urban(self) -> bool:
        return self.unit.township in URBAN_TOWNSHIPS or self.unit.township is None


@dataclass(frozen=True)
class Roster:
    schools: tuple[Reporter, ...]
    sections: tuple[Reporter, ...]

    def section(self, name: str) -> Reporter:
        for reporter in self.sections:
            if reporter.unit.name == name:
                return reporter
        raise KeyError(f"no section named {name!r} in the registry")

    def school(self, name: str) -> Reporter | None:
        for reporter in self.schools:
            if reporter.unit.name == name or name in reporter.unit.aliases:
                return reporter
        return None

    @property
    def reporting_schools(self) -> tuple[Reporter, ...]:
        return tuple(s for s in self.schools if s.habit != "never")

    @property
    def everyone(self) -> tuple[Reporter, ...]:
        return self.sections + self.schools


def build_roster(seed: int, units: Sequence[ReportingUnit], protected: frozenset[str]) -> Roster:
    """Habits and styles for every school and section; `protected` units (the plan's own) always report."""
    rng = random.Random(f"{seed}/roster")
    shared = _shared_aliases(units)
    schools = [u for u in units if u.kind == "school"]
    sections = [u for u in units if u.kind == "section"]
    silent = _pick_silent(rng, [u for u in schools if u.simulated and u.name not in protected], count=2)
    school_reporters = tuple(
        Reporter(u, _style(rng, u, shared), "never" if u.id in silent else _habit(rng, section=False)) for u in schools
    )
    section_reporters = tuple(Reporter(u, _style(rng, u, shared), _habit(rng, section=True)) for u in sections)
    return Roster(school_reporters, section_reporters)


def _pick_silent(rng: random.Random, candidates: list[ReportingUnit], count: int) -> set[str]:
    chosen = rng.sample(sorted(candidates, key=lambda u: u.id), k=min(count, len(candidates)))
    return {u.id for u in chosen}


def _habit(rng: random.Random, *, section: bool) -> Habit:
    roll = rng.random()
    if roll < (0.80 if section else 0.70):
        return "punctual"
    if roll < (0.95 if section else 0.90):
        return "sometimes_late"
    return "late"


def _style(rng: random.Random, unit: ReportingUnit, shared: set[str]) -> Style:
    keys: KeyStyle = "zh" if rng.random() < (0.55 if unit.kind == "school" else 0.4) else "en"
    dates: DateStyle = rng.choice(("iso", "zh", "slash")) if keys == "zh" else rng.choice(("iso", "iso", "zh"))
    numbers: NumberStyle = "text" if rng.random() < (0.7 if keys == "zh" else 0.35) else "plain"
    stamp: StampStyle = rng.choice(("iso_offset", "local", "zh") if keys == "zh" else ("iso_offset", "local"))
    return Style(keys, dates, numbers, stamp, _signature(rng, unit, shared), uuid_ids=rng.random() < 0.4)


def _signature(rng: random.Random, unit: ReportingUnit, shared: set[str]) -> str:
    aliases = [a for a in unit.aliases if a not in shared]
    roll = rng.random()
    if roll < 0.35 and aliases:
        return rng.choice(aliases)
    if roll < 0.5 and unit.name.startswith(_DISTRICT):
        return "巴中市" + unit.name  # 巴中市巴州区… is how letters from the city are headed
    return unit.name


def _shared_aliases(units: Sequence[ReportingUnit]) -> set[str]:
    """Aliases more than one unit answers to (曾口小学): ingest rightly calls them ambiguous."""
    counts = Counter(alias for u in units for alias in {*u.aliases, u.name})
    return {alias for alias, n in counts.items() if n > 1}


def monthly_filing_day(rng: random.Random, habit: Habit, year: int, month: int) -> date | None:
    """When a unit files its report on `month`: by the 5th of the next month, or late, or never.

    December's report is filed before the year closes (年底前报送全年完成情况).
    """
    if habit == "never":
        return None
    if month == 12:
        return workday_on_or_before(date(year, 12, rng.randint(20, 29)))
    late_chance = {"punctual": 0.04, "sometimes_late": 0.3, "late": 0.7}[habit]
    first = date(year, month + 1, 1)
    if rng.random() < late_chance:
        return workday_on_or_after(first + timedelta(days=rng.randint(6, 16)))
    on_time = [first + timedelta(days=n) for n in range(5) if is_workday(first + timedelta(days=n))]
    if not on_time:  # the first five days are a holiday (国庆 never reaches that far; kept for other years)
        return workday_on_or_after(first)
    return rng.choice(on_time)
