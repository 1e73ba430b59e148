"""How a draft plan compares with a reviewed one: which targets it found, missed, or made up.

Two targets match when they sit in the same task and promise the same value (within 1e-9
relative), in the same unit, with the same comparator. Names, kinds and ids are left out on
purpose: they are what a reviewer edits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from duban_contracts.plan.model import Comparator, Plan


@dataclass(frozen=True)
class TargetKey:
    task_no: int
    value: float
    unit: str
    comparator: Comparator
    text: str = ""

    def matches(self, other: TargetKey) -> bool:
        return (
            self.task_no == other.task_no
            and self.unit == other.unit
            and self.comparator == other.comparator
            and math.isclose(self.value, other.value, rel_tol=1e-9, abs_tol=1e-12)
        )


@dataclass(frozen=True)
class Comparison:
    matched: list[tuple[TargetKey, TargetKey]]  # (found, reviewed)
    missed: list[TargetKey]  # reviewed, not found
    spurious: list[TargetKey]  # found, not reviewed

    @property
    def precision(self) -> float:
        found = len(self.matched) + len(self.spurious)
        return len(self.matched) / found if found else 1.0

    @property
    def recall(self) -> float:
        reviewed = len(self.matched) + len(self.missed)
        return len(self.matched) / reviewed if reviewed else 1.0

    def summary(self) -> str:
        return (
            f"precision {self.precision:.3f} ({len(self.matched)}/{len(self.matched) + len(self.spurious)}), "
            f"recall {self.recall:.3f} ({len(self.matched)}/{len(self.matched) + len(self.missed)})"
        )


def keys_of(plan: Plan) -> list[TargetKey]:
    return [
        TargetKey(p.task.no, p.target.value, p.target.unit, p.target.comparator, p.target.text)
        for p in plan.placed_targets()
    ]


def compare(found: list[TargetKey], reviewed: list[TargetKey]) -> Comparison:
    """Pair each reviewed target with one found target, first come first served."""
    unmatched = list(found)
    matched: list[tuple[TargetKey, TargetKey]] = []
    missed: list[TargetKey] = []
    for target in reviewed:
        partner = next((candidate for candidate in unmatched if candidate.matches(target)), None)
        if partner is None:
            missed.append(target)
        else:
            unmatched.remove(partner)
            matched.append((partner, target))
    return Comparison(matched=matched, missed=missed, spurious=unmatched)
