"""Rule 4: hard limits checked on measurements (班额, 每天体育活动时间)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .alert import Alert, Firing, folded
from .config import LimitBand, LimitRule
from .facts import MeasurementFact


@dataclass(frozen=True)
class Observation:
    """The latest measurement seen for one subject (a class's size, a school's exercise time)."""

    subject: str
    occurred_at: datetime
    fact_id: str
    value: float

    def is_older_than(self, other: Observation) -> bool:
        return (self.occurred_at, self.fact_id) < (other.occurred_at, other.fact_id)


def breached_band(value: float, rule: LimitRule) -> LimitBand | None:
    """The last band in the rule's order that the value falls in; None when within the limit."""
    breached = [band for band in rule.bands if band.holds(value)]
    return breached[-1] if breached else None


def limit_labels(fact: MeasurementFact, rule: LimitRule) -> dict[str, str]:
    labels = {"rule": rule.rule, "unit_id": fact.unit_id}
    if fact.class_name:
        labels["class_name"] = fact.class_name
    return labels


def limit_firing(fact: MeasurementFact, rule: LimitRule, band: LimitBand, current: Alert | None) -> Firing:
    count, first_seen, last_seen = folded(current, fact.known_at)
    where = f"{fact.unit_name}{fact.class_name or ''}"
    value = f"{fact.value:g}{fact.measure_unit}"
    return Firing(
        labels=limit_labels(fact, rule),
        severity=band.severity,
        title_zh=f"{where}{band.label_zh}（{fact.metric_zh}{value}）",
        summary_zh=f"{where}{fact.metric_zh}为{value}，{band.label_zh}（{band.op}{band.value:g}）。依据：{rule.source}",
        at=fact.known_at,
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        stage=band.label_zh,
        value=fact.value,
        annotations={
            "unit_name": fact.unit_name,
            "metric_zh": fact.metric_zh,
            "measured_at": fact.occurred_at.isoformat(),
        },
    )
