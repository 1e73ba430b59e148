"""The figures the data-quality checks judge: every report of every series, and the findings on a series.

The alert book holds one `QualityLedger`. Each reported figure (a progress report or a measurement,
as `data_quality.Reported`) is kept in its series (unit, subject, class). A report that comes last
in its series in event time is judged alone (`data_quality.detect_latest`): each report is judged
only against the reports before it, so the others' findings stay as they were. A report that
arrives late has its whole series checked again (`data_quality.detect`), because it can make a
later one look wrong. The book raises one `data_quality` alert per finding it has not raised before.
"""

from __future__ import annotations

from collections import defaultdict

from .config import DataQualityConfig
from .data_quality import CHECKS, Finding, Reported, Series, detect_since


class QualityLedger:
    def __init__(self, config: DataQualityConfig) -> None:
        self.config = config
        self._series: dict[tuple[str, str, str], Series] = defaultdict(Series)
        #: (check, fact id) of the findings handed out already: the book raised them.
        self._handed_out: set[tuple[str, str]] = set()

    def put(self, report: Reported) -> None:
        self._series[report.series].put(report)

    def reports(self) -> list[Reported]:
        return [report for series in self._series.values() for report in series]

    def findings_for(self, report: Reported) -> list[Finding]:
        """The findings `report` added to its series, not handed out before (the book raises them)."""
        series = self._series[report.series]
        found = detect_since(series, report, self.config)
        fresh = [f for f in found if (f.check, f.report.fact_id) not in self._handed_out]
        self._handed_out.update((f.check, f.report.fact_id) for f in fresh)
        return sorted(fresh, key=lambda finding: (*finding.report.order, CHECKS.index(finding.check)))
