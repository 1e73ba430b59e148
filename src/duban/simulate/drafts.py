"""A submission before it is written down: what a unit reports, in canonical terms.

Drafts carry clean, typed facts (a target, an amount in its base unit, a local date); `dress` then
writes each one the way the unit's integration would. Keeping the two apart lets the simulator
state exactly what ingest should make of every valid submission (`Expected`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from duban_contracts.plan import Target

from .model import Expected, Kind
from .roster import Reporter

RATIO = "ratio"


@dataclass(frozen=True)
class Amount:
    """A figure in a target's base unit (ratios as fractions)."""

    value: Decimal
    unit: str

    @property
    def as_float(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Draft:
    at: datetime  # when it is sent (and its 填报时间)
    reporter: Reporter
    kind: Kind
    fields: Mapping[str, object]
    topic: str  # monthly, rate, activity, dated_event, periodic, class_size, exercise, incident
    key: str = ""  # a stable tie-breaker among drafts sent at the same moment

    @property
    def expected(self) -> Expected:
        return Expected(self.kind, self.reporter.id, _subject(self), _value(self))

    def sort_key(self) -> tuple[datetime, str, str, str]:
        return self.at, self.reporter.id, self.topic, self.key


@dataclass(frozen=True)
class Progress:
    target: Target
    amount: Amount
    mode: str  # increment | cumulative
    day: date
    note: str | None = None

    def fields(self) -> dict[str, object]:
        return {"indicator": self.target, "amount": self.amount, "mode": self.mode, "date": self.day, "note": self.note}


@dataclass(frozen=True)
class Incident:
    category: str  # an IncidentCategory value (Chinese)
    occurred_at: datetime
    reported_at: datetime
    cases: int = 0
    deaths: int = 0
    injuries: int = 0
    disease: str | None = None
    class_name: str | None = None
    grade: str | None = None
    summary: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def fields(self) -> dict[str, object]:
        return {
            "category": self.category,
            "disease": self.disease,
            "cases": self.cases,
            "deaths": self.deaths,
            "injuries": self.injuries,
            "class": self.class_name,
            "grade": self.grade,
            "occurred_at": self.occurred_at,
            "reported_at": self.reported_at,
            "summary": self.summary,
        }


def _subject(draft: Draft) -> str | None:
    f = draft.fields
    if draft.kind == "progress":
        target = f["indicator"]
        return target.id if isinstance(target, Target) else None
    if draft.kind == "measurement":
        return str(f["metric"])
    if draft.kind == "incident":
        return str(f["category"])
    target_id = f.get("target_id")
    return str(target_id) if target_id else None


def _value(draft: Draft) -> float | None:
    f = draft.fields
    if draft.kind == "progress":
        amount = f["amount"]
        return amount.as_float if isinstance(amount, Amount) else None
    if draft.kind == "measurement":
        value = f["value"]
        return float(value) if isinstance(value, int | float | Decimal) else None
    if draft.kind == "incident":
        cases = f.get("cases")
        return float(cases) if isinstance(cases, int) else None
    return None


def fields_of(value: Progress | Incident | Mapping[str, object]) -> dict[str, object]:
    return value.fields() if isinstance(value, Progress | Incident) else dict(value)
