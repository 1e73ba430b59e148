"""Rule 3: infectious-disease clusters in schools (学校和托幼机构传染病疫情报告工作规范（试行）, 2006).

A cluster view is a pure function of the set of cases in one scope (a class, or a whole school, for
one disease) that occurred after the previous outbreak ended. Nothing depends on the order the cases
arrived in, so a late or out-of-order report gives the same outcome as an orderly one.

Windows are sliding and half-open on `occurred_at`: cases share a window when the latest occurred
strictly less than `window` after the earliest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from duban_contracts.events import Severity

from .alert import Firing, severity_rank
from .config import Band, ClusterConfig, Criterion, Scope
from .text import span_zh

INFECTIOUS_CLUSTER = "infectious_cluster"


@dataclass(frozen=True)
class CaseRecord:
    """One incident report of `cases` pupils ill with `disease` (canonical name)."""

    fact_id: str
    unit_id: str
    unit_name: str
    disease: str
    cases: int
    occurred_at: datetime
    known_at: datetime
    class_name: str | None = None


@dataclass(frozen=True)
class ScopeKey:
    unit_id: str
    disease: str
    scope: Scope
    class_name: str | None = None

    def labels(self) -> dict[str, str]:
        labels = {"rule": INFECTIOUS_CLUSTER, "unit_id": self.unit_id, "disease": self.disease, "scope": self.scope}
        if self.class_name:
            labels["class_name"] = self.class_name
        return labels

    def contains(self, case: CaseRecord) -> bool:
        same_school = case.unit_id == self.unit_id and case.disease == self.disease
        return same_school and (self.scope == "school" or case.class_name == self.class_name)


def scopes_of(case: CaseRecord, config: ClusterConfig) -> list[tuple[ScopeKey, tuple[Criterion, ...]]]:
    """The scopes a case counts in, each with the criteria that apply there."""
    criteria = config.criteria_for(case.disease)
    found: list[tuple[ScopeKey, tuple[Criterion, ...]]] = []
    for scope in ("class", "school"):
        if scope == "class" and not case.class_name:
            continue
        at_scope = tuple(criterion for criterion in criteria if criterion.scope == scope)
        if at_scope:
            class_name = case.class_name if scope == "class" else None
            found.append((ScopeKey(case.unit_id, case.disease, scope, class_name), at_scope))
    return found


@dataclass(frozen=True)
class ClusterView:
    severity: Severity
    criterion: Criterion
    peak: int
    episode_start: datetime
    first_seen: datetime
    severity_since: datetime
    last_seen: datetime
    reports: int
    total_cases: int
    observed_until: datetime


def window_sums(cases: Sequence[CaseRecord], window: timedelta) -> list[tuple[datetime, int]]:
    """(start, cases) of every window that starts at a case, over cases sorted by occurred_at."""
    ordered = sorted(cases, key=lambda case: case.occurred_at)
    sums: list[tuple[datetime, int]] = []
    end, running = 0, 0
    for first in ordered:
        while end < len(ordered) and ordered[end].occurred_at - first.occurred_at < window:
            running += ordered[end].cases
            end += 1
        sums.append((first.occurred_at, running))
        running -= first.cases
    return sums


def band_severity(peak: int, criterion: Criterion, bands: Sequence[Band]) -> Severity | None:
    """The highest band the peak reaches; None below the criterion's threshold."""
    if peak < criterion.min_cases:
        return None
    reached = [band for band in bands if peak >= band.multiple * criterion.min_cases]
    return (reached[-1] if reached else bands[0]).severity


Judge = Callable[[Sequence[CaseRecord]], Severity | None]


def _judge(criteria: Sequence[Criterion], config: ClusterConfig, disease: str) -> Judge:
    def severity_of(cases: Sequence[CaseRecord]) -> Severity | None:
        found = [
            band_severity(
                max((total for _, total in window_sums(cases, c.window)), default=0), c, config.bands_for(disease, c)
            )
            for c in criteria
        ]
        reached = [severity for severity in found if severity is not None]
        return max(reached, key=severity_rank) if reached else None

    return severity_of


def knowable_at(cases: Sequence[CaseRecord], holds: Callable[[Sequence[CaseRecord]], bool]) -> datetime | None:
    """The earliest moment the cases known by then satisfy `holds` (which only grows with more cases)."""
    ordered = sorted(cases, key=lambda case: (case.known_at, case.fact_id))
    if not ordered or not holds(ordered):
        return None
    low, high = 1, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if holds(ordered[:middle]):
            high = middle
        else:
            low = middle + 1
    return ordered[low - 1].known_at


def evaluate(cases: Sequence[CaseRecord], criteria: Sequence[Criterion], config: ClusterConfig) -> ClusterView | None:
    """The cluster the cases of one scope form, or None when they do not reach any criterion."""
    if not cases:
        return None
    disease = cases[0].disease
    judge = _judge(criteria, config, disease)
    severity = judge(cases)
    if severity is None:
        return None
    peaks = {c: max(total for _, total in window_sums(cases, c.window)) for c in criteria}
    defining = max(
        criteria,
        key=lambda c: (
            severity_rank(band_severity(peaks[c], c, config.bands_for(disease, c)) or Severity.INFO),
            peaks[c],
        ),
    )
    starts = [start for c in criteria for start, total in window_sums(cases, c.window) if total >= c.min_cases]
    episode_start = min(starts)
    episode = [case for case in cases if case.occurred_at >= episode_start]
    first_seen = knowable_at(cases, lambda known: judge(known) is not None)
    since = knowable_at(cases, lambda known: severity_rank(judge(known) or Severity.INFO) >= severity_rank(severity))
    assert first_seen is not None
    assert since is not None
    return ClusterView(
        severity=severity,
        criterion=defining,
        peak=peaks[defining],
        episode_start=episode_start,
        first_seen=first_seen,
        severity_since=since,
        last_seen=max(case.known_at for case in episode),
        reports=len(episode),
        total_cases=sum(case.cases for case in episode),
        observed_until=max(case.occurred_at for case in episode),
    )


def cluster_firing(
    key: ScopeKey, *, view: ClusterView, unit_name: str, at: datetime, floor: datetime | None, zone: ZoneInfo
) -> Firing:
    where = f"{unit_name}{key.class_name or ''}"
    window = span_zh(view.criterion.window)
    scope_zh = "同一班级" if view.criterion.scope == "class" else "同一学校"
    return Firing(
        labels=key.labels(),
        severity=view.severity,
        title_zh=f"{where}{key.disease}聚集性疫情（{window}内{view.peak}例）",
        summary_zh=(
            f"{where}自{view.episode_start.astimezone(zone):%m月%d日}起{key.disease}累计{view.total_cases}例"
            f"（{view.reports}次报告），{window}内最多{view.peak}例；"
            f"判定标准：{scope_zh}{window}内{view.criterion.min_cases}例及以上。"
        ),
        at=at,
        first_seen=view.first_seen,
        last_seen=view.last_seen,
        count=view.reports,
        severity_since=view.severity_since,
        value=float(view.peak),
        annotations={"unit_name": unit_name, "total_cases": str(view.total_cases)},
        episode_floor=floor,
        observed_until=view.observed_until,
    )
