"""The figures the data-quality checks judge: every report of every series, and the findings on a series.

The alert book holds one `QualityLedger`. Each reported figure (a progress report or a measurement,
as `data_quality.Reported`) is kept in its series (unit, subject, class), in event time. Each report
is judged only against the reports before it, so an arriving report leaves the findings on earlier
ones as they were: it and the reports after it whose judgement it may change are judged again
(`data_quality.detect_series` with `since`: for a conflicting duplicate, only those of its own
period) — for a report that comes last, the usual case, that is the report alone. The book raises
one `data_quality` alert per finding it has not raised before.
"""

from __future__ import annotations

from collections import defaultdict

from .config import DataQualityConfig
from .data_quality import CHECKS, Finding, Reported, Series, detect_series


class QualityLedger:
    def __init__(self, config: DataQualityConfig) -> None:
        self.config = config
        self._series: dict[tuple[str, str, str], Series] = defaultdict(Series)

    def put(self, report: Reported) -> None:
        self._series[report.series].put(report)

    def reports(self) -> list[Reported]:
        return [report for series in self._series.values() for report in series]

    def findings_for(self, report: Reported) -> list[Finding]:
        """The findings `report` may have changed: on it and on the reports after it in its series (only its
        own period's for conflicting duplicates); the book raises the new ones."""
        found = detect_series(self._series[report.series], self.config, since=report)
        return sorted(found, key=lambda finding: (*finding.report.order, CHECKS.index(finding.check)))
