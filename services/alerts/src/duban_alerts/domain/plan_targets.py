"""The plan's targets as the deadline rules see them."""

from __future__ import annotations

from datetime import date

from duban_contracts.plan import Plan

from .facts import MilestoneDue, PlanTarget


def plan_targets(plan: Plan, *, active_from: date | None = None) -> tuple[PlanTarget, ...]:
    """Every target of `plan`, with its effective due date (the plan year's end when unset).

    `active_from` (e.g. `plan.published`) skips deadlines that fell before the plan was watched.
    """
    return tuple(
        PlanTarget(
            target_id=placed.target.id,
            title_zh=placed.target.metric,
            kind=placed.target.kind.value,
            due=placed.due,
            value=placed.target.value,
            unit=placed.target.unit,
            start=placed.target.start,
            every=placed.target.schedule.every if placed.target.schedule else None,
            times=placed.target.schedule.times if placed.target.schedule else 1,
            milestones=tuple(MilestoneDue(due=m.due, value=m.value) for m in placed.target.milestones),
            task=placed.task.no,
            section=placed.section.no,
            responsible=tuple(placed.target.responsible or placed.task.responsible),
            active_from=active_from,
        )
        for placed in plan.placed_targets()
    )
