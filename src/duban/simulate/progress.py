"""Progress through the year: how each measurable target fares, and the monthly reports that show it.

Every additive target (counts and stocks) gets a fate — most are done by December, some end the
year on track but short, some lagging, a couple seriously behind, and two are never reported at all
— and a trajectory: a front-loaded curve (a bureau works ahead of 序时进度 on most things) that
reaches the target's final figure at some point of the year. The owners (the target's first
responsible section; for the plan's school building projects, the schools themselves) report it
monthly, each month's figure dated the month's last day (截至月底) and filed by the 5th of the next
month, either as the month's increment (新增) or as the figure to date (累计).

Rates are reported when they become known: 高考 growth after the results in June, 中考 growth in
July, the 优生 enrolment rate in September, coverage and spending growth every quarter.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from duban_contracts.plan import Plan, Target, TargetKind

from .activities import routine_activity
from .calendar import month_end, office_time
from .drafts import RATIO, Amount, Draft, Progress
from .model import Fate
from .roster import Reporter, Roster, monthly_filing_day

ADDITIVE = frozenset({TargetKind.CUMULATIVE_COUNT, TargetKind.LEVEL})
RATES = frozenset({TargetKind.RATIO, TargetKind.COVERAGE, TargetKind.GROWTH})

#: How many additive targets end the year in each fate other than done.
FATE_QUOTA: dict[Fate, int] = {"silent": 2, "critical": 2, "lagging": 4, "on_track": 3}
#: Targets this small are done or not at all: nine tenths of one school is no school.
_ROOM_FOR_SHORTFALL = 10

#: The plan's school building projects (task 7) and the schools that report them.
#: (school alias, target id, share of the target, what the project is)
SCHOOL_PROJECTS: tuple[tuple[str, str, float, str], ...] = (
    ("区七小", "t07_school_building_new", 0.26, "区七小扩建教学综合楼"),
    ("巴中二中", "t07_school_building_new", 0.21, "巴中二中学生食堂"),
    ("鼎山小学分校", "t07_school_building_new", 0.17, "鼎山小学分校续建教学楼"),
    ("枣林小学", "t07_school_building_new", 0.12, "枣林小学教学楼扩建"),
    ("水宁寺小学", "t07_school_building_new", 0.14, "水宁寺小学综合楼及学生食堂"),
    ("区七小", "t07_compulsory_places_new", 0.32, "区七小扩建新增学位"),
    ("鼎山小学分校", "t07_compulsory_places_new", 0.2, "鼎山小学分校续建新增学位"),
    ("区七小附属幼儿园", "t07_preschool_places_new", 0.54, "区七小附属幼儿园项目"),
)
#: Results that come out on one day rather than month by month.
_RESULT_DAYS: dict[str, tuple[int, int]] = {"t12_tsinghua_peking_admits": (7, 26)}
_GAOKAO_GROWTH = ("t12_undergrad_admits_growth", "t12_tier1_admits_growth", "t12_high_score_growth")
_GAOKAO_GROWTH_LATE = ("t12_key_university_growth",)
_ZHONGKAO_GROWTH = ("t12_junior_pass_rate_growth", "t12_junior_average_score_growth", "t12_junior_top_rate_growth")


@dataclass(frozen=True)
class Owner:
    reporter: Reporter
    share: Decimal
    mode: str  # increment | cumulative
    note: str | None = None


@dataclass(frozen=True)
class Trajectory:
    target: Target
    fate: Fate
    start: Decimal  # the stock at the start of the year (level targets), else 0
    final: Decimal  # reached at `finish`
    finish: float  # share of the year
    shape: float  # < 1 front-loaded, > 1 back-loaded
    granule: Decimal
    result_day: date | None = None
    owners: tuple[Owner, ...] = field(default=())

    def share_reached(self, day: date) -> float:
        if self.result_day is not None:
            return 1.0 if day >= self.result_day else 0.0
        t = (day.timetuple().tm_yday) / (366 if _leap(day.year) else 365)
        return min(1.0, float((t / self.finish) ** self.shape))

    def owner_figure(self, owner: Owner, day: date) -> Decimal:
        """The owner's figure to date (its share of the year's change, plus the opening stock)."""
        gained = (self.final - self.start) * owner.share * Decimal(repr(self.share_reached(day)))
        gained = (gained / self.granule).to_integral_value(ROUND_FLOOR) * self.granule
        return self.start * owner.share + gained

    def owner_final(self, owner: Owner) -> Decimal:
        gained = ((self.final - self.start) * owner.share / self.granule).to_integral_value(ROUND_FLOOR)
        return self.start * owner.share + gained * self.granule


@dataclass(frozen=True)
class RateReport:
    target: Target
    owner: Reporter
    day: date  # the day the figure describes
    value: Decimal  # a fraction


def plan_progress(seed: int, plan: Plan, roster: Roster) -> tuple[dict[str, Fate], list[Draft]]:
    """Every target's fate, and the progress drafts of the whole year."""
    rng = random.Random(f"{seed}/progress")
    additive = [p.target for p in plan.placed_targets() if p.target.kind in ADDITIVE]
    fates = assign_fates(rng, additive)
    trajectories = [_trajectory(rng, target, fates[target.id], plan.year, roster) for target in additive]
    rates, rate_fates = _rate_reports(rng, plan, roster)
    fates.update(rate_fates)
    drafts = list(_monthly_reports(rng, plan.year, trajectories, rates, roster))
    return fates, drafts


