"""What a submission is about: plan targets found by id, the plan's phrase, an alias, or a clerk's wording.

Built once per plan (`TargetIndex(plan)`) and shared by every message. Three questions:

- progress: which target does this indicator name (`find`)? In order: a target id (also inside a
  phrase, as a rejection's candidates show it: `调整初中（t06_junior_high_adjusted）`); the plan's text
  or metric name; an alias — all compared after `text.compact`; then the clerk's wording, scored by
  `phrases.PhraseScorer` (全区新建校舍1.2万平方米, 招录老师, 校舍维修). A phrase shared by several targets
  (the plan splits 调整初中5所、高中1所 into two) is ambiguous; a scored phrase resolves only when one
  target is at least `ACCEPT_SCORE` and clearly ahead of every other (`CLEAR_MARGIN`) — a wrong target
  is worse than a rejection, so a near tie is ambiguous, and the candidates are named by phrase and id.
- measurement: which metric (`find_metric`)? 班额 is `class_size` (checked against the plan's
  class-size constraint), 每天运动时间/体育锻炼时间 is `daily_exercise_minutes` (against the
  daily-exercise constraint), and the plan's rates and coverage targets are measured under their own
  target id. Found the same way: exact names first, then the scorer.
- activity: which dated or periodic target does it fulfil? An exact name, else the longest target
  name contained in the activity (`第二季度意识形态分析研判专题会`); no match, or a tie between two
  targets, leaves the activity unattributed rather than guessed.

Every match says how it was made (`TargetMatch`: id, exact, alias or fuzzy, with a score), and that
travels with the event.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

from duban_contracts.plan import Plan, Target, TargetKind
from duban_contracts.units import RATIO

from .phrases import PhraseScorer, Scored, Vocabulary
from .text import compact

CLASS_SIZE = "class_size"
DAILY_EXERCISE_MINUTES = "daily_exercise_minutes"

#: A scored phrase names a target only when it scores at least this (0–1) …
ACCEPT_SCORE = 0.75
#: … and every other target scores at least this much less; otherwise it is ambiguous.
CLEAR_MARGIN = 0.08
#: An unknown phrase is offered the closest targets scoring at least this.
SUGGEST_SCORE = 0.3

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
_CACHED_NAMES = 4096
_TARGET_ID = re.compile(r"t\d{2}_[a-z0-9_]+")

MatchMethod = Literal["id", "exact", "alias", "fuzzy"]
K = TypeVar("K")
_Named = tuple[str, MatchMethod]


@dataclass(frozen=True)
class MetricSpec:
    """A measurable quantity: its id, Chinese name, base unit and the plan target it checks (if any)."""

    metric: str
    metric_zh: str
    unit: str
    target: Target | None


@dataclass(frozen=True)
class TargetMatch:
    """How a phrase was matched: by `id`, the plan's `exact` text or metric, an `alias`, or `fuzzy` (scored)."""

    method: MatchMethod
    score: float
    phrase: str


@dataclass(frozen=True)
class FoundTarget:
    target: Target
    match: TargetMatch


@dataclass(frozen=True)
class FoundMetric:
    spec: MetricSpec
    match: TargetMatch


@dataclass(frozen=True)
class TargetLookupFailure:
    """No single target: `ambiguous` when several fit. `candidates` name them as 调整初中（t06_…）."""

    name: str
    ambiguous: bool
    candidates: tuple[str, ...]
    ids: tuple[str, ...] = ()


