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
from datetime import datetime

from .config import DataQualityConfig
from .data_quality import Finding, Reported, detect, detect_latest


class QualityLedger:
    def __init__(self, config: DataQualityConfig) -> None:
        self.config = config
        self._series: dict[tuple[str, str, str], dict[str, Reported]] = defaultdict(dict)
        self._latest: dict[tuple[str, str, str], tuple[datetime, str]] = {}

    def put(self, report: Reported) -> None:
        latest = self._latest.get(report.series)
        if latest is None or report.order > latest:
            self._latest[report.series] = report.order
        self._series[report.series][report.fact_id] = report

    def reports(self) -> list[Reported]:
        return [report for series in self._series.values() for report in series.values()]

    def findings_for(self, report: Reported) -> list[Finding]:
        """The findings `report` may have added to its series (the book raises the ones it has not raised)."""
        series = self._series[report.series]
        if report.order == self._latest[report.series]:
            return detect_latest(list(series.values()), self.config)
        return detect(series.values(), self.config)