def assign_fates(rng: random.Random, targets: Sequence[Target]) -> dict[str, Fate]:
    fates: dict[str, Fate] = {target.id: "done" for target in targets}
    candidates = sorted(
        (t for t in targets if t.id not in {p[1] for p in SCHOOL_PROJECTS} and t.id not in _RESULT_DAYS),
        key=lambda t: t.id,
    )
    rng.shuffle(candidates)
    for fate, count in FATE_QUOTA.items():
        roomy = [t for t in candidates if fates[t.id] == "done" and (fate == "silent" or _roomy(t))]
        for target in roomy[:count]:
            fates[target.id] = fate
    return fates


def _roomy(target: Target) -> bool:
    return target.value >= _ROOM_FOR_SHORTFALL


def _trajectory(rng: random.Random, target: Target, fate: Fate, year: int, roster: Roster) -> Trajectory:
    value = Decimal(repr(target.value))
    granule = _granule(target)
    start = Decimal(0)
    if target.kind is TargetKind.LEVEL:
        start = (value * Decimal(repr(rng.uniform(0.72, 0.86)))).to_integral_value(ROUND_FLOOR)
    final, finish, shape = _course(rng, target, fate, value)
    final = max(start, (final / granule).to_integral_value(ROUND_FLOOR) * granule)
    if fate == "done" and not target.comparator.holds(float(final), target.value):
        final += granule  # 突破 (>) needs one more than the figure
    if target.milestones:
        shape, finish = 2.2, 0.95  # a slow start: the mid-year milestones are missed
    result = _RESULT_DAYS.get(target.id)
    result_day = date(year, *result) if result else None
    return Trajectory(target, fate, start, final, finish, shape, granule, result_day, _owners(rng, target, roster))


def _course(rng: random.Random, target: Target, fate: Fate, value: Decimal) -> tuple[Decimal, float, float]:
    """(final figure, when it is reached, curve shape) for a fate."""
    small = target.value <= 5
    match fate:
        case "done":
            factor = rng.uniform(1.0, 1.12) if not small else 1.0
            finish = rng.uniform(0.08, 0.3) if small else rng.uniform(0.55, 0.93)
            return _ceil(value * Decimal(repr(factor))), finish, rng.uniform(0.6, 0.9)
        case "on_track":
            return value * Decimal(repr(rng.uniform(0.91, 0.97))), rng.uniform(0.9, 0.97), rng.uniform(0.75, 1.0)
        case "lagging":
            return value * Decimal(repr(rng.uniform(0.73, 0.86))), rng.uniform(0.85, 0.97), rng.uniform(0.95, 1.3)
        case "critical":
            return value * Decimal(repr(rng.uniform(0.3, 0.6))), rng.uniform(0.8, 0.95), rng.uniform(1.1, 1.6)
    return Decimal(0), 1.0, 1.0


