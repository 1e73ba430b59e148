"""Renderers of the leader reports: HTML, PDF (from the HTML), XLSX and Markdown, all in Chinese.

`render(data, fmt)` is deterministic for html, md and xlsx: the same ReportData gives the same
bytes (no wall clock; times come from the period and `as_of`).
"""

from __future__ import annotations

from typing import Literal, get_args

from ..domain.content import ReportData
from ..domain.periods import Period, ReportKind
from .html import render_html
from .markdown import render_markdown
from .pdf import render_pdf
from .xlsx import render_xlsx

Format = Literal["html", "pdf", "xlsx", "md"]
FORMATS: tuple[Format, ...] = get_args(Format)

MEDIA_TYPES: dict[Format, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
}


def render(data: ReportData, fmt: Format) -> bytes:
    """The report in one format, as the bytes of its file."""
    match fmt:
        case "html":
            return render_html(data).encode("utf-8")
        case "md":
            return render_markdown(data).encode("utf-8")
        case "xlsx":
            return render_xlsx(data)
        case "pdf":
            return render_pdf(data)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


def report_file_name(kind: ReportKind | str, period: Period, fmt: Format) -> str:
    """`2023-Q2_quarterly.pdf`, `2023-W23_weekly.md`, `2023-03-01_2023-03-15_adhoc.html`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    return f"{period.slug}_{ReportKind(kind).value}.{fmt}"


__all__ = ["FORMATS", "MEDIA_TYPES", "Format", "render", "report_file_name"]
