"""`duban alerts list` in an 80-column terminal: titles whole and wrapped, the id last and shortened."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console

from duban_alerts.entrypoints.cli import alerts_table

ALERTS: list[dict[str, Any]] = [
    {
        "id": "al-2023-000123-class-size-bz-ez",
        "severity": "warning",
        "state": "firing",
        "rule": "class_size",
        "title": "巴中市第二中学七年级3班大班额（班额58人）",
        "count": 2,
        "first_seen": "2023-09-01T09:00:00+08:00",
        "escalation_level": 1,
    },
    {
        "id": "al-2023-000124-deadline-t24",
        "severity": "major",
        "state": "acknowledged",
        "rule": "deadline",
        "title": "【逾期】全民国家安全教育日宣传教育（4月15日截止）未完成，请责任单位安全稳定股于3个工作日内说明情况",
        "count": 1,
        "first_seen": "2023-04-16T00:00:00+08:00",
        "escalation_level": 2,
    },
]


def rendered(*, wide: bool = False, width: int = 80) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(alerts_table(ALERTS, wide=wide))
    return console.export_text()


def cells_by_row(text: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in text.splitlines():
        if "│" not in line:
            continue
        cells = [re.sub(r"\s", "", cell) for cell in line.strip().strip("│").split("│")]
        if cells[1]:  # the severity never wraps: a row starts where it is filled
            rows.append(cells)
        else:
            rows[-1] = [before + after for before, after in zip(rows[-1], cells, strict=True)]
    return rows


def test_alert_titles_wrap_whole_at_80_columns_and_the_id_gives_way() -> None:
    text = rendered()
    rows = cells_by_row(text)

    assert max(len(line) for line in text.splitlines()) <= 80
    assert [row[0] for row in rows] == [re.sub(r"\s", "", alert["title"]) for alert in ALERTS]
    assert [row[2] for row in rows] == ["催办", "督办"]
    assert rows[0][-1] == "al-2023-0…"


def test_wide_shows_the_whole_id_and_the_rule() -> None:
    rows = cells_by_row(rendered(wide=True, width=200))

    assert rows[0][-1] == "al-2023-000123-class-size-bz-ez"
    assert rows[0][3] == "class_size"
