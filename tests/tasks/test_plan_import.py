"""`import_plan`: a draft plan from a plan text, measured against reviewed readings.

The seed (the 2023 Bazhou plan) is compared with the reviewed bundled plan; five other bureaus'
texts written for these tests (tests/tasks/plan_texts/) are compared with hand-written readings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from duban_contracts.plan import Comparator, TargetKind, load_plan
from duban_tasks.domain.plan_import import (
    Gold,
    Score,
    ScoredTarget,
    import_plan,
    load_gold,
    score,
    score_plan,
    targets_of,
)

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "tests" / "data" / "plans" / "bazhou-2023.txt"  # the customer's plan text, verbatim
PLAN_TEXTS = Path(__file__).parent / "plan_texts"
TEXTS = sorted(PLAN_TEXTS.glob("*.txt"))

MIN_PRECISION = 0.95
MIN_RECALL = 0.95

RecordProperty = Callable[[str, object], None]


def _expected(text_file: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_expected_file(text_file).read_text(encoding="utf-8"))
    return loaded


def _expected_file(text_file: Path) -> Path:
    return text_file.with_suffix(".expected.yaml")


def _gold(text_file: Path) -> Gold:
    path = _expected_file(text_file)
    return load_gold(path.read_text(encoding="utf-8"), source=path.name)


def _report(name: str, result: Score, record_property: RecordProperty) -> None:
    record_property(f"{name}.precision", round(result.precision, 4))
    record_property(f"{name}.recall", round(result.recall, 4))
    print(f"\n[plan import] {name}: {result.summary()}")
    for label, targets in (("missed", result.missed), ("spurious", result.spurious)):
        for target in targets:
            print(f"  {label:<8} {target.line()}")


def test_seed_plan_matches_the_reviewed_plan(record_property: RecordProperty) -> None:
    reviewed = load_plan()
    found = import_plan(SEED.read_text(encoding="utf-8"))
    result = score_plan(found.plan, Gold(year=reviewed.year, targets=targets_of(reviewed)))
    _report("seed", result, record_property)
    assert result.recall >= MIN_RECALL
    assert result.precision >= MIN_PRECISION


@pytest.mark.parametrize("text_file", TEXTS, ids=[t.stem for t in TEXTS])
def test_other_bureaus_plans_match_their_hand_readings(text_file: Path, record_property: RecordProperty) -> None:
    gold = _gold(text_file)
    found = import_plan(text_file.read_text(encoding="utf-8"))
    result = score_plan(found.plan, gold)
    _report(text_file.stem, result, record_property)
    assert found.plan.year == gold.year
    assert result.recall >= MIN_RECALL
    assert result.precision >= MIN_PRECISION


@pytest.mark.parametrize("text_file", TEXTS, ids=[t.stem for t in TEXTS])
def test_phrases_without_a_base_unit_are_listed_as_unread(text_file: Path) -> None:
    found = import_plan(text_file.read_text(encoding="utf-8"))
    for row in _expected(text_file)["unread"] or []:
        assert any(
            u.task_no == row["task"] and (row["phrase"] in u.text or u.text in row["phrase"]) for u in found.unread
        ), row


def test_hand_readings_quote_their_texts() -> None:
    for text_file in TEXTS:
        text = text_file.read_text(encoding="utf-8")
        for target in _gold(text_file).targets:
            assert target.phrase in text, (text_file.name, target.phrase)


@pytest.mark.parametrize("text_file", [*TEXTS, SEED], ids=[*(t.stem for t in TEXTS), "seed"])
def test_every_target_quotes_the_input_and_has_a_well_formed_id(text_file: Path) -> None:
    text = text_file.read_text(encoding="utf-8")
    result = import_plan(text)
    assert result.placed_targets
    for placed in result.placed_targets:
        assert placed.target.text in text
        assert re.fullmatch(rf"t{placed.task.no:02d}_\d{{2}}", placed.target.id)
        assert placed.target.metric


SECTIONED = """某区教育局2024年工作计划

