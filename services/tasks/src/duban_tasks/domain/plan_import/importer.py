"""`duban plan import`: a draft `Plan` from the text of a Chinese work plan, for a person to review.

The draft keeps the plan's outline (sections, tasks) and every target it could read, each traced to
the verbatim phrase it comes from; promise-like phrases it could not read are listed beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from duban_contracts.plan.model import PlacedTarget, Plan, Section, Target, Task

from .dates import due_in
from .outline import Outline, SectionSpan, TaskSpan, chinese_ordinal, first_line, read_outline
from .reading import Draft, Reading, read_commitments

#: Fields a 分解方案 writes under each task: 责任单位：区教育局 / 完成时限：2025年12月底前.
_RESPONSIBLE_FIELD = re.compile(r"(?:牵头|责任|主责)(?:单位|部门)\s*[:：]\s*(?P<units>[^\n;；。)）]+)")
_DUE_FIELD = re.compile(r"(?:完成时限|完成时间|时间节点|完成期限)\s*[:：]\s*(?P<due>[^\n;；。)）]+)")
_UNIT_SEPARATOR = re.compile(r"[、,，/]|\s+")

#: A section that looks back (2023年工作回顾, 主要成绩) reports what was done: its figures are no targets.
_REVIEW = re.compile(r"回顾|总结|成绩|成效|完成情况|基本情况|工作现状")


@dataclass(frozen=True)
class UnreadPhrase:
    """A phrase that reads like a commitment but that the importer could not turn into a target."""

    task_no: int
    text: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    plan: Plan
    unread: list[UnreadPhrase]

    @property
    def placed_targets(self) -> list[PlacedTarget]:
        """Every target with its section and task, in plan order."""
        return list(self.plan.placed_targets())

    def lines(self) -> list[str]:
        """One printable line per target: where it sits, what it promises, and the phrase."""
        return [
            f"{p.section.no}/{p.task.no:>2} {p.target.id:<8} {p.target.kind.value:<16} "
            f"{p.target.comparator.value:<2} {p.target.value:g} {p.target.unit}  {p.target.metric}  ← {p.target.text}"
            for p in self.placed_targets
        ]


def import_plan(text: str, *, year: int | None = None, plan_id: str = "imported") -> ImportResult:
    """The draft plan in `text`; `year` defaults to the 20xx year of the title (or of the text)."""
    outline = read_outline(text)
    plan_year = year or outline.header.year
    if plan_year is None:
        raise ValueError("no year in the plan text; pass year=")
    unread: list[UnreadPhrase] = []
    sections = [
        _section(text, outline, span, index=index, year=plan_year, unread=unread)
        for index, span in enumerate(outline.sections, start=1)
    ]
    plan = Plan(
        id=plan_id,
        title=outline.header.title,
        year=plan_year,
        issuer=outline.header.issuer,
        published=outline.header.published,
        sections=sections,
    )
    return ImportResult(plan=plan, unread=unread)


def _section(
    text: str, outline: Outline, span: SectionSpan, *, index: int, year: int, unread: list[UnreadPhrase]
) -> Section:
    title = first_line(text[span.start : span.end]) if outline.has_section_headings else outline.header.title
    review = outline.has_section_headings and bool(_REVIEW.search(title))
    return Section(
        no=chinese_ordinal(span.number if outline.has_section_headings else index),
        index=index,
        title=short_title(title),
        tasks=[_task(text, task, year, unread, review=review) for task in span.tasks],
    )


def _task(text: str, span: TaskSpan, year: int, unread: list[UnreadPhrase], *, review: bool = False) -> Task:
    body = text[span.start : span.end]
    reading = read_commitments(body, year=year) if not review else Reading()
    unread += [UnreadPhrase(span.no, phrase.text, phrase.reason) for phrase in reading.unread]
    due = next((due_in(m.group("due"), year) for m in _DUE_FIELD.finditer(body)), None)
    drafts = [d if d.due or due is None else replace(d, due=due) for d in reading.drafts]
    return Task(
        no=span.no,
        title=task_title(body),
        responsible=responsible_units(body),
        targets=[draft_target(draft, f"t{span.no:02d}_{index:02d}") for index, draft in enumerate(drafts, start=1)],
    )


def responsible_units(body: str) -> list[str]:
    """责任单位：区教育局、区财政局 (or 牵头单位, 责任部门) written in a task: its owning units."""
    units = [unit for m in _RESPONSIBLE_FIELD.finditer(body) for unit in _UNIT_SEPARATOR.split(m.group("units"))]
    return list(dict.fromkeys(unit.strip() for unit in units if unit.strip()))


def draft_target(draft: Draft, target_id: str) -> Target:
    return Target(
        id=target_id,
        text=draft.text,
        metric=draft.metric,
        comparator=draft.comparator,
        value=draft.value,
        unit=draft.unit,
        kind=draft.kind,
        due=draft.due,
        start=draft.start,
        schedule=draft.schedule,
        range=draft.value_range,
        standard=draft.standard,
        notes=draft.notes,
    )


def task_title(body: str) -> str:
    """The task's heading sentence: 夯实思想政治根基 in 1.夯实思想政治根基。坚持…"""
    line = first_line(body)
    for stop in "。：:；;":
        head = line.split(stop, 1)[0]
        if len(head) <= 40:
            return head.strip() or line[:40]
    return short_title(line.split("，", 1)[0])


def short_title(title: str, limit: int = 40) -> str:
    return title.strip().rstrip("。；;，,")[:limit]
