"""Scoring a draft plan against a hand-checked reading (a gold file): found, missed, made up.

A found target matches a gold one when they sit in the same task and promise the same value
(relative tolerance 1e-6), in the same unit, with the same comparator. Kinds are left out of the
match on purpose and counted beside it (`kind_agreement`): they are a secondary measure.

A gold file is YAML: `year`, then `targets`, each with `task`, `value` (base unit; 万/亿 expanded,
% as a fraction), `unit`, `comparator`, `kind` and the verbatim `phrase`; optionally `range:
[low, high]` (the value is the low end), `standard` (the level a level target names) and `note`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from duban_contracts.plan.model import Comparator, Plan, TargetKind

RELATIVE_TOLERANCE = 1e-6
_ABSOLUTE_TOLERANCE = 1e-9  # so that a target of 0 (动态清零) matches 0
_REQUIRED = ("task", "value", "unit", "comparator", "kind", "phrase")
_OPTIONAL = ("range", "standard", "note")
_TOP_LEVEL = ("year", "targets", "unread")


class GoldError(ValueError):
    """A gold file that cannot be read: which file, which row, what is wrong."""


@dataclass(frozen=True)
class ScoredTarget:
    """What a target promises, reduced to what scoring compares (plus its phrase, for reports)."""

    task_no: int
    value: float
    unit: str
    comparator: Comparator
    kind: TargetKind
    phrase: str = ""
    value_range: tuple[float, float] | None = None

    def matches(self, other: ScoredTarget) -> bool:
        return (
            self.task_no == other.task_no
            and self.unit == other.unit
            and self.comparator == other.comparator
            and math.isclose(self.value, other.value, rel_tol=RELATIVE_TOLERANCE, abs_tol=_ABSOLUTE_TOLERANCE)
        )

    def line(self) -> str:
        return (
            f"t{self.task_no:02d} {self.comparator.value} {self.value:g} {self.unit} ({self.kind.value})  {self.phrase}"
        )


@dataclass(frozen=True)
class Gold:
    year: int
    targets: list[ScoredTarget]


@dataclass(frozen=True)
class Score:
    matched: list[tuple[ScoredTarget, ScoredTarget]]  # (found, gold)
    missed: list[ScoredTarget]  # gold, not found
    spurious: list[ScoredTarget]  # found, not in gold

    @property
    def found(self) -> int:
        return len(self.matched) + len(self.spurious)

    @property
    def expected(self) -> int:
        return len(self.matched) + len(self.missed)

    @property
    def precision(self) -> float:
        """Share of found targets that are right; nothing found scores 0, unless nothing was to be found."""
        if self.found:
            return len(self.matched) / self.found
        return 1.0 if not self.expected else 0.0

    @property
    def recall(self) -> float:
        return len(self.matched) / self.expected if self.expected else 1.0

    @property
    def kind_agreement(self) -> float:
        """Among matched targets, the share whose kind agrees with the gold kind."""
        if not self.matched:
            return 1.0
        return sum(found.kind == gold.kind for found, gold in self.matched) / len(self.matched)

    @property
    def kind_mismatches(self) -> list[tuple[ScoredTarget, ScoredTarget]]:
        return [(found, gold) for found, gold in self.matched if found.kind != gold.kind]

    def summary(self) -> str:
        return (
            f"precision {self.precision:.3f} ({len(self.matched)}/{self.found}), "
            f"recall {self.recall:.3f} ({len(self.matched)}/{self.expected}), "
            f"kind {self.kind_agreement:.3f}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "kind_agreement": self.kind_agreement,
            "matched": len(self.matched),
            "found": self.found,
            "expected": self.expected,
            "missed": [_as_row(t) for t in self.missed],
            "spurious": [_as_row(t) for t in self.spurious],
            "kind_mismatches": [{"found": found.kind.value, **_as_row(gold)} for found, gold in self.kind_mismatches],
        }


def score(found: Sequence[ScoredTarget], gold: Sequence[ScoredTarget]) -> Score:
    """Pair each gold target with one found target; among candidates, one of the same kind first."""
    unmatched = list(found)
    matched: list[tuple[ScoredTarget, ScoredTarget]] = []
    missed: list[ScoredTarget] = []
    for target in gold:
        candidates = [candidate for candidate in unmatched if candidate.matches(target)]
        if not candidates:
            missed.append(target)
            continue
        partner = next((c for c in candidates if c.kind == target.kind), candidates[0])
        unmatched.remove(partner)
        matched.append((partner, target))
    return Score(matched=matched, missed=missed, spurious=unmatched)


def score_plan(plan: Plan, gold: Gold) -> Score:
    return score(targets_of(plan), gold.targets)


def combined(scores: Iterable[Score]) -> Score:
    """One score over several texts (micro-averaged: every target counts once)."""
    matched: list[tuple[ScoredTarget, ScoredTarget]] = []
    missed: list[ScoredTarget] = []
    spurious: list[ScoredTarget] = []
    for part in scores:
        matched += part.matched
        missed += part.missed
        spurious += part.spurious
    return Score(matched=matched, missed=missed, spurious=spurious)


def targets_of(plan: Plan) -> list[ScoredTarget]:
    return [
        ScoredTarget(p.task.no, p.target.value, p.target.unit, p.target.comparator, p.target.kind, p.target.text)
        for p in plan.placed_targets()
    ]


def load_gold(text: str, *, source: str = "gold") -> Gold:
    """The gold reading in a YAML text; `source` names the file in error messages."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise GoldError(f"{source}: 不是有效的 YAML / not valid YAML: {error}") from error
    if not isinstance(loaded, dict):
        raise GoldError(f"{source}: 应为含 year 与 targets 的映射 / expected a mapping with year and targets")
    unknown = sorted(set(loaded) - set(_TOP_LEVEL))
    if unknown:
        raise GoldError(f"{source}: 未知字段 / unknown keys {unknown}")
    year = loaded.get("year")
    if not isinstance(year, int) or not 1900 < year < 2100:
        raise GoldError(f"{source}: year 应为年份 / year must be a year, got {year!r}")
    rows = loaded.get("targets") or []
    if not isinstance(rows, list):
        raise GoldError(f"{source}: targets 应为列表 / targets must be a list")
    return Gold(year=year, targets=[_target(row, f"{source}: targets[{index}]") for index, row in enumerate(rows)])


