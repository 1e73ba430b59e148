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
    reports: Iterable[tuple[str, str, int]], findings: Iterable[QualityFinding]
) -> DataQualitySection:
    """`reports`: (unit id, unit name, how many progress reports and measurements it sent in the period);
    `findings`: those on the period's reports (the caller picks them: the reports themselves are only counted).
    """
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for unit_id, unit_name, count in reports:
        counts[unit_id] = counts.get(unit_id, 0) + count
        names[unit_id] = unit_name
    weights: dict[tuple[str, str], float] = {}
    checks: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        if finding.unit_id not in counts:
            continue  # a unit that sent nothing in the period
        key = (finding.unit_id, finding.fact_id)
        weights[key] = max(weights.get(key, 0.0), SEVERITY_WEIGHTS.get(finding.severity, 1.0))
        checks[finding.unit_id][finding.check] += 1
    flagged_weights: dict[str, list[float]] = defaultdict(list)
    for (unit_id, _fact_id), weight in weights.items():
        flagged_weights[unit_id].append(weight)
    units = [
        UnitQuality(
            unit_id=unit_id,
            unit_name=names[unit_id],
            reports=counts[unit_id],
            flagged=len(flagged),
            score=1 - sum(flagged) / counts[unit_id],
            by_check=tuple((CHECK_ZH.get(c, c), n) for c, n in sorted(checks[unit_id].items())),
        )
        for unit_id, flagged in flagged_weights.items()
    ]
    units.sort(key=lambda u: (u.score if u.score is not None else 2.0, u.unit_id))
    return DataQualitySection(tuple(units), sum(counts.values()), sum(u.flagged for u in units), len(counts))
