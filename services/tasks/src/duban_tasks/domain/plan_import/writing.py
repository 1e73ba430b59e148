"""A draft plan as a reviewable YAML file, in the layout of the bundled plan
(contracts/src/duban_contracts/plan/bazhou-2023.yaml), which `load_plan` reads back.

The phrases the importer could not read are written as comments in the task they come from, so
that a reviewer meets them where they belong. A small emitter writes the layout; every scalar is
rendered by PyYAML, so quoting is PyYAML's and the file always parses back to the same plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import yaml

from duban_contracts.plan.model import Plan, Target, Task

from .importer import ImportResult, UnreadPhrase

#: Target fields in the order the bundled plan writes them; empty ones are left out.
_TARGET_FIELDS = (
    "id", "text", "metric", "aliases", "comparator", "value", "unit", "kind", "range", "standard",
    "due", "start", "schedule", "responsible", "milestones", "baseline", "notes",
)  # fmt: skip


def plan_yaml(result: ImportResult, *, source: str | None = None) -> str:
    """The draft plan as YAML text, its unread phrases as comments under their tasks."""
    plan = result.plan if source is None else result.plan.model_copy(update={"source": source})
    unread: dict[int, list[UnreadPhrase]] = {}
    for phrase in result.unread:
        unread.setdefault(phrase.task_no, []).append(phrase)
    return "\n".join(_plan_lines(plan, unread)) + "\n"


def _plan_lines(plan: Plan, unread: dict[int, list[UnreadPhrase]]) -> Iterator[str]:
    count = sum(len(task.targets) for _, task in plan.tasks())
    yield f"# 导入草案：{plan.title}"
    yield f"# Draft read by `duban plan import` — {count} targets, {sum(map(len, unread.values()))} phrases not read."
    yield "# 每项指标都须人工核对后再使用；未能识别的表述以“# 未读”注释列在所属任务下。"
    yield "# Review every target before use; `duban plan check` validates the file."
    for key in ("id", "title", "year", "issuer", "published", "source"):
        value = getattr(plan, key)
        if value is not None:
            yield f"{key}: {_scalar(value)}"
    yield "sections:"
    for section in plan.sections:
        yield f'  - "no": {_scalar(section.no)}'
        yield f"    index: {section.index}"
        yield f"    title: {_scalar(section.title)}"
        yield "    tasks:"
        for task in section.tasks:
            yield from _task_lines(task, unread.get(task.no, []))


def _task_lines(task: Task, unread: list[UnreadPhrase]) -> Iterator[str]:
    yield f'      - "no": {task.no}'
    yield f"        title: {_scalar(task.title)}"
    if task.responsible:
        yield f"        responsible: {_scalar(task.responsible)}"
    for phrase in unread:
        yield f"        # 未读 / not read: {_one_line(phrase.text)} —— {_one_line(phrase.reason)}"
    if not task.targets:
        yield "        targets: []"
        return
    yield "        targets:"
    for target in task.targets:
        yield from _target_lines(target)


def _target_lines(target: Target) -> Iterator[str]:
    dumped = target.model_dump(mode="python", exclude_none=True)
    first = True
    for key in _TARGET_FIELDS:
        if key not in dumped or dumped[key] == []:
            continue
        prefix = "          - " if first else "            "
        first = False
        yield f"{prefix}{key}: {_scalar(_plain(dumped[key]))}"


def _plain(value: Any) -> Any:
    """Enums as their values, whole floats as ints (value: 3, not 3.0), tuples as lists."""
    if hasattr(value, "value") and not isinstance(value, date):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _scalar(value: Any) -> str:
    """One value as PyYAML writes it in flow style: quoted when it must be, on one line."""
    dumped = yaml.safe_dump([_plain(value)], allow_unicode=True, default_flow_style=True, width=2**31 - 1)
    return dumped.strip()[1:-1].strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())
