"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts."""

from __future__ import annotations

from duban_contracts.plan.wording import shown_tallies

from ..domain import charts
from ..domain.content import ReportData
from ..domain.formatting import format_percent
from .narrative import tally_label
from .templating import render_template

STATUS_BAR_WIDTH = 640


def render_html(data: ReportData) -> str:
    return render_template(
        "report.html",
        data,
        status_segments=status_segments(data),
        progress_chart=progress_chart(data),
        incidents_chart=incidents_chart(data),
        tally_label=tally_label,
    )


def status_segments(data: ReportData) -> tuple[charts.Segment, ...]:
    counts = data.status_counts
    return charts.stacked_bar([(key.value, counts[key]) for key in shown_tallies(counts)], width=STATUS_BAR_WIDTH)


def progress_chart(data: ReportData) -> charts.LineChart | None:
    points = data.trends.progress
    if not points:
        return None
    return charts.line_chart(
        [f"{point.at.month}/{point.at.day}" for point in points],
        [("实际完成", [p.actual for p in points]), ("序时进度", [p.expected for p in points])],
        y_label=lambda value: format_percent(value, decimals=0),
    )


def incidents_chart(data: ReportData) -> charts.BarChart | None:
    months = data.trends.incidents_by_month
    if not months:
        return None
    return charts.bar_chart([f"{tally.key.month}月" for tally in months], [tally.incidents for tally in months])
