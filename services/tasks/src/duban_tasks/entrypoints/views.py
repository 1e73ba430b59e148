"""Turn a judgement of the plan into the wire views of `tasks.query` (contracts are wire models only)."""

from __future__ import annotations

from datetime import date, datetime

from duban_contracts.events import StatusLevel
from duban_contracts.plan import Plan, Section, Task
from duban_contracts.plan.wording import Figure, Terms, figure_zh, is_paced, status_zh
from duban_contracts.rpc import StatusQuery, StatusReply, StatusView
from duban_contracts.timezone import SHANGHAI

from ..domain.status import Rollup, TargetState, as_of_end_of_day
from ..usecases.tracking import Judgement


class UnknownRef(LookupError):
    pass


def as_of_instant(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return as_of_end_of_day(value)


def reply(plan: Plan, judgement: Judgement, query: StatusQuery) -> StatusReply:
    return StatusReply(plan_id=plan.id, as_of=judgement.as_of, view=view(plan, judgement, query.level, query.ref))


def view(plan: Plan, judgement: Judgement, level: StatusLevel, ref: str | None) -> StatusView:
    if level == "plan":
        return _plan_view(plan, judgement)
    if ref is None:
        raise UnknownRef(f"a {level} query needs a ref")
    if level == "section":
        for section in plan.sections:
            if ref in (section.no, str(section.index)):
                return _section_view(plan, section, judgement)
        raise UnknownRef(f"no section {ref!r}; sections are {', '.join(s.no for s in plan.sections)}")
    if level == "task":
        for section, task in plan.tasks():
            if str(task.no) == ref:
                return _task_view(plan, section, task, judgement)
        raise UnknownRef(f"no task {ref!r}")
    for section, task in plan.tasks():
        for target in task.targets:
            if target.id == ref:
                return _target_view(plan, section, task, target.id, judgement)
    raise UnknownRef(f"no target {ref!r}")


def _rollup_view(
    level: StatusLevel, ref: str, title: str, rolled: Rollup, children: list[StatusView], **extra: object
) -> StatusView:
    return StatusView(
        level=level,
        ref=ref,
        title=title,
        status=rolled.status,
        status_zh=rolled.status.label_zh,
        completion=rolled.completion,
        expected=rolled.expected,
        counts=rolled.counts,
        children=children,
        **extra,
    )


def _plan_view(plan: Plan, judgement: Judgement) -> StatusView:
    sections = [_section_view(plan, s, judgement) for s in plan.sections]
    return _rollup_view("plan", plan.id, plan.title, judgement.plan, sections)


def _section_view(plan: Plan, section: Section, judgement: Judgement) -> StatusView:
    tasks = [_task_view(plan, section, task, judgement) for task in section.tasks]
    return _rollup_view("section", section.no, section.title, judgement.sections[section.no], tasks, section=section.no)


def _task_view(plan: Plan, section: Section, task: Task, judgement: Judgement) -> StatusView:
    targets = [_target_view(plan, section, task, target.id, judgement) for target in task.targets]
    return _rollup_view(
        "task",
        str(task.no),
        task.title,
        judgement.tasks[task.no],
        targets,
        section=section.no,
        task=task.no,
        responsible=task.responsible,
    )


def _target_view(plan: Plan, section: Section, task: Task, target_id: str, judgement: Judgement) -> StatusView:
    state: TargetState = judgement.targets[target_id]
    target = next(t for t in task.targets if t.id == target_id)
    figure = Figure(state.actual, state.completion, state.expected, periods_done=state.periods_done)
    return StatusView(
        level="target",
        ref=target.id,
        title=target.metric,
        status=state.status,
        status_zh=status_zh(target.kind, state.status),
        paced=is_paced(target.kind),
        figure_zh=figure_zh(Terms.of(target, target.due or plan.year_end), state.status, figure),
        completion=state.completion,
        expected=state.expected,
        actual=state.actual,
        target_value=target.value,
        unit=target.unit,
        kind=target.kind.value,
        comparator=target.comparator.value,
        section=section.no,
        task=task.no,
        due=target.due,
        responsible=target.responsible or task.responsible,
    )
