"""The figures the data-quality checks judge: every report of every series, and the findings on a series.

The alert book holds one `QualityLedger`. Each reported figure (a progress report or a measurement,
as `data_quality.Reported`) is kept in its series (unit, subject, class); when one arrives, its whole
series is checked again in event time (`data_quality.detect`), because a report that arrives late
can make a later one look wrong. The book raises one `data_quality` alert per finding it has not
raised before.
"""

from __future__ import annotations

from collections import defaultdict

from .config import DataQualityConfig
from .data_quality import Finding, Reported, detect


class QualityLedger:
    def __init__(self, config: DataQualityConfig) -> None:
        self.config = config
        self._series: dict[tuple[str, str, str], dict[str, Reported]] = defaultdict(dict)

    def put(self, report: Reported) -> None:
        self._series[report.series][report.fact_id] = report

    def reports(self) -> list[Reported]:
        return [report for series in self._series.values() for report in series.values()]

    def findings_for(self, report: Reported) -> list[Finding]:
        """Every finding on the series `report` belongs to (the book raises the new ones)."""
        return detect(self._series[report.series].values(), self.config)
