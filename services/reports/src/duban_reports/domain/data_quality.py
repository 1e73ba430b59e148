"""数据质量 in the leader reports: each unit's score over the figures it reported in the period.

The alerts service checks every progress report and measurement in event time and raises one
`data_quality` alert per finding (labels: `check`, `unit_id`, `fact_id` — the flagged report). Here
a unit's score is 1 − Σ w(r) / N over the N progress reports and measurements it sent in the period,
w(r) the largest weight among the findings on report r (0 without findings): the same formula as
the alerts domain's `quality_scores`. The alert events carry a severity, not the weight, so the
weight is read from the severity with the defaults of the bundled rules.yaml (an outlier is `info`
and weighs half; the other checks are `warning` and weigh one). A unit without reports has no score.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Severity → weight, as rules.yaml (`data_quality:`) sets them: outliers (info) may be genuine.
SEVERITY_WEIGHTS: Mapping[str, float] = {"info": 0.5, "warning": 1.0, "major": 1.0, "critical": 1.0}
CHECK_ZH = {
    "cumulative_decrease": "累计数减少",
    "implausible_value": "数值不合理",
    "increment_outlier": "新增量异常",
    "conflicting_duplicate": "同期重复报送不同数值",
}
#: Bands of the score (rules.yaml `score_bands` defaults): 优 ≥ 98 %, 良 ≥ 95 %, 中 ≥ 90 %, else 差.
BANDS: tuple[tuple[float, str], ...] = ((0.98, "优"), (0.95, "良"), (0.90, "中"), (0.0, "差"))


@dataclass(frozen=True)
class QualityFinding:
    unit_id: str
    fact_id: str
    check: str
    severity: str


@dataclass(frozen=True)
class UnitQuality:
    unit_id: str
    unit_name: str
    reports: int
    flagged: int
    score: float | None
    by_check: tuple[tuple[str, int], ...]  # (check in Chinese, findings), checks with findings only

    @property
    def band_zh(self) -> str | None:
        if self.score is None:
            return None
        return next(label for floor, label in BANDS if self.score >= floor)


@dataclass(frozen=True)
class DataQualitySection:
    units: tuple[UnitQuality, ...]  # units with findings, worst first
    reports: int
    flagged: int
    units_scored: int

    @property
    def score(self) -> float | None:
        return (
            None
            if not self.reports
            else 1 - sum((1 - u.score) * u.reports for u in self.units if u.score is not None) / self.reports
        )


def data_quality_section(
    reports: Iterable[tuple[str, str, str]], findings: Iterable[QualityFinding]
) -> DataQualitySection:
    """`reports`: (unit id, unit name, event id) of the period's progress reports and measurements."""
    by_unit: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for unit_id, unit_name, event_id in reports:
        by_unit[unit_id].add(event_id)
        names[unit_id] = unit_name
    weights: dict[str, float] = {}
    checks: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        if finding.fact_id not in by_unit.get(finding.unit_id, set()):
            continue  # about a report outside the period
        weights[finding.fact_id] = max(weights.get(finding.fact_id, 0.0), SEVERITY_WEIGHTS.get(finding.severity, 1.0))
        checks[finding.unit_id][finding.check] += 1
    units = []
    for unit_id, fact_ids in by_unit.items():
        flagged = [fact_id for fact_id in fact_ids if fact_id in weights]
        if not flagged:
            continue
        units.append(
            UnitQuality(
                unit_id=unit_id,
                unit_name=names[unit_id],
                reports=len(fact_ids),
                flagged=len(flagged),
                score=1 - sum(weights[fact_id] for fact_id in flagged) / len(fact_ids),
                by_check=tuple((CHECK_ZH.get(c, c), n) for c, n in sorted(checks[unit_id].items())),
            )
        )
    units.sort(key=lambda u: (u.score if u.score is not None else 2.0, u.unit_id))
    total = sum(len(ids) for ids in by_unit.values())
    return DataQualitySection(tuple(units), total, sum(u.flagged for u in units), len(by_unit))
