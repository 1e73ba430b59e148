"""`duban plan status` in an 80-column terminal: every title in full (wrapped, never cut)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest
from rich.console import Console

from duban_contracts.events import TargetStatus
from duban_contracts.plan import TargetKind, load_plan
from duban_contracts.rpc import StatusQuery
from duban_contracts.timezone import SHANGHAI
from duban_tasks.domain.status import TargetFacts, as_of_end_of_day, evaluate, rollup
from duban_tasks.entrypoints import cli
from duban_tasks.entrypoints.views import reply
from duban_tasks.usecases.tracking import Judgement

PLAN = load_plan()
AS_OF = as_of_end_of_day(datetime(2023, 9, 15).date())
FACTS = {
    "t10_class_size_max": TargetFacts(measured_groups=40, violating_groups=3),
    "t07_school_building_new": TargetFacts(actual=9500, reports=2),
}


def judgement() -> Judgement:
    states = {
        p.target.id: evaluate(p, FACTS.get(p.target.id, TargetFacts()), AS_OF, PLAN.year_start)
        for p in PLAN.placed_targets()
    }
    tasks = {task.no: rollup([states[t.id] for t in task.targets]) for _, task in PLAN.tasks()}
    sections = {s.no: rollup([states[t.id] for task in s.tasks for t in task.targets]) for s in PLAN.sections}
    return Judgement(AS_OF, states, tasks, sections, rollup(list(states.values())))


def rendered(monkeypatch: pytest.MonkeyPatch, *, wide: bool = False, width: int = 80) -> str:
    view = reply(PLAN, judgement(), StatusQuery()).model_dump(mode="json")
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    monkeypatch.setattr(cli, "console", console)
    cli.print_view(view["view"], view["as_of"], wide=wide)
    return console.export_text()


ROW_START = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+\.|·)")


def rows_of(text: str) -> list[list[str]]:
    """Each table row's cells, a cell's wrapped lines joined (a row starts where its title has its number)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if "│" not in line:
            continue
        cells = [re.sub(r"\s", "", cell) for cell in line.strip().strip("│").split("│")]
        if ROW_START.match(cells[0]) or not rows:
            rows.append(cells)
        else:
            rows[-1] = [before + after for before, after in zip(rows[-1], cells, strict=True)]
    return rows


def test_plan_status_at_80_columns_shows_every_title_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    text = rendered(monkeypatch)

    assert max(len(line) for line in text.splitlines()) <= 80
    titles = [row[0] for row in rows_of(text)]
    expected = []
    for section in PLAN.sections:
        expected.append(f"{section.no}、{section.title}")
        for task in section.tasks:
            expected.append(f"{task.no}. {task.title}")
            expected += [f"· {target.metric}" for target in task.targets]
    assert titles == [re.sub(r"\s", "", title) for title in expected]


def test_ids_come_last_and_give_way_first_unless_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = {row[0]: row[-1] for row in rows_of(rendered(monkeypatch))}
    wide = {row[0]: row[-1] for row in rows_of(rendered(monkeypatch, wide=True, width=250))}

    assert narrow["·落实党组织领导的校长负责制学校"] == "t02_principal…"
    assert wide["·落实党组织领导的校长负责制学校"] == "t02_principal_responsibility_schools"


def test_plan_status_speaks_each_kind_in_its_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = {row[0]: row for row in rows_of(rendered(monkeypatch, width=160))}

    assert rows["·班额"][1:3] == ["未达标", "3个班超过55人"]
    assert rows["·新建中小学校舍"][2] == "62%/序时71%"
    assert rows["·全民国家安全教育日宣传教育"][1:3] == ["逾期未开展", "4月15日节点，逾期未开展"]


def test_wide_adds_the_pace_columns_and_leaves_them_empty_for_a_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = {row[0]: row for row in rows_of(rendered(monkeypatch, wide=True, width=250))}

    assert rows["·班额"][3:5] == ["—", "—"]
    assert rows["·新建中小学校舍"][3] == "62%"


def test_a_periodic_duty_says_which_periods_were_done() -> None:
    placed = PLAN.target("t04_ideology_meeting_quarterly")
    meetings = (datetime(2023, 2, 10, 9, tzinfo=SHANGHAI), datetime(2023, 7, 20, 9, tzinfo=SHANGHAI))

    state = evaluate(placed, TargetFacts(activity_times=meetings), AS_OF, PLAN.year_start)

    assert state.periods_done == (True, False, True)  # Q1 held, Q2 missed, Q3 held (Q4 not begun)
    view = reply(
        PLAN, replace(judgement(), targets={placed.target.id: state}), StatusQuery(level="target", ref=placed.target.id)
    )
    assert view.view.status_zh == "未按期开展"
    assert view.view.figure_zh == "第1季度已开展、第2季度未开展、第3季度已开展（全年4个季度）"


def test_the_totals_count_a_broken_rule_as_not_met_never_as_seriously_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    judged = judgement()
    critical = [s for s in judged.targets.values() if s.status is TargetStatus.CRITICAL]
    critical_rules = [s for s in critical if s.kind is TargetKind.CONSTRAINT]

    assert [s.target_id for s in critical_rules] == ["t10_class_size_max"]  # 3 classes over 55
    assert judged.plan.counts["breached"] == 1
    assert judged.plan.counts.get("critical", 0) == len(critical) - 1
    assert sum(judged.plan.counts.values()) == len(judged.targets)
    totals = rendered(monkeypatch).split("┏")[0].replace("\n", "")  # the lines above the table
    assert f"严重滞后 {len(critical) - 1}，" in totals
    assert "约束性指标未达标 1" in totals
