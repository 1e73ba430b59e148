"""`duban plan import --out` writes a plan file to review; `duban plan check` validates one, naming
the line of every problem."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from duban_contracts.plan import load_plan, parse_plan
from duban_tasks.domain.plan_import import import_plan
from duban_tasks.domain.plan_import.checking import Problem, check_plan_text
from duban_tasks.domain.plan_import.writing import plan_yaml
from duban_tasks.entrypoints.cli import plan_app

PLAN_TEXTS = Path(__file__).parent / "plan_texts"
BUNDLED = resources.files("duban_contracts.plan").joinpath("bazhou-2023.yaml").read_text(encoding="utf-8")

DRAFT_TEXT = """某县教育局2024年为民办实事
1.新建幼儿园3所,改造窑洞教室12孔。
2.招聘教师120名,团体总分进入全市前三名。
"""

# Line numbers matter below: each fault sits on the line the test names.
BROKEN = """\
id: broken
title: 某县教育局2024年工作计划
year: 2024
issuer: 某县教育局
sections:
  - "no": 一
    index: 1
    title: 办学条件
    tasks:
      - "no": 1
        title: 新建幼儿园
        targets:
          - id: t01_01
            text: 新建幼儿园3所
            metric: 新建幼儿园
            value: 3
            unit: 所
            kind: cumulative_count
            due: 2025-06-30
          - id: t01_01
            text: 新建幼儿园3所
            metric: 新建幼儿园
            value: 3
            unit: 所
            kind: cumulative_count
          - id: t01_03
            text: 新增校车12辆
            metric: 新增校车
            value: 十二
            unit: 辆车
            kind: count
            colour: red
      - "no": 1
        title: 编号重复的任务
        targets: []
"""


def test_a_written_draft_reads_back_as_the_same_plan_and_passes_the_check() -> None:
    for text_file in sorted(PLAN_TEXTS.glob("*.txt")):
        result = import_plan(text_file.read_text(encoding="utf-8"))
        written = plan_yaml(result, source=text_file.name)
        assert parse_plan(written) == result.plan.model_copy(update={"source": text_file.name})
        assert check_plan_text(written).problems == []


def test_unread_phrases_are_comments_in_their_task() -> None:
    lines = plan_yaml(import_plan(DRAFT_TEXT)).splitlines()
    task_lines = {int(line.split(":")[1]): index for index, line in enumerate(lines) if line.startswith('      - "no"')}
    comments = {index: line for index, line in enumerate(lines) if line.strip().startswith("# 未读")}
    assert len(comments) == 2
    [first, second] = sorted(comments)
    assert task_lines[1] < first < task_lines[2] < second
    assert "改造窑洞教室12孔" in comments[first] and "孔" in comments[first].split("——")[1]
    assert "团体总分进入全市前三名" in comments[second] and "名次" in comments[second]


def test_the_bundled_plan_passes_the_check() -> None:
    checked = check_plan_text(BUNDLED)
    assert checked.problems == []
    assert checked.plan == load_plan()


def test_a_broken_plan_names_every_problem_with_its_line() -> None:
    checked = check_plan_text(BROKEN)
    assert checked.plan is None
    found = [(p.line, p.where, p.message.split(" / ")[0]) for p in checked.problems]
    assert found == [
        (19, "sections[0].tasks[0].targets[0].due", "日期不在计划年度内"),
        (20, "sections[0].tasks[0].targets[1]", "重复指标"),
        (20, "sections[0].tasks[0].targets[1].id", "指标编号重复"),
        (29, "sections[0].tasks[0].targets[2].value", "应为数字"),
        (30, "sections[0].tasks[0].targets[2].unit", "不是基本单位"),
        (31, "sections[0].tasks[0].targets[2].kind", "取值无效"),
        (32, "sections[0].tasks[0].targets[2].colour", "未知字段"),
        (33, "sections[0].tasks[1].no", "任务编号重复"),
    ]
    messages = {p.where: p.message for p in checked.problems}
    assert "repeats line 13" in messages["sections[0].tasks[0].targets[1].id"]
    assert "as on line 13" in messages["sections[0].tasks[0].targets[1]"]
    assert "2025-06-30 is outside the plan year 2024" in messages["sections[0].tasks[0].targets[0].due"]


@pytest.mark.parametrize(
    ("broken", "line", "message"),
    [
        (BROKEN.replace("unit: 所\n            kind: cumulative_count\n            due", "unit: [所\n"), 18, "YAML"),
        (BROKEN.replace("due: 2025-06-30", "due: 2024-13-01"), 19, "invalid date"),
        ("- 不是映射\n", 1, "mapping"),
        (BROKEN.replace("    index: 1\n", ""), 6, "index"),
        (BROKEN.replace("title: 新建幼儿园\n", "title: 新建幼儿园\n        responsible: 教育局\n"), 12, "应为列表"),
    ],
)
def test_unreadable_or_incomplete_plans_point_at_the_line(broken: str, line: int, message: str) -> None:
    problems = check_plan_text(broken).problems
    assert problems, broken
    assert problems[0].line == line, problems
    assert message in str(problems[0]), problems


def test_a_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    without_unit = BUNDLED.replace("            unit: 个\n", "", 1)
    [problem] = check_plan_text(without_unit).problems
    assert problem.where.endswith(".unit")
    assert problem.message.startswith("缺少字段")
    assert without_unit.splitlines()[problem.line - 1].strip().startswith("- id:")


def test_problems_print_as_file_line_and_place() -> None:
    assert str(Problem(12, "sections[0].title", "应为文本 / x")) == "12: sections[0].title: 应为文本 / x"


def test_the_check_command_exits_1_on_problems_and_0_on_a_good_plan(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    outcome = CliRunner().invoke(plan_app, ["check", str(broken)])
    assert outcome.exit_code == 1
    assert f"{broken}:20: sections[0].tasks[0].targets[1].id: 指标编号重复" in outcome.output
    text = tmp_path / "plan.txt"
    text.write_text(DRAFT_TEXT, encoding="utf-8")
    draft = tmp_path / "draft.yaml"
    written = CliRunner().invoke(plan_app, ["import", str(text), "--out", str(draft)])
    assert written.exit_code == 0, written.output
    checked = CliRunner().invoke(plan_app, ["check", str(draft)])
    assert checked.exit_code == 0, checked.output
    assert "通过 / ok" in checked.output
    assert load_plan(draft).year == 2024
