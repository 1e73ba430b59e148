"""The report as PDF: the HTML page laid out by WeasyPrint with the Noto CJK fonts (Debian fonts-noto-cjk)."""

from __future__ import annotations

from ..domain.content import ReportData
from .html import render_html


def render_pdf(data: ReportData) -> bytes:
    # Imported here: WeasyPrint takes about a second to load, and only this format needs it.
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(data)).write_pdf()
    return pdf
