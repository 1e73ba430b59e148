"""销号 use cases: a target that reaches its figure waits for its section's sign-off (domain: `approval`).

- `observe`: the tasks service's own `task.status_changed` events; a target at 已完成 has reached its
  figure (pending review), one that fell back has not. Idempotent by event id (inbox and the domain).
- `decide`: approve, return (with a reason) or resubmit, by a person acting for a section (or an
  administrator). Refusals say why, in Chinese and English; nothing changes.
- `approvals`: every target's sign-off with its audit trail, for the CLI, the API and reports.

Each change is one transaction: load the target's row, apply the domain function, save it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import TargetSignedOff, TargetStatus, TaskStatusChanged, derived_event_id
from duban_contracts.plan import Plan
from duban_contracts.subjects import Subjects
from duban_kit.db import Database, upsert
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import UnitOfWork, Units

from ..adapters import tables as t
from ..domain.approval import Actor, Approval, ApprovalError, approve, observe, resubmit, send_back

_APPROVAL = TypeAdapter(Approval)


class UnknownTarget(KeyError):
    pass


class SignOffDesk:
    def __init__(
        self, *, plan: Plan, db: Database, inbox: Inbox, outbox: Outbox, subjects: Subjects, metrics: ServiceMetrics
    ) -> None:
        self.db = db
        self._responsible = {
            p.target.id: tuple(p.target.responsible or p.task.responsible) for p in plan.placed_targets()
        }
        self.units = Units(
            "tasks",
            {"task.status_changed": self.task_status_changed},
            db=db,
            inbox=inbox,
            outbox=outbox,
            subjects=subjects,
            metrics=metrics,
        )
        # In-process entry point (tests): a batch through the whole unit of work.
        self.observe = self.units.batch("task.status_changed")

    async def task_status_changed(self, uow: UnitOfWork, events: Sequence[TaskStatusChanged]) -> None:
        """Kit's unit of work: the batch's new status events of targets that have a responsible section.

        One read of the sign-offs concerned, one write of those that changed: most events are the
        day's re-judgement of an unchanged figure, which changes nothing."""
        mine = sorted(
            (e for e in events if e.level == "target" and e.ref in self._responsible),
            key=lambda e: (e.occurred_at, e.revision),
        )
        if not mine:
            return
        loaded = await self._load(uow.conn, {e.ref for e in mine})
        current = dict(loaded)
        for event in mine:
            before = current[event.ref]
            reached = event.status is TargetStatus.DONE
            current[event.ref] = after = observe(
                before, reached=reached, actual=event.actual, at=event.occurred_at, ref=event.event_id
            )
            if len(after.trail) > len(before.trail):
                uow.publish([signed_off(after)])
        await self._store(uow.conn, [a for ref, a in current.items() if a != loaded[ref]])

    async def decide(
        self, action: str, target_id: str, actor: Actor, *, at: datetime, request_id: str, reason: str | None
    ) -> Approval:
        """Approve, return or resubmit; raises `ApprovalError` (refused) or `UnknownTarget`."""
        if target_id not in self._responsible:
            raise UnknownTarget(target_id)
        async with self.units.transaction() as uow:
            current = (await self._load(uow.conn, {target_id}))[target_id]
            if action == "approve":
                decided = approve(current, actor, at=at, request_id=request_id, comment=reason)
            elif action == "return":
                decided = send_back(current, actor, reason=reason or "", at=at, request_id=request_id)
            elif action == "resubmit":
                decided = resubmit(current, actor, at=at, request_id=request_id, comment=reason)
            else:
                raise ValueError(f"unknown action {action!r}")
            if len(decided.trail) > len(current.trail):
                uow.publish([signed_off(decided)])
            await self._store(uow.conn, [decided] if decided != current else [])
        return decided

    async def approvals(self, *, pending_only: bool = False) -> list[Approval]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(t.approvals.c.data).order_by(t.approvals.c.target_id))
            found = [_APPROVAL.validate_python(json.loads(row.data)) for row in rows]
        return [a for a in found if not pending_only or a.state.value == "pending"]

    async def _load(self, conn: AsyncConnection, target_ids: set[str]) -> dict[str, Approval]:
        """The sign-offs of `target_ids` (a new one for a target without)."""
        a = t.approvals
        rows = await conn.execute(select(a.c.target_id, a.c.data).where(a.c.target_id.in_(sorted(target_ids))))
        stored = {row.target_id: _APPROVAL.validate_python(json.loads(row.data)) for row in rows}
        return {tid: stored.get(tid) or Approval.new(tid, self._responsible[tid]) for tid in target_ids}

    async def _store(self, conn: AsyncConnection, approvals: Sequence[Approval]) -> None:
        """Keep the sign-offs (their new trail steps were announced, `target.signed_off`, in the same transaction)."""
        if not approvals:
            return
        rows = [
            {
                "target_id": approval.target_id,
                "state": approval.state.value,
                "data": json.dumps(_APPROVAL.dump_python(approval, mode="json"), ensure_ascii=False, sort_keys=True),
            }
            for approval in approvals
        ]
        await upsert(conn, t.approvals, rows, keys=("target_id",))


def signed_off(approval: Approval) -> TargetSignedOff:
    step = approval.trail[-1]
    return TargetSignedOff(
        event_id=derived_event_id("target.signed_off", approval.target_id, len(approval.trail)),
        occurred_at=step.at,
        recorded_at=datetime.now(UTC),
        source="tasks",
        target_id=approval.target_id,
        state=approval.state.value,
        action=step.action,
        actor=step.actor,
        reason=step.reason,
        self_reported=approval.self_reported,
        approved=approval.approved_actual,
        steps=len(approval.trail),
    )


def approval_view(approval: Approval) -> dict[str, Any]:
    """A sign-off as the CLI and the API show it: approved and self-reported figures apart, and the trail."""
    return {
        "target_id": approval.target_id,
        "responsible": list(approval.responsible),
        "state": approval.state.value,
        "state_zh": approval.state.label_zh,
        "self_reported": approval.self_reported,
        "approved": approval.approved_actual,
        "approved_at": approval.approved_at.isoformat() if approval.approved_at else None,
        "approved_by": approval.approved_by,
        "trail": [
            {
                **{k: v for k, v in asdict(entry).items() if k not in ("at", "from_state", "to_state")},
                "at": entry.at.isoformat(),
                "from": entry.from_state.value,
                "to": entry.to_state.value,
                "what_zh": entry.label_zh,
            }
            for entry in approval.trail
        ],
    }


def refusal(error: ApprovalError) -> dict[str, Any]:
    return {"ok": False, "error": error.code, "message_zh": error.message_zh, "message_en": error.message_en}
