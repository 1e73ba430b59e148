"""What normalisation produces: one domain object per accepted submission (the lead maps them to the
contract events), and a stable fingerprint of its content.

All datetimes are aware and in UTC; values are in the base unit named beside them; free text is
already masked of personal data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

from .incidents import Grade
from .registry import Unit
from .targets import TargetMatch


@dataclass(frozen=True)
class Progress:
    unit: Unit
    target_id: str
    value: float
    measure_unit: str
    mode: Literal["increment", "cumulative"]
    occurred_at: datetime
    note: str | None
    target_match: TargetMatch | None = None


@dataclass(frozen=True)
class Incident:
    unit: Unit
    category: str  # a duban_contracts.events.IncidentCategory value (Chinese)
    disease: str | None
    grade: Grade | None
    cases: int
    deaths: int
    injuries: int
    class_name: str | None
    occurred_at: datetime
    reported_at: datetime
    summary: str | None


@dataclass(frozen=True)
class Measurement:
    unit: Unit
    metric: str  # class_size | daily_exercise_minutes | the id of the plan target measured (rates, coverage)
    metric_zh: str
    target_id: str | None
    value: float
    measure_unit: str
    class_name: str | None
    occurred_at: datetime
    target_match: TargetMatch | None = None


@dataclass(frozen=True)
class Activity:
    unit: Unit
    activity: str
    target_id: str | None
    occurred_at: datetime
    note: str | None


@dataclass(frozen=True)
class Case:
    """One action on a 信访 case or 12345 work order; values of `duban_contracts.casework` (Chinese/English)."""

    unit: Unit
    case_id: str
    channel: str  # a CaseChannel value
    action: str  # a CaseAction value
    occurred_at: datetime
    category: str
    satisfaction: str | None  # a Satisfaction value
    limit_working_days: int | None
    extension_days: int | None
    reason: str | None
    forwarded_to: str | None
    note: str | None


Normalised = Progress | Incident | Measurement | Activity | Case

#: Fields left out of the fingerprint: an incident's report time defaults to the time ingest received
#: it, so the same report received twice would otherwise differ; how the indicator was matched is not
#: what was reported (the target it matched is).
_NOT_CONTENT = frozenset({"reported_at", "target_match"})


def content_fingerprint(item: Normalised) -> str:
    """A sha256 of what was reported and by whom, for "same content from the same source twice".

    Covers the kind, the unit's id and every normalised field except `reported_at`; carries no
    submission id and no receive time, so a resend of the same report gives the same fingerprint.
    """
    content: dict[str, object] = {"kind": type(item).__name__.lower()}
    for field in fields(item):
        if field.name not in _NOT_CONTENT:
            content[field.name] = _plain(getattr(item, field.name))
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # surrogatepass: a text with a lone surrogate still has a fingerprint (its event is refused later).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, Unit):
        return value.id
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, ".12g")
    return value