class TargetIndex:
    """The plan's targets and metrics, indexed by every way a submission may name them."""

    def __init__(self, plan: Plan, vocabulary: Vocabulary | None = None) -> None:
        self.plan = plan
        vocabulary = vocabulary or Vocabulary.bundled()
        self._targets = {placed.target.id: placed.target for placed in plan.placed_targets()}
        self._by_key = _exact_index((target.id, _named_keys(target)) for target in self._targets.values())
        texts = Counter(target.text for target in self._targets.values())
        self._shared_texts = frozenset(text for text, count in texts.items() if count > 1)
        self._scorer = PhraseScorer(
            vocabulary, [(t.id, self._scored(_keys(t)), [t.text], t.unit) for t in self._targets.values()]
        )
        metrics = self._metric_specs()
        self._metric_specs_by_id = {spec.metric: spec for spec, _names in metrics}
        self._metrics = _exact_index((spec.metric, _metric_keys(spec, names)) for spec, names in metrics)
        self._metric_scorer = PhraseScorer(
            vocabulary, [(spec.metric, self._scored(names), names, spec.unit) for spec, names in metrics]
        )
        self._activity_keys = {
            key: tuple(target_id for target_id, _method in found)
            for key, found in _exact_index(
                (t.id, _named_keys(t)) for t in self._targets.values() if t.kind in _ACTIVITY_KINDS
            ).items()
        }
        self._find: Callable[[str], FoundTarget | TargetLookupFailure] = lru_cache(_CACHED_NAMES)(self._find_target)
        self._find_metric: Callable[[str], FoundMetric | TargetLookupFailure] = lru_cache(_CACHED_NAMES)(
            self._find_metric_spec
        )

    def target(self, target_id: str) -> Target | None:
        return self._targets.get(target_id)

    def find(self, name: str) -> FoundTarget | TargetLookupFailure:
        """The one target `name` denotes (for progress), and how it was matched."""
        return self._find(name)

    def find_metric(self, name: str) -> FoundMetric | TargetLookupFailure:
        """The metric a measurement's name denotes, and how it was matched."""
        return self._find_metric(name)

    def resolve(self, name: str) -> Target | TargetLookupFailure:
        found = self.find(name)
        return found.target if isinstance(found, FoundTarget) else found

    def resolve_metric(self, name: str) -> MetricSpec | TargetLookupFailure:
        found = self.find_metric(name)
        return found.spec if isinstance(found, FoundMetric) else found

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

    # --- progress ------------------------------------------------------------------------------

    def _find_target(self, name: str) -> FoundTarget | TargetLookupFailure:
        key = compact(name)
        named = self._named_id(key)
        if named is not None:
            return FoundTarget(named, TargetMatch("id", 1.0, name))
        exact = self._by_key.get(key)
        if exact and len(exact) == 1:
            target_id, method = exact[0]
            return FoundTarget(self._targets[target_id], TargetMatch(method, 1.0, name))
        if exact:
            return self._target_failure(name, True, [target_id for target_id, _method in exact])
        verdict = _verdict(self._scorer.rank(self._scorer.read(name)))
        if isinstance(verdict, Scored):
            return FoundTarget(self._targets[verdict.key], TargetMatch("fuzzy", round(verdict.score, 3), name))
        ambiguous, ids = verdict
        return self._target_failure(name, ambiguous, ids)

    def _named_id(self, key: str) -> Target | None:
        """The target whose id the phrase carries (a pasted candidate: 调整初中（t06_junior_high_adjusted）)."""
        ids = {found for found in _TARGET_ID.findall(key) if found in self._targets}
        return self._targets[ids.pop()] if len(ids) == 1 else None

    def _target_failure(self, name: str, ambiguous: bool, ids: Sequence[str]) -> TargetLookupFailure:
        shown = tuple(ids[:_CANDIDATE_LIMIT])
        candidates = tuple(f"{self._targets[i].metric}（{i}）" for i in shown)
        return TargetLookupFailure(name, ambiguous, candidates, shown)

    # --- measurements --------------------------------------------------------------------------

    def _find_metric_spec(self, name: str) -> FoundMetric | TargetLookupFailure:
        exact = self._metrics.get(compact(name))
        if exact and len(exact) == 1:
            metric, method = exact[0]
            return FoundMetric(self._metric_specs_by_id[metric], TargetMatch(method, 1.0, name))
        if exact:
            return self._metric_failure(name, True, [metric for metric, _method in exact])
        verdict = _verdict(self._metric_scorer.rank(self._metric_scorer.read(name)))
        if isinstance(verdict, Scored):
            spec = self._metric_specs_by_id[verdict.key]
            return FoundMetric(spec, TargetMatch("fuzzy", round(verdict.score, 3), name))
        ambiguous, metrics = verdict
        return self._metric_failure(name, ambiguous, metrics)

    def _metric_failure(self, name: str, ambiguous: bool, metrics: Sequence[str]) -> TargetLookupFailure:
        shown = tuple(metrics[:_CANDIDATE_LIMIT])
        candidates = tuple(f"{self._metric_specs_by_id[m].metric_zh}（{m}）" for m in shown)
        return TargetLookupFailure(name, ambiguous, candidates, shown)

    def _metric_specs(self) -> list[tuple[MetricSpec, list[str]]]:
        class_size_target = self._single_constraint("人", "班额")
        exercise_target = self._single_constraint("分钟", "运动")
        class_size = MetricSpec(CLASS_SIZE, "班额", "人", class_size_target)
        exercise = MetricSpec(DAILY_EXERCISE_MINUTES, "每天运动时间", "分钟", exercise_target)
        specs: list[tuple[MetricSpec, list[str]]] = [
            (class_size, [*_CLASS_SIZE_NAMES, *(_keys(class_size_target) if class_size_target else ())]),
            (exercise, [*_EXERCISE_NAMES, *(_keys(exercise_target) if exercise_target else ())]),
        ]
        for target in self._targets.values():
            measured = target.unit == RATIO or target.kind is TargetKind.CONSTRAINT
            if measured and target not in (class_size_target, exercise_target):
                specs.append((MetricSpec(target.id, target.metric, target.unit, target), _keys(target)))
        return specs

    def _single_constraint(self, unit: str, word: str) -> Target | None:
        found = [
            target
            for target in self._targets.values()
            if target.kind is TargetKind.CONSTRAINT
            and target.unit == unit
            and any(word in name for name in (target.metric, target.text, *target.aliases))
        ]
        return found[0] if len(found) == 1 else None

    def _scored(self, names: Iterable[str]) -> list[str]:
        """The names a phrase is scored against: all but a text several targets share (调整初中5所、高中1所
        speaks of them all, so it cannot tell them apart; its figures still count for their units)."""
        return [name for name in names if name not in self._shared_texts and not _TARGET_ID.fullmatch(name)]

    def _single_best(self, matches: list[tuple[int, tuple[str, ...]]]) -> Target | None:
        if not matches:
            return None
        longest = max(length for length, _ in matches)
        ids = {target_id for length, ids in matches if length == longest for target_id in ids}
        return self._targets[ids.pop()] if len(ids) == 1 else None


