"""销号 (sign-off): a target that reaches its figure is checked by its responsible section before it counts as done.

How supervision offices run it (督查督办 销号管理): the unit reports the work done, the section that
owns the target checks the evidence and signs it off (销号), or sends it back (退回) with the reason.
The rules here:

- A target whose reported figure reaches its target becomes 待审核 (pending). If a later report
  shows it no longer reached (a correction) before anyone decided, it goes back to 进行中 (open).
- Only a section responsible for the target (`responsible` in the plan), or an administrator, may
  approve or return it. Approving makes it 已销号 (approved) and records the figure signed off.
- Returning needs a reason and makes it 已退回 (returned): the target is open again. It becomes
  pending again when a new report reaches the figure, or when the unit resubmits (重新提交) while
  the figure is still reached (e.g. with the missing evidence).
- A report after approval does not undo the approval; it is recorded in the trail, and the
  self-reported figure moves on while the approved figure stays what was signed off. Reports show
  both apart.
- Every step is kept in the audit trail: when, who (a person, or `system` for a report, with the
  report's event id), what, from which state to which, the reason or comment, and the figure.
- Applying the same report (event id) or the same request (request id) twice changes nothing, so a
  retried HTTP call or a redelivered event is harmless.

Time is an input: a report's event time, a command's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

SYSTEM = "system"


class ApprovalState(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def label_zh(self) -> str:
        return _STATE_ZH[self]


_STATE_ZH = {
    ApprovalState.OPEN: "进行中",
    ApprovalState.PENDING: "待审核",
    ApprovalState.APPROVED: "已销号",
    ApprovalState.RETURNED: "已退回",
}

AuditAction = Literal["reached", "no_longer_reached", "approved", "returned", "resubmitted", "reported_after_approval"]

AUDIT_ZH: dict[AuditAction, str] = {
    "reached": "报送达标，提交审核",
    "no_longer_reached": "报送更正后未达标，撤回审核",
    "approved": "审核通过，销号",
    "returned": "退回",
    "resubmitted": "重新提交审核",
    "reported_after_approval": "销号后又有报送（不影响销号）",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a person, the section they act for, and whether they administer the system."""

    name: str
    section: str | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: AuditAction
    actor: str
    from_state: ApprovalState
    to_state: ApprovalState
    reason: str | None = None
    actual: float | None = None
    ref: str | None = None  # the report's event id or the request id

    @property
    def label_zh(self) -> str:
        return AUDIT_ZH[self.action]


@dataclass(frozen=True)
class Approval:
    """One target's sign-off: its state, the figures, and the trail."""

    target_id: str
    responsible: tuple[str, ...]
    state: ApprovalState = ApprovalState.OPEN
    reached: bool = False
    self_reported: float | None = None  # the latest figure the units reported
    approved_actual: float | None = None  # the figure signed off
    approved_at: datetime | None = None
    approved_by: str | None = None
    trail: tuple[AuditEntry, ...] = ()
    applied: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def new(cls, target_id: str, responsible: Sequence[str]) -> Approval:
        return cls(target_id, tuple(responsible))

    @property
    def is_done(self) -> bool:
        """Counts as done in reports (signed off); a pending target counts as self-reported only."""
        return self.state is ApprovalState.APPROVED


class ApprovalError(ValueError):
    code = "approval_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_en} / {message_zh}")


class NotAllowed(ApprovalError):
    code = "not_allowed"


class ReasonRequired(ApprovalError):
    code = "reason_required"


class InvalidTransition(ApprovalError):
    code = "invalid_transition"


# --- reports ---------------------------------------------------------------------------------------


def observe(approval: Approval, *, reached: bool, actual: float | None, at: datetime, ref: str) -> Approval:
    """A report came in (event id `ref`, event time `at`): the figure now does or does not reach the target."""
    if ref in approval.applied or (reached == approval.reached and actual == approval.self_reported):
        return approval  # the same report again, or the day's re-judgement of an unchanged figure
    seen = replace(approval, reached=reached, self_reported=actual, applied=approval.applied | {ref})
    state = approval.state
    if state is ApprovalState.APPROVED:
        return _logged(seen, "reported_after_approval", SYSTEM, at, state, actual=actual, ref=ref)
    if reached and state in (ApprovalState.OPEN, ApprovalState.RETURNED):
        return _logged(seen, "reached", SYSTEM, at, ApprovalState.PENDING, actual=actual, ref=ref)
    if not reached and state is ApprovalState.PENDING:
        return _logged(seen, "no_longer_reached", SYSTEM, at, ApprovalState.OPEN, actual=actual, ref=ref)
    return seen