def _granule(target: Target) -> Decimal:
    if target.unit == "元":
        return Decimal(10_000)
    if target.unit == "平方米":
        return Decimal(10)
    return Decimal(1)


def _ceil(value: Decimal) -> Decimal:
    return -((-value).to_integral_value(ROUND_FLOOR))


def _owners(rng: random.Random, target: Target, roster: Roster) -> tuple[Owner, ...]:
    section = roster.section((target.responsible or ["办公室"])[0])
    section_mode = _preferred_mode(section)
    owners: list[Owner] = []
    taken = Decimal(0)
    for alias, target_id, share, project in SCHOOL_PROJECTS:
        school = roster.school(alias)
        if target_id != target.id or school is None:
            continue
        mode = "increment" if rng.random() < 0.6 else "cumulative"
        owners.append(Owner(school, Decimal(repr(share)), mode, note=project))
        taken += Decimal(repr(share))
    mode = "cumulative" if target.kind is TargetKind.LEVEL else section_mode
    owners.insert(0, Owner(section, Decimal(1) - taken, mode, note="其他项目" if owners else None))
    return tuple(owners)


def _preferred_mode(reporter: Reporter) -> str:
    """Each section's statistician has a habit: some send the month's increment, some the total to date."""
    return "cumulative" if random.Random(f"mode/{reporter.id}").random() < 0.45 else "increment"


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# --- rates ---------------------------------------------------------------------------------------


def _rate_reports(rng: random.Random, plan: Plan, roster: Roster) -> tuple[list[RateReport], dict[str, Fate]]:
    year = plan.year
    reports: list[RateReport] = []
    fates: dict[str, Fate] = {}
    for placed in plan.placed_targets():
        target = placed.target
        if target.kind not in RATES:
            continue
        owner = roster.section((target.responsible or ["办公室"])[0])
        fate, values = _rate_course(rng, target, year)
        fates[target.id] = fate
        reports.extend(RateReport(target, owner, day, value) for day, value in values)
    return reports, fates


def _rate_course(rng: random.Random, target: Target, year: int) -> tuple[Fate, list[tuple[date, Decimal]]]:
    quarter_ends = [month_end(year, m) for m in (3, 6, 9)]
    if target.kind is TargetKind.COVERAGE:
        done = rng.random() < 0.5
        final = 1.0 if done else rng.uniform(0.955, 0.996)
        steps = [final * rng.uniform(0.86, 0.93), final * rng.uniform(0.92, 0.97), final * rng.uniform(0.96, 0.99)]
        values = [*zip(quarter_ends, steps, strict=True), (date(year, 12, 31), final)]
        return ("done" if done else "on_track"), [(day, _fraction(v, 4)) for day, v in values]
    if target.kind is TargetKind.RATIO:
        done = rng.random() < 0.75
        value = rng.uniform(0.905, 0.96) if done else rng.uniform(0.84, 0.89)
        return ("done" if done else "lagging"), [(date(year, 9, 8), _fraction(value, 3))]
    if target.value <= 0:  # 只增不减: spending growth, reported each quarter
        growth = [rng.uniform(0.0, 0.05) for _ in quarter_ends] + [rng.uniform(0.01, 0.05)]
        days = [*quarter_ends, date(year, 12, 31)]
        return "done", [(day, _fraction(v, 3)) for day, v in zip(days, growth, strict=True)]
    roll = rng.random()
    fate: Fate = "done" if roll < 0.7 else "lagging" if roll < 0.9 else "critical"
    low, high = {"done": (0.105, 0.25), "lagging": (0.072, 0.088), "critical": (0.01, 0.06)}[fate]
    if target.id in _ZHONGKAO_GROWTH:
        day = date(year, 7, 12)
    elif target.id in _GAOKAO_GROWTH_LATE:
        day = date(year, 7, 28)  # 录取 results come after the scores
    else:
        day = date(year, 6, 26) if target.id in _GAOKAO_GROWTH else date(year, 10, 20)
    return fate, [(day, _fraction(rng.uniform(low, high), 3))]


