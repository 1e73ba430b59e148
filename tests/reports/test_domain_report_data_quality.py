"""数据质量 in the leader reports: a score per unit over the figures it reported, from the alerts' findings."""

from __future__ import annotations

import pytest

from duban_reports.domain.data_quality import QualityFinding, data_quality_section

REPORTS = [("u1", "一中", 10), ("u2", "二中", 4)]  # (unit, name, reports sent in the period)


def test_a_report_counts_once_at_its_heaviest_finding_and_an_outlier_weighs_half() -> None:
    findings = [
        QualityFinding("u1", "a1", "cumulative_decrease", "warning"),
        QualityFinding("u1", "a1", "increment_outlier", "info"),  # the same report: counts once, at 1
        QualityFinding("u1", "a2", "increment_outlier", "info"),
    ]

    section = data_quality_section(REPORTS, findings)

    (unit,) = section.units
    assert (unit.unit_id, unit.reports, unit.flagged) == ("u1", 10, 2)
    assert unit.score == pytest.approx(1 - 1.5 / 10)
    assert unit.band_zh == "差"
    assert dict(unit.by_check) == {"累计数减少": 1, "新增量异常": 2}
    assert section.score == pytest.approx(1 - 1.5 / 14)


def test_units_without_findings_are_scored_in_the_total_and_not_listed() -> None:
    section = data_quality_section(REPORTS, [QualityFinding("u3", "elsewhere", "implausible_value", "warning")])

    assert section.units == ()
    assert (section.reports, section.flagged, section.units_scored) == (14, 0, 2)
    assert section.score == 1.0
