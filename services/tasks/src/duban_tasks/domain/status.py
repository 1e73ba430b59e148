"""Judging a target: actual against target and against the expected progress for the date (序时进度).

Everything here is a pure function of the target, the facts recorded up to a time, and that time.
Statuses follow how supervision (督查督办) is run: green on track, yellow behind, red seriously
behind, and overdue once the deadline has passed unmet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from duban_contracts.events import TargetStatus
from duban_contracts.plan import Comparator, PlacedTarget, Schedule, TargetKind
from duban_contracts.plan.wording import COUNTED_ORDER, counted_as
from duban_contracts.timezone import SHANGHAI

RATE_KINDS = frozenset({TargetKind.RATIO, TargetKind.COVERAGE, TargetKind.GROWTH})
ADDITIVE_KINDS = frozenset({TargetKind.CUMULATIVE_COUNT, TargetKind.LEVEL})
#: Kinds judged on activities (the others ignore `TargetFacts.activity_times`).
ACTIVITY_KINDS = frozenset({TargetKind.DATED_EVENT, TargetKind.PERIODIC})


@dataclass(frozen=True)
class Thresholds:
    """When progress counts as on track, lagging or critical.

    A target is on track while its completion is at least `on_track` times the expected share for
    the date, lagging down to `lagging` times, critical below. While less than `grace` of the time
    has passed, nothing is judged behind. Dated events may be recorded up to `dated_lead_days`
    before their window and `dated_grace_days` after it.
    """

    on_track: float = 0.9
    lagging: float = 0.7
    grace: float = 0.1
    dated_lead_days: int = 14
    dated_grace_days: int = 3


@dataclass(frozen=True)
class TargetFacts:
    """What has been recorded for a target up to the time it is judged."""

    actual: float | None = None
    reports: int = 0
    activity_times: tuple[datetime, ...] = ()
    measured_groups: int = 0
    violating_groups: int = 0


@dataclass(frozen=True)
class TargetState:
    target_id: str
    status: TargetStatus
    completion: float
    expected: float
    actual: float | None
    target_value: float
    unit: str
    #: Counted by its kind's words: a broken rule is 未达标 in the counts, not 严重滞后.
    kind: TargetKind
    #: A periodic duty: done or not in each period begun so far (an open period only once done).
    periods_done: tuple[bool, ...] = ()


def local_start(day: date, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def local_end(day: date, tz: ZoneInfo = SHANGHAI) -> datetime:
    """The instant a local calendar day ends (the next day's midnight)."""
    return local_start(day + timedelta(days=1), tz)


def as_of_end_of_day(day: date, tz: ZoneInfo = SHANGHAI) -> datetime:
    """'As of 2023-06-30' means at the end of that local day."""
    return local_end(day, tz) - timedelta(microseconds=1)


def expected_by(now: datetime) -> datetime:
    """序时进度 counts today as elapsed: the figure expected `now` is the one due by tonight's midnight."""
    return local_end(now.astimezone(SHANGHAI).date())


def expected_share(placed: PlacedTarget, year_start: date, now: datetime) -> float:
    """The share of the target expected by the end of `now`'s local day (序时进度 is counted in days).

    Along its milestones, else proportional to time. Counting whole days keeps the figure the same
    all day, so it does not depend on which of the day's reports happened to be processed last; and
    on its due date a target is expected in full.
    """
    now = expected_by(now)
    start = local_start(placed.target.start or year_start)
    end = local_end(placed.due)
    milestones = sorted(placed.target.milestones, key=lambda m: m.due)
    value = placed.target.value
    if milestones and value:
        points = [(start, 0.0)] + [(local_end(m.due), m.value / value) for m in milestones]
        if points[-1][0] < end:
            points.append((end, 1.0))
        return _interpolate(points, now)
    return _interpolate([(start, 0.0), (end, 1.0)], now)


def _interpolate(points: list[tuple[datetime, float]], now: datetime) -> float:
    if now <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in pairwise(points):
        if now <= t1:
            span = (t1 - t0).total_seconds()
            return v1 if span <= 0 else v0 + (v1 - v0) * (now - t0).total_seconds() / span
    return points[-1][1]


def evaluate(
    placed: PlacedTarget, facts: TargetFacts, now: datetime, year_start: date, thresholds: Thresholds = Thresholds()
) -> TargetState:
    kind = placed.target.kind
    if kind is TargetKind.DATED_EVENT:
        return _dated_event(placed, facts, now, thresholds)
    if kind is TargetKind.PERIODIC:
        return _periodic(placed, facts, now, year_start)
    if kind is TargetKind.CONSTRAINT:
        return _constraint(placed, facts, now)
    if kind in RATE_KINDS:
        return _rate(placed, facts, now, thresholds)
    return _additive(placed, facts, now, year_start, thresholds)


def _state(
    placed: PlacedTarget, status: TargetStatus, completion: float, expected: float, actual: float | None
) -> TargetState:
    return TargetState(
        target_id=placed.target.id,
        status=status,
        completion=round(completion, 6),
        expected=round(expected, 6),
        actual=actual,
        target_value=placed.target.value,
        unit=placed.target.unit,
        kind=placed.target.kind,
    )


def _pace(completion: float, expected: float, reported: bool, thresholds: Thresholds) -> TargetStatus:
    """Compare progress with the pace the date calls for."""
    if expected <= thresholds.grace:
        return TargetStatus.ON_TRACK if reported else TargetStatus.NOT_STARTED
    pace = completion / expected
    if pace >= thresholds.on_track:
        return TargetStatus.ON_TRACK
    if pace >= thresholds.lagging:
        return TargetStatus.LAGGING
    return TargetStatus.CRITICAL


def _additive(
    placed: PlacedTarget, facts: TargetFacts, now: datetime, year_start: date, thresholds: Thresholds
) -> TargetState:
    target = placed.target
    actual = facts.actual or 0.0
    due_passed = now >= local_end(placed.due)
    expected = expected_share(placed, year_start, now)
    if target.comparator in (Comparator.LE, Comparator.LT):  # a cap: 控制在…以内
        holds = target.comparator.holds(actual, target.value)
        completion = 1.0 if holds else (target.value / actual if actual else 0.0)
        if not holds:
            return _state(placed, TargetStatus.CRITICAL, completion, expected, actual)
        return _state(placed, TargetStatus.DONE if due_passed else TargetStatus.ON_TRACK, 1.0, expected, actual)
    completion = actual / target.value if target.value else 1.0
    if target.comparator.holds(actual, target.value):
        return _state(placed, TargetStatus.DONE, completion, expected, actual)
    if due_passed:
        return _state(placed, TargetStatus.OVERDUE, completion, expected, actual)
    return _state(placed, _pace(completion, expected, facts.reports > 0, thresholds), completion, expected, actual)


def _rate(placed: PlacedTarget, facts: TargetFacts, now: datetime, thresholds: Thresholds) -> TargetState:
    target = placed.target
    due_passed = now >= local_end(placed.due)
    expected = 1.0 if expected_by(now) >= local_end(placed.due) else 0.0
    if facts.actual is None:
        status = TargetStatus.OVERDUE if due_passed else TargetStatus.NOT_STARTED
        return _state(placed, status, 0.0, expected, None)
    actual = facts.actual
    completion = actual / target.value if target.value else 1.0
    if target.comparator in (Comparator.LE, Comparator.LT):
        completion = (
            1.0 if target.comparator.holds(actual, target.value) else (target.value / actual if actual else 0.0)
        )
    if target.comparator.holds(actual, target.value):
        return _state(placed, TargetStatus.DONE, completion, expected, actual)
    if due_passed:
        return _state(placed, TargetStatus.OVERDUE, completion, expected, actual)
    if completion >= thresholds.on_track:
        status = TargetStatus.ON_TRACK
    elif completion >= thresholds.lagging:
        status = TargetStatus.LAGGING
    else:
        status = TargetStatus.CRITICAL
    return _state(placed, status, completion, expected, actual)


def _constraint(placed: PlacedTarget, facts: TargetFacts, now: datetime) -> TargetState:
    """Never broken: judged on the latest measurement of every class (or unit) measured."""
    if facts.measured_groups == 0:
        return _state(placed, TargetStatus.NOT_STARTED, 0.0, 1.0, None)
    compliant = facts.measured_groups - facts.violating_groups
    completion = compliant / facts.measured_groups
    if facts.violating_groups:
        status = TargetStatus.CRITICAL
    elif now >= local_end(placed.due):
        status = TargetStatus.DONE
    else:
        status = TargetStatus.ON_TRACK
    return _state(placed, status, completion, 1.0, float(facts.violating_groups))


def dated_window(placed: PlacedTarget, thresholds: Thresholds) -> tuple[datetime, datetime]:
    """When an activity counts as carrying out a dated duty."""
    opens = local_start(placed.target.start or placed.due) - timedelta(days=thresholds.dated_lead_days)
    closes = local_end(placed.due) + timedelta(days=thresholds.dated_grace_days)
    return opens, closes


def _dated_event(placed: PlacedTarget, facts: TargetFacts, now: datetime, thresholds: Thresholds) -> TargetState:
    opens, closes = dated_window(placed, thresholds)
    done = any(opens <= t < closes for t in facts.activity_times)
    due_end = local_end(placed.due)
    expected = 1.0 if expected_by(now) >= due_end else 0.0
    if done:
        return _state(placed, TargetStatus.DONE, 1.0, expected, 1.0)
    if now >= due_end:
        return _state(placed, TargetStatus.OVERDUE, 0.0, expected, 0.0)
    return _state(placed, TargetStatus.NOT_STARTED, 0.0, expected, 0.0)


def periods(schedule: Schedule, year: int) -> list[tuple[datetime, datetime]]:
    """The local periods of a year a periodic duty repeats in."""
    starts: list[date]
    if schedule.every == "quarter":
        starts = [date(year, m, 1) for m in (1, 4, 7, 10)]
    elif schedule.every == "month":
        starts = [date(year, m, 1) for m in range(1, 13)]
    elif schedule.every == "week":
        first = date(year, 1, 1)
        starts = [first + timedelta(days=7 * i) for i in range(52)]
    else:
        starts = [date(year, 1, 1)]
    ends = [*starts[1:], date(year + 1, 1, 1)]
    return [(local_start(s), local_start(e)) for s, e in zip(starts, ends, strict=True)]


def _periodic(placed: PlacedTarget, facts: TargetFacts, now: datetime, year_start: date) -> TargetState:
    schedule = placed.target.schedule
    assert schedule is not None  # the plan model guarantees it
    spans = periods(schedule, year_start.year)
    satisfied = [sum(1 for t in facts.activity_times if s <= t < e) >= schedule.times for s, e in spans]
    closed = [e <= now for _, e in spans]
    missed = any(c and not ok for c, ok in zip(closed, satisfied, strict=True))
    completion = sum(satisfied) / len(spans)
    expected = sum(e <= expected_by(now) for _, e in spans) / len(spans)
    if all(satisfied):
        status = TargetStatus.DONE
    elif missed:
        status = TargetStatus.CRITICAL
    elif any(satisfied):
        status = TargetStatus.ON_TRACK
    else:
        status = TargetStatus.NOT_STARTED
    state = _state(placed, status, completion, expected, float(sum(satisfied)))
    begun = [ok for (start, _), ok, over in zip(spans, satisfied, closed, strict=True) if start <= now and (over or ok)]
    return replace(state, periods_done=tuple(begun))


# --- roll-up ---------------------------------------------------------------------------------

_SEVERITY_ORDER = (
    TargetStatus.OVERDUE,
    TargetStatus.CRITICAL,
    TargetStatus.LAGGING,
)


@dataclass(frozen=True)
class Rollup:
    status: TargetStatus
    completion: float
    expected: float
    counts: dict[str, int] = field(default_factory=dict)


def rollup(states: Sequence[TargetState]) -> Rollup:
    """A task, section or the plan: the worst light shows, with counts beside it.

    The counts are by `CountedAs`: a constraint counts as held (达标) or breached (未达标), not as on
    track or critically behind, so that a headline never reads a broken rule as 严重滞后.
    """
    if not states:
        return Rollup(TargetStatus.NOT_STARTED, 0.0, 0.0, {})
    counts = Counter(s.status for s in states)
    tallies = Counter(counted_as(s.kind, s.status) for s in states)
    completion = sum(min(1.0, s.completion) for s in states) / len(states)
    expected = sum(s.expected for s in states) / len(states)
    if counts[TargetStatus.DONE] == len(states):
        status = TargetStatus.DONE
    elif counts[TargetStatus.NOT_STARTED] == len(states):
        status = TargetStatus.NOT_STARTED
    else:
        status = next((s for s in _SEVERITY_ORDER if counts[s]), TargetStatus.ON_TRACK)
    return Rollup(
        status=status,
        completion=round(completion, 6),
        expected=round(expected, 6),
        counts={t.value: tallies[t] for t in COUNTED_ORDER if tallies[t]},
    )
