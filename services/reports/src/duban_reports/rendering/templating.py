"""The Jinja2 environment the HTML and Markdown templates share, with the report's filters."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from duban_contracts.plan.wording import shown_tallies

from ..domain import charts
from ..domain.content import STATUS_ORDER, ReportData
from ..domain.formatting import (
    format_as_of_zh,
    format_date_zh,
    format_datetime_zh,
    format_duration_zh,
    format_month_zh,
    format_number,
    format_percent,
    format_quantity,
    format_short_date_zh,
)
from . import narrative

#: Status and traffic-light colours, shared by the HTML charts and the XLSX fills.
STATUS_COLOURS = {
    "done": "#1a7f37",
    "on_track": "#4ac26b",
    "lagging": "#d4a72c",
    "critical": "#e16f24",
    "overdue": "#cf222e",
    "not_started": "#8c959f",
    # a rule held or broken: the colours of done and overdue, not of a lag
    "held": "#1a7f37",
    "breached": "#cf222e",
    "unmeasured": "#8c959f",
}
LIGHT_COLOURS = {"green": "#2da44e", "yellow": "#d4a72c", "red": "#cf222e", "grey": "#8c959f"}

#: SVG text does not inherit the page's CSS in every renderer (WeasyPrint's among them), so charts name it.
SVG_FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"


@cache
def environment() -> Environment:
    """One environment per process: it holds only the templates and pure filters."""
    env = Environment(
        loader=PackageLoader("duban_reports.rendering", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        qty=format_quantity,
        pct=format_percent,
        number=format_number,
        date_zh=format_date_zh,
        short_date_zh=format_short_date_zh,
        month_zh=format_month_zh,
        datetime_zh=format_datetime_zh,
        duration_zh=format_duration_zh,
        md=escape_markdown,
        n=charts.svg_number,
    )
    env.globals.update(
        narrative=narrative,
        charts=charts,
        STATUS_ORDER=STATUS_ORDER,
        shown_tallies=shown_tallies,
        STATUS_COLOURS=STATUS_COLOURS,
        LIGHT_COLOURS=LIGHT_COLOURS,
        SVG_FONT=SVG_FONT,
        format_as_of_zh=format_as_of_zh,
    )
    return env


def render_template(name: str, data: ReportData, **extra: Any) -> str:
    return environment().get_template(name).render(data=data, **extra)


_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]"})


def escape_markdown(text: object) -> str:
    """Text that chat clients will not read as Markdown markup."""
    return str(text).translate(_MARKDOWN_SPECIALS)