def _target(row: Any, where: str) -> ScoredTarget:
    if not isinstance(row, dict):
        raise GoldError(f"{where}: 应为映射 / expected a mapping, got {row!r}")
    missing = [key for key in _REQUIRED if key not in row]
    unknown = sorted(set(row) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        raise GoldError(f"{where}: 缺少字段 / missing {missing}; 未知字段 / unknown {unknown}")
    task, value = row["task"], row["value"]
    if not isinstance(task, int) or isinstance(task, bool) or task < 1:
        raise GoldError(f"{where}: task 应为正整数 / task must be a positive integer, got {task!r}")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise GoldError(f"{where}: value 应为数字 / value must be a number, got {value!r}")
    try:
        comparator, kind = Comparator(row["comparator"]), TargetKind(row["kind"])
    except ValueError as error:
        raise GoldError(f"{where}: {error}") from error
    phrase, unit = row["phrase"], row["unit"]
    if not isinstance(phrase, str) or not phrase or not isinstance(unit, str) or not unit:
        raise GoldError(f"{where}: phrase 与 unit 应为非空文本 / phrase and unit must be non-empty text")
    return ScoredTarget(
        task, float(value), unit, comparator, kind, phrase, _range(row.get("range"), float(value), where)
    )


def _range(raw: Any, value: float, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, int | float) for x in raw)):
        raise GoldError(f"{where}: range 应为 [下限, 上限] / range must be [low, high], got {raw!r}")
    low, high = float(raw[0]), float(raw[1])
    if not low <= high or not math.isclose(low, value):
        raise GoldError(f"{where}: range {raw} 的下限应等于 value / the range's low end must equal value {value:g}")
    return low, high


def _as_row(target: ScoredTarget) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task": target.task_no,
        "value": target.value,
        "unit": target.unit,
        "comparator": target.comparator.value,
        "kind": target.kind.value,
        "phrase": target.phrase,
    }
    if target.value_range:
        row["range"] = list(target.value_range)
    return row
