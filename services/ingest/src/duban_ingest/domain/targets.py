"""What a submission is about: plan targets found by id, verbatim phrase, metric or alias.

Built once per plan (`TargetIndex(plan)`) and shared by every message. Three questions:

- progress: which target does this indicator name? Exact matches only (after `text.compact`); a
  phrase shared by several targets (the plan splits 调整初中5所、高中1所 into two) is ambiguous.
- measurement: which metric? 班额 is `class_size` (checked against the plan's class-size
  constraint), 每天运动时间/体育锻炼时间 is `daily_exercise_minutes` (against the daily-exercise
  constraint), and the plan's rates and coverage targets are measured under their own target id.
- activity: which dated or periodic target does it fulfil? An exact name, else the longest target
  name contained in the activity (`第二季度意识形态分析研判专题会`); no match, or a tie between two
  targets, leaves the activity unattributed rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from duban_contracts.plan import Plan, Target, TargetKind
from duban_contracts.units import RATIO

from .text import compact

CLASS_SIZE = "class_size"
DAILY_EXERCISE_MINUTES = "daily_exercise_minutes"

_CLASS_SIZE_NAMES = ("班额", "班级人数", "班额人数", "班级规模", "每班人数", "班级学生数", "class_size", "class size")
_EXERCISE_NAMES = (
    "每天运动时间",
    "每日运动时间",
    "学生每天运动时间",
    "体育锻炼时间",
    "每天体育锻炼时间",
    "每天校园体育活动时间",
    "校园体育活动时间",
    "日均运动时间",
    "运动时间",
    "锻炼时间",
    "daily_exercise_minutes",
    "daily exercise",
)
_ACTIVITY_KINDS = (TargetKind.DATED_EVENT, TargetKind.PERIODIC)
_MIN_REVERSE_MATCH_CHARS = 4
_CANDIDATE_LIMIT = 5
_CANDIDATE_CUTOFF = 65.0


@dataclass(frozen=True)
class MetricSpec:
    """A measurable quantity: its id, Chinese name, base unit and the plan target it checks (if any)."""

    metric: str
    metric_zh: str
    unit: str
    target: Target | None


@dataclass(frozen=True)
class TargetLookupFailure:
    name: str
    ambiguous: bool
    candidates: tuple[str, ...]


class TargetIndex:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._targets = {placed.target.id: placed.target for placed in plan.placed_targets()}
        self._by_key = _index((target, _keys(target)) for target in self._targets.values())
        self._metric_display = {
            target.id: target.metric if self._by_key.get(compact(target.metric)) == (target.id,) else target.id
            for target in self._targets.values()
        }
        self._metrics = self._metric_index()
        self._activity_keys = _index((t, _keys(t)) for t in self._targets.values() if t.kind in _ACTIVITY_KINDS)

    def target(self, target_id: str) -> Target | None:
        return self._targets.get(target_id)

    def resolve(self, name: str) -> Target | TargetLookupFailure:
        """The one target `name` denotes (for progress)."""
        ids = self._by_key.get(compact(name))
        if ids and len(ids) == 1:
            return self._targets[ids[0]]
        if ids:
            return TargetLookupFailure(name, True, tuple(self._metric_display[i] for i in ids))
        return TargetLookupFailure(name, False, self._closest(name, self._by_key))

    def resolve_metric(self, name: str) -> MetricSpec | TargetLookupFailure:
        """The metric a measurement's name denotes."""
        specs = self._metrics.get(compact(name))
        if specs and len(specs) == 1:
            return specs[0]
        if specs:
            return TargetLookupFailure(name, True, tuple(spec.metric_zh for spec in specs))
        return TargetLookupFailure(name, False, self._closest_metrics(name))

    def match_activity(self, name: str) -> Target | None:
        """The dated or periodic target an activity fulfils, when exactly one fits best."""
        key = compact(name)
        exact = self._activity_keys.get(key)
        if exact:
            return self._targets[exact[0]] if len(exact) == 1 else None
        contained = [(len(k), ids) for k, ids in self._activity_keys.items() if k in key]
        if not contained and len(key) >= _MIN_REVERSE_MATCH_CHARS:
            contained = [(len(key), ids) for k, ids in self._activity_keys.items() if key in k]
        return self._single_best(contained)

    def _single_best(self, matches: list[tuple[int, tuple[str, ...]]]) -> Target | None:
        if not matches:
            return None
        longest = max(length for length, _ in matches)
        ids = {target_id for length, ids in matches if length == longest for target_id in ids}
        return self._targets[ids.pop()] if len(ids) == 1 else None

    def _metric_index(self) -> dict[str, tuple[MetricSpec, ...]]:
        class_size_target = self._single_constraint("人", "班额")
        exercise_target = self._single_constraint("分钟", "运动")
        class_size = MetricSpec(CLASS_SIZE, "班额", "人", class_size_target)
        exercise = MetricSpec(DAILY_EXERCISE_MINUTES, "每天运动时间", "分钟", exercise_target)
        entries: list[tuple[MetricSpec, Iterable[str]]] = [
            (class_size, [*_CLASS_SIZE_NAMES, *(_keys(class_size_target) if class_size_target else ())]),
            (exercise, [*_EXERCISE_NAMES, *(_keys(exercise_target) if exercise_target else ())]),
        ]
        for target in self._targets.values():
            if target.unit == RATIO or (
                target.kind is TargetKind.CONSTRAINT
                and target
                not in (
                    class_size_target,
                    exercise_target,
                )
            ):
                entries.append((MetricSpec(target.id, target.metric, target.unit, target), _keys(target)))
        index: dict[str, list[MetricSpec]] = {}
        for spec, keys in entries:
            for key in {compact(k) for k in keys}:
                if spec not in index.setdefault(key, []):
                    index[key].append(spec)
        return {key: tuple(specs) for key, specs in index.items()}

    def _single_constraint(self, unit: str, word: str) -> Target | None:
        found = [
            target
            for target in self._targets.values()
            if target.kind is TargetKind.CONSTRAINT
            and target.unit == unit
            and any(word in name for name in (target.metric, target.text, *target.aliases))
        ]
        return found[0] if len(found) == 1 else None

    def _closest(self, name: str, index: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        displays: list[str] = []
        for key in _fuzzy(compact(name), index):
            for target_id in index[key]:
                display = self._metric_display[target_id]
                if display not in displays:
                    displays.append(display)
        return tuple(displays[:_CANDIDATE_LIMIT])

    def _closest_metrics(self, name: str) -> tuple[str, ...]:
        names: list[str] = []
        for key in _fuzzy(compact(name), self._metrics):
            for spec in self._metrics[key]:
                if spec.metric_zh not in names:
                    names.append(spec.metric_zh)
        return tuple(names[:_CANDIDATE_LIMIT])


def _keys(target: Target) -> list[str]:
    return [target.id, target.text, target.metric, *target.aliases]


def _index(entries: Iterable[tuple[Target, Iterable[str]]]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for target, keys in entries:
        for key in {compact(k) for k in keys}:
            if key and target.id not in index.setdefault(key, []):
                index[key].append(target.id)
    return {key: tuple(ids) for key, ids in index.items()}


def _fuzzy(key: str, choices: Mapping[str, object]) -> Iterator[str]:
    if not key:
        return
    for choice, _score, _position in process.extract(
        key, list(choices), scorer=fuzz.WRatio, limit=_CANDIDATE_LIMIT * 3, score_cutoff=_CANDIDATE_CUTOFF
    ):
        yield choice
