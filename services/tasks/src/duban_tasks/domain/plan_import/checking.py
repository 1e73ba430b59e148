"""`duban plan check`: a plan file's problems, each with the line it sits on.

Checked: the YAML itself; the schema (the pydantic `Plan` model, whose error locations are mapped
back to lines through the YAML node marks); unique target ids and task numbers; dues and starts
inside the plan year; and duplicate targets (same task, metric, value and unit).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError

from duban_contracts.plan.model import Plan
from duban_contracts.units import is_base_unit

Path = tuple[str | int, ...]

#: Chinese for pydantic's most common error types; the English message follows it.
_TYPE_ZH = {
    "missing": "缺少字段",
    "extra_forbidden": "未知字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "date_type": "应为日期",
    "date_from_datetime_parsing": "应为日期",
    "date_parsing": "应为日期",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "string_pattern_mismatch": "格式不符",
    "greater_than_equal": "数值过小",
    "list_type": "应为列表",
    "model_type": "应为映射",
    "dict_type": "应为映射",
    "tuple_type": "应为 [下限, 上限]",
    "too_long": "项数过多",
    "too_short": "项数过少",
    "value_error": "取值无效",
}


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    where: str  # sections[0].tasks[1].targets[0].value
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.where}: {self.message}" if self.where else f"{self.line}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    plan: Plan | None
    problems: list[Problem]


def check_plan_text(text: str) -> CheckResult:
    """Every problem of the plan in a YAML text, sorted by line; the plan when there is none."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        return CheckResult(None, [Problem(line, "", f"不是有效的 YAML / not valid YAML: {error.problem}")])
    try:
        data = yaml.safe_load(text)
    except ValueError as error:  # a scalar that looks like a date but is none: 2023-13-01
        line = next((n.start_mark.line + 1 for n in _bad_dates(root)), 1) if root else 1
        return CheckResult(None, [Problem(line, "", f"日期无效 / invalid date: {error}")])
    if not isinstance(data, dict) or root is None:
        return CheckResult(
            None, [Problem(1, "", "计划应为映射（id、title、year、sections …）/ a plan must be a mapping")]
        )
    lines = dict(_lines(root, ()))
    problems = list(_rule_problems(data, lines))
    plan = None
    try:
        plan = Plan.model_validate(data)
    except ValidationError as error:
        problems += [_schema_problem(e, lines, data) for e in error.errors() if not _said_already(e, problems)]
    return CheckResult(plan if not problems else None, sorted(set(problems)))


# --- lines -------------------------------------------------------------------------------------


def _lines(node: yaml.Node, path: Path) -> Iterator[tuple[Path, int]]:
    """(path, line) for every key and item: the line a reader should look at for that path."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            yield child, key.start_mark.line + 1
            yield from ((p, line) for p, line in _lines(value, child) if p != child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _lines(item, (*path, index))


def _bad_dates(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader("").construct_yaml_timestamp(node)
            except ValueError:
                yield node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _bad_dates(key)
            yield from _bad_dates(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _bad_dates(item)


def _line_of(path: Path, lines: dict[Path, int]) -> int:
    """The line of `path`, or of its deepest ancestor in the file (a missing key sits in its parent)."""
    for depth in range(len(path), -1, -1):
        if path[:depth] in lines:
            return lines[path[:depth]]
    return 1


def _where(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --- the schema --------------------------------------------------------------------------------


def _schema_problem(error: Any, lines: dict[Path, int], data: dict[str, Any]) -> Problem:
    path: Path = tuple(error["loc"])
    message = str(error["msg"])
    if error["type"] == "value_error":
        # A model validator names the field it objects to (unit, schedule, start): point at it.
        target = _at(data, path)
        if isinstance(target, dict):
            named = [key for key in target if isinstance(key, str) and f" {key} " in f" {message} "]
            path = (*path, named[0]) if named else path
    zh = _TYPE_ZH.get(str(error["type"]), "不符合计划格式")
    return Problem(_line_of(path, lines), _where(path), f"{zh} / {message}")


def _said_already(error: Any, problems: list[Problem]) -> bool:
    """The model's own checks of ids and units repeat what the rules below report with a line."""
    message = str(error["msg"])
    return ("duplicate target id" in message or "is not a base unit" in message) and bool(problems)


def _at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# --- the rules ---------------------------------------------------------------------------------


def _rule_problems(data: dict[str, Any], lines: dict[Path, int]) -> Iterator[Problem]:
    year = data.get("year") if isinstance(data.get("year"), int) else None
    first_id: dict[str, Path] = {}
    first_task: dict[object, Path] = {}
    first_promise: dict[tuple[object, ...], Path] = {}
    for task_path, task in _items(data, ("sections",), "tasks"):
        number = task.get("no")
        if number in first_task and isinstance(number, int):
            yield _problem(
                (*task_path, "no"),
                lines,
                f"任务编号重复 / task number {number} repeats line {_line_of((*first_task[number], 'no'), lines)}",
            )
        first_task.setdefault(number, task_path)
        for target_path, target in _items(task, task_path, "targets", nested=False):
            target_id = target.get("id")
            if isinstance(target_id, str):
                if target_id in first_id:
                    line = _line_of((*first_id[target_id], "id"), lines)
                    yield _problem(
                        (*target_path, "id"), lines, f"指标编号重复 / target id {target_id} repeats line {line}"
                    )
                first_id.setdefault(target_id, target_path)
            promise = (number, target.get("metric"), _number(target.get("value")), target.get("unit"))
            if None not in promise:
                if promise in first_promise:
                    line = _line_of(first_promise[promise], lines)
                    yield _problem(
                        target_path, lines,
                        f"重复指标 / duplicate target: task {number}, {promise[1]} {target.get('value')} {promise[3]} "
                        f"as on line {line}",
                    )  # fmt: skip
                first_promise.setdefault(promise, target_path)
            unit = target.get("unit")
            if isinstance(unit, str) and not is_base_unit(unit):
                yield _problem((*target_path, "unit"), lines, f"不是基本单位 / unit {unit!r} is not a base unit")
            if year is not None:
                yield from _dates_outside(target, target_path, year, lines)


def _items(data: Any, path: Path, key: str, *, nested: bool = True) -> Iterator[tuple[Path, dict[str, Any]]]:
    """sections[*].tasks[*] (nested) or task.targets[*]: the mappings at that place, with their paths."""
    if nested:
        for index, section in enumerate(_list(data, "sections")):
            for task_index, task in enumerate(_list(section, key)):
                if isinstance(task, dict):
                    yield (*path, index, key, task_index), task
        return
    for index, item in enumerate(_list(data, key)):
        if isinstance(item, dict):
            yield (*path, key, index), item


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _dates_outside(target: dict[str, Any], path: Path, year: int, lines: dict[Path, int]) -> Iterator[Problem]:
    places: list[tuple[Path, object]] = [((*path, key), target.get(key)) for key in ("due", "start")]
    for index, milestone in enumerate(_list(target, "milestones")):
        if isinstance(milestone, dict):
            places.append(((*path, "milestones", index, "due"), milestone.get("due")))
    for where, value in places:
        if isinstance(value, date) and value.year != year:
            yield _problem(where, lines, f"日期不在计划年度内 / {value.isoformat()} is outside the plan year {year}")


def _problem(path: Path, lines: dict[Path, int], message: str) -> Problem:
    return Problem(_line_of(path, lines), _where(path), message)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)