def _fraction(value: float, places: int) -> Decimal:
    return Decimal(repr(round(value, places)))


# --- the monthly reports ----------------------------------------------------------------------


def _monthly_reports(
    rng: random.Random, year: int, trajectories: Sequence[Trajectory], rates: Sequence[RateReport], roster: Roster
) -> Iterator[Draft]:
    """Each section's monthly report (its targets' figures, or its routine work), and the projects' schools'."""
    project_schools = {o.reporter.id: o.reporter for t in trajectories for o in t.owners if o.reporter.is_school}
    reporters = [*roster.sections, *sorted(project_schools.values(), key=lambda r: r.id)]
    switching = _one_switching_owner(rng, trajectories)
    for reporter in reporters:
        ledger = _Ledger()
        for month in range(1, 13):
            filed = monthly_filing_day(rng, reporter.habit, year, month)
            if filed is None:
                continue
            day = month_end(year, month) if month < 12 else filed
            switched = switching is not None and switching[0] == reporter.id and month >= switching[1]
            items = list(_items(reporter, trajectories, rates, month=month, day=day, ledger=ledger, switched=switched))
            if items:
                yield from _session(rng, reporter, filed, items)
            elif not reporter.is_school:
                yield routine_activity(rng, reporter, filed, day)


def _one_switching_owner(rng: random.Random, trajectories: Sequence[Trajectory]) -> tuple[str, int] | None:
    """One section changes statistician in summer and reports totals to date from July on."""
    incremental = sorted(
        {o.reporter.id for t in trajectories for o in t.owners if o.mode == "increment" and not o.reporter.is_school}
    )
    return (rng.choice(incremental), 7) if incremental else None


@dataclass
class _Ledger:
    """What one owner has reported so far: its last figure per target, and the targets it has finished."""

    reported: dict[str, Decimal] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)


def _items(
    reporter: Reporter,
    trajectories: Sequence[Trajectory],
    rates: Sequence[RateReport],
    *,
    month: int,
    day: date,
    ledger: _Ledger,
    switched: bool,
) -> Iterator[Progress]:
    for trajectory in trajectories:
        if trajectory.fate == "silent" or trajectory.target.id in ledger.finished:
            continue
        for owner in trajectory.owners:
            if owner.reporter.id != reporter.id:
                continue
            figure = trajectory.owner_figure(owner, day)
            before = ledger.reported.get(trajectory.target.id, trajectory.start * owner.share)
            if figure == before and figure == 0:
                continue  # nothing yet
            mode = "cumulative" if switched else owner.mode
            amount = figure - before if mode == "increment" else figure
            if mode == "increment" and amount == 0:
                continue
            ledger.reported[trajectory.target.id] = figure
            if figure >= trajectory.owner_final(owner):
                ledger.finished.add(trajectory.target.id)
            unit = trajectory.target.unit
            note = _note(owner, figure >= trajectory.owner_final(owner))
            yield Progress(trajectory.target, Amount(amount, unit), mode, day, note)
    for rate in rates:
        if rate.owner.id == reporter.id and rate.day.month == month:
            yield Progress(rate.target, Amount(rate.value, RATIO), "cumulative", min(rate.day, day))


def _note(owner: Owner, complete: bool) -> str | None:
    if owner.note and complete:
        return f"{owner.note}已完成"
    return owner.note


def _session(rng: random.Random, reporter: Reporter, filed: date, items: Sequence[Progress]) -> Iterator[Draft]:
    """A sitting at the keyboard: the items go out a minute or two apart."""
    at = office_time(rng, filed)
    for item in items:
        topic = "rate" if item.amount.unit == RATIO else "monthly"
        yield Draft(at, reporter, "progress", item.fields(), topic=topic, key=item.target.id)
        at += timedelta(minutes=rng.randint(1, 3))
