"""The report as a short Markdown message for chat: headline figures, the late list, safety."""

from __future__ import annotations

from ..domain.content import ReportData
from .templating import render_template

#: A chat message lists at most this many late targets; the full list is in the attached report.
MAX_LATE_IN_MESSAGE = 10


def render_markdown(data: ReportData, *, max_late: int = MAX_LATE_IN_MESSAGE) -> str:
    return render_template("report.md", data, max_late=max_late)