# --- commands --------------------------------------------------------------------------------------


def may_decide(approval: Approval, actor: Actor) -> bool:
    return actor.is_admin or (actor.section is not None and actor.section in approval.responsible)


def approve(approval: Approval, actor: Actor, *, at: datetime, request_id: str, comment: str | None = None) -> Approval:
    """销号: the responsible section (or an administrator) signs the reached figure off."""
    if request_id in approval.applied:
        return approval
    _authorize(approval, actor, "销号", "approve")
    _require(approval, ApprovalState.PENDING, "销号", "approve")
    signed = replace(
        approval,
        approved_actual=approval.self_reported,
        approved_at=at,
        approved_by=actor.name,
        applied=approval.applied | {request_id},
    )
    return _logged(
        signed,
        "approved",
        actor.name,
        at,
        ApprovalState.APPROVED,
        reason=_clean(comment),
        actual=approval.self_reported,
        ref=request_id,
    )


def send_back(approval: Approval, actor: Actor, *, reason: str, at: datetime, request_id: str) -> Approval:
    """退回: the responsible section (or an administrator) returns the target, saying why; it is open again."""
    if request_id in approval.applied:
        return approval
    _authorize(approval, actor, "退回", "return")
    why = _clean(reason)
    if why is None:
        raise ReasonRequired(
            f"退回指标{approval.target_id}须说明理由",
            f"returning target {approval.target_id} needs a reason",
        )
    _require(approval, ApprovalState.PENDING, "退回", "return")
    returned = replace(approval, applied=approval.applied | {request_id})
    return _logged(
        returned,
        "returned",
        actor.name,
        at,
        ApprovalState.RETURNED,
        reason=why,
        actual=approval.self_reported,
        ref=request_id,
    )


def resubmit(
    approval: Approval, actor: Actor, *, at: datetime, request_id: str, comment: str | None = None
) -> Approval:
    """重新提交: after a return, the unit submits again while the figure still reaches the target."""
    if request_id in approval.applied:
        return approval
    _require(approval, ApprovalState.RETURNED, "重新提交", "resubmit")
    if not approval.reached:
        raise InvalidTransition(
            f"指标{approval.target_id}报送数值未达到目标值，不能重新提交审核",
            f"target {approval.target_id} does not reach its figure: it cannot be resubmitted",
        )
    resubmitted = replace(approval, applied=approval.applied | {request_id})
    return _logged(
        resubmitted,
        "resubmitted",
        actor.name,
        at,
        ApprovalState.PENDING,
        reason=_clean(comment),
        actual=approval.self_reported,
        ref=request_id,
    )


# --- internals ---------------------------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    return text.strip() if text is not None and text.strip() else None


def _authorize(approval: Approval, actor: Actor, what_zh: str, what_en: str) -> None:
    if may_decide(approval, actor):
        return
    owners = "、".join(approval.responsible) or "（未指定）"
    acting = actor.section or "无所属股室"
    raise NotAllowed(
        f"{actor.name}（{acting}）无权对指标{approval.target_id}{what_zh}：仅责任股室{owners}或管理员可以操作",
        f"{actor.name} ({actor.section or 'no section'}) may not {what_en} target {approval.target_id}: "
        f"only its responsible section ({', '.join(approval.responsible) or 'none set'}) or an administrator may",
    )


def _require(approval: Approval, state: ApprovalState, what_zh: str, what_en: str) -> None:
    if approval.state is state:
        return
    raise InvalidTransition(
        f"指标{approval.target_id}当前为“{approval.state.label_zh}”，不能{what_zh}（须为“{state.label_zh}”）",
        f"target {approval.target_id} is {approval.state.value}: it cannot {what_en} (it must be {state.value})",
    )


def _logged(
    approval: Approval,
    action: AuditAction,
    actor: str,
    at: datetime,
    to_state: ApprovalState,
    *,
    reason: str | None = None,
    actual: float | None = None,
    ref: str | None = None,
) -> Approval:
    entry = AuditEntry(at, action, actor, approval.state, to_state, reason, actual, ref)
    return replace(approval, state=to_state, trail=(*approval.trail, entry))