def _verdict(ranked: list[Scored[K]]) -> Scored[K] | tuple[bool, list[K]]:
    """The one entry clearly ahead; else (ambiguous, the entries that fit) or (False, the closest)."""
    fitting = [scored for scored in ranked if scored.fits]
    if fitting and fitting[0].score >= ACCEPT_SCORE:
        close = [scored for scored in fitting if scored.score > fitting[0].score - CLEAR_MARGIN]
        return close[0] if len(close) == 1 else (True, [scored.key for scored in close])
    closest = sorted((scored for scored in ranked if scored.score >= SUGGEST_SCORE), key=lambda s: not s.fits)
    return False, [scored.key for scored in closest]


def _named_keys(target: Target) -> list[tuple[str, MatchMethod]]:
    return [
        (target.id, "id"),
        (target.text, "exact"),
        (target.metric, "exact"),
        *((alias, "alias") for alias in target.aliases),
    ]


def _metric_keys(spec: MetricSpec, names: Iterable[str]) -> list[_Named]:
    """A metric named by its id (or its target's), its Chinese name (or its target's text or metric), an alias."""
    ids = {spec.metric, *((spec.target.id,) if spec.target else ())}
    exact = {spec.metric_zh, *((spec.target.text, spec.target.metric) if spec.target else ())}
    ordered = sorted(names, key=lambda name: (name not in ids, name not in exact))
    return [(name, "id" if name in ids else "exact" if name in exact else "alias") for name in ordered]


def _keys(target: Target) -> list[str]:
    return [target.id, target.text, target.metric, *target.aliases]


def _exact_index(entries: Iterable[tuple[str, Iterable[tuple[str, MatchMethod]]]]) -> dict[str, tuple[_Named, ...]]:
    """compact(name) -> (entry id, how it is named) for every entry of that name; an entry's first naming wins."""
    index: dict[str, list[_Named]] = {}
    for entry_id, names in entries:
        for name, method in names:
            key = compact(name)
            if not key:
                continue
            found = index.setdefault(key, [])
            if all(existing != entry_id for existing, _method in found):
                found.append((entry_id, method))
    return {key: tuple(found) for key, found in index.items()}