一、办学条件
1.新建幼儿园3所。
2.新增学位500个。
二、队伍建设
3.补充教师100名。
"""

RESTARTING = """某县科技局2024年工作要点
一、创新主体
（一）新增高新技术企业5家。
（二）新增科技型中小企业20家。
二、成果转化
（一）登记科技成果30项。
"""

FLAT = """某县教育局2022年为民办实事
1、新建幼儿园三所。
2、招聘教师一百五十名。
"""


def test_sections_and_tasks_follow_the_numbering() -> None:
    plan = import_plan(SECTIONED).plan
    assert [(s.no, s.title) for s in plan.sections] == [("一", "办学条件"), ("二", "队伍建设")]
    assert [[t.no for t in s.tasks] for s in plan.sections] == [[1, 2], [3]]
    assert [t.title for _, t in plan.tasks()] == ["新建幼儿园3所", "新增学位500个", "补充教师100名"]


def test_tasks_numbered_afresh_in_each_section_are_numbered_through_the_plan() -> None:
    plan = import_plan(RESTARTING).plan
    assert [t.no for _, t in plan.tasks()] == [1, 2, 3]
    assert [p.target.id for p in plan.placed_targets()] == ["t01_01", "t02_01", "t03_01"]


def test_a_flat_list_makes_one_section() -> None:
    plan = import_plan(FLAT).plan
    assert len(plan.sections) == 1
    assert [(p.task.no, p.target.value, p.target.unit) for p in plan.placed_targets()] == [(1, 3, "所"), (2, 150, "人")]


def test_year_title_and_issuer_come_from_the_title() -> None:
    plan = import_plan(SECTIONED).plan
    assert (plan.year, plan.issuer, plan.title) == (2024, "某区教育局", "某区教育局2024年工作计划")


def test_year_given_by_the_caller_wins() -> None:
    plan = import_plan(SECTIONED, year=2025, plan_id="draft-2025").plan
    assert (plan.id, plan.year) == ("draft-2025", 2025)


def test_a_text_without_a_year_needs_one() -> None:
    with pytest.raises(ValueError, match="year"):
        import_plan("工作要点\n1.新建幼儿园3所。")


def test_printable_lines_name_section_task_and_phrase() -> None:
    lines = import_plan(SECTIONED).lines()
    assert len(lines) == 3
    assert lines[2].startswith("二/ 3 t03_01")
    assert "补充教师100名" in lines[2]


def test_unread_phrases_name_their_task() -> None:
    result = import_plan("某县教育局2022年为民办实事\n1、新建幼儿园三所。\n2、新增校车12辆。\n")
    assert [(u.task_no, u.text) for u in result.unread] == [(2, "新增校车12辆")]


def test_scoring_counts_matches_misses_and_inventions() -> None:
    def key(task_no: int, value: float, unit: str = "个") -> ScoredTarget:
        return ScoredTarget(task_no, value, unit, Comparator.GE, TargetKind.CUMULATIVE_COUNT)

    result = score(found=[key(1, 3), key(1, 0.1 + 0.2), key(2, 5)], gold=[key(1, 3), key(1, 0.3), key(3, 1)])
    assert len(result.matched) == 2
    assert result.missed == [key(3, 1)]
    assert result.spurious == [key(2, 5)]
    assert (result.precision, result.recall) == (2 / 3, 2 / 3)


PLAN_PIECES = [
    *"一二三四五六七八九十百千万两零第每个所名人次项家元%％１２0123456789.．、，。；（）“”《》余多前\n ",
    *("1.", "（一）", "一、", "2023年", "教师节", "“4.15”", "万平方米", "个百分点", "以上", "不低于", "突破", "以内"),
    *("严禁", "全覆盖", "只增不减", "增长", "下降", "每季度", "新建", "学校", "教育"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PLAN_PIECES), max_size=60))
def test_any_text_imports_into_a_valid_plan_quoting_its_input(pieces: list[str]) -> None:
    text = "某区教育局2023年工作计划\n" + "".join(pieces)
    result = import_plan(text)
    assert result.plan.year == 2023
    for placed in result.placed_targets:
        assert placed.target.text in text
