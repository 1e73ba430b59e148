from __future__ import annotations

import pytest

from duban_reports.domain.periods import ReportKind, parse_period
from duban_reports.rendering import render, report_file_name
from tests.reports.report_samples import sample_report


@pytest.mark.parametrize(
    ("kind", "period", "fmt", "expected"),
    [
        (ReportKind.QUARTERLY, "2023-Q2", "pdf", "2023-Q2_quarterly.pdf"),
        (ReportKind.WEEKLY, "2023-W23", "md", "2023-W23_weekly.md"),
        ("monthly", "2023-06", "xlsx", "2023-06_monthly.xlsx"),
        (ReportKind.ANNUAL, "2023", "html", "2023_annual.html"),
        (ReportKind.ADHOC, "2023-03-01..2023-03-15", "pdf", "2023-03-01_2023-03-15_adhoc.pdf"),
    ],
)
def test_report_file_name_joins_period_kind_and_format(
    kind: ReportKind | str, period: str, fmt: str, expected: str
) -> None:
    assert report_file_name(kind, parse_period(period), fmt) == expected  # type: ignore[arg-type]


def test_report_file_name_refuses_unknown_kinds_and_formats() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        report_file_name("fortnightly", parse_period("2023-06"), "pdf")
    with pytest.raises(ValueError, match="format"):
        report_file_name(ReportKind.MONTHLY, parse_period("2023-06"), "docx")  # type: ignore[arg-type]


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        render(sample_report(), "docx")  # type: ignore[arg-type]
