"""销号: a target that reaches its figure waits for its responsible section to sign it off or return it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from duban_tasks.domain.approval import (
    SYSTEM,
    Actor,
    Approval,
    ApprovalState,
    InvalidTransition,
    NotAllowed,
    ReasonRequired,
    approve,
    observe,
    resubmit,
    send_back,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2023, 11, 20, 9, 0, tzinfo=SHANGHAI)
OWNER = Actor("张科长", section="资助中心")
ADMIN = Actor("系统管理员", is_admin=True)
OUTSIDER = Actor("李股长", section="体育股")
UNIT = Actor("巴中二中填报员", section=None)

Step = Callable[[Approval, int], Approval]


def new() -> Approval:
    return Approval.new("t26_student_aid", ["资助中心"])


def report(value: float, target: float = 70200) -> Step:
    def apply(approval: Approval, n: int) -> Approval:
        return observe(approval, reached=value >= target, actual=value, at=T0 + timedelta(days=n), ref=f"event-{n}")

    return apply


def approved_by(actor: Actor) -> Step:
    return lambda approval, n: approve(approval, actor, at=T0 + timedelta(days=n), request_id=f"req-{n}")


def returned_by(actor: Actor, reason: str = "缺少资助名册佐证材料") -> Step:
    return lambda approval, n: send_back(
        approval, actor, reason=reason, at=T0 + timedelta(days=n), request_id=f"req-{n}"
    )


def resubmitted() -> Step:
    return lambda approval, n: resubmit(approval, UNIT, at=T0 + timedelta(days=n), request_id=f"req-{n}")


def run(*steps: Step) -> Approval:
    approval = new()
    for n, apply in enumerate(steps):
        approval = apply(approval, n)
    return approval


@pytest.mark.parametrize(
    ("steps", "state", "trail"),
    [
        ([report(50000)], ApprovalState.OPEN, []),
        ([report(70200)], ApprovalState.PENDING, ["reached"]),
        ([report(70200), approved_by(OWNER)], ApprovalState.APPROVED, ["reached", "approved"]),
        ([report(70200), approved_by(ADMIN)], ApprovalState.APPROVED, ["reached", "approved"]),
        ([report(70200), returned_by(OWNER)], ApprovalState.RETURNED, ["reached", "returned"]),
        # A return reopens it: a new report reaching the figure makes it pending again …
        (
            [report(70200), returned_by(OWNER), report(70500)],
            ApprovalState.PENDING,
            ["reached", "returned", "reached"],
        ),
        # … a report below it leaves it returned …
        ([report(70200), returned_by(OWNER), report(60000)], ApprovalState.RETURNED, ["reached", "returned"]),
        # … and the unit may resubmit while the figure still reaches it.
        (
            [report(70200), returned_by(OWNER), resubmitted(), approved_by(OWNER)],
            ApprovalState.APPROVED,
            ["reached", "returned", "resubmitted", "approved"],
        ),
        # A correction below the figure before anyone decided withdraws it.
        ([report(70200), report(69000)], ApprovalState.OPEN, ["reached", "no_longer_reached"]),
        # A report after approval is recorded and does not undo it, even one below the figure …
        (
            [report(70200), approved_by(OWNER), report(71000), report(65000)],
            ApprovalState.APPROVED,
            ["reached", "approved", "reported_after_approval", "reported_after_approval"],
        ),
        # … but the same figure judged again (each day's status) is not a new report.
        (
            [report(70200), report(70200), approved_by(OWNER), report(70200), report(70200)],
            ApprovalState.APPROVED,
            ["reached", "approved"],
        ),
        ([report(50000), report(50000)], ApprovalState.OPEN, []),
    ],
)
def test_a_targets_sign_off_follows_reports_and_decisions(
    steps: list[Step], state: ApprovalState, trail: list[str]
) -> None:
    approval = run(*steps)

    assert approval.state is state
    assert [entry.action for entry in approval.trail] == trail
    assert approval.is_done is (state is ApprovalState.APPROVED)


def test_the_trail_says_who_did_what_when_and_why() -> None:
    approval = run(report(70200), returned_by(OWNER, "  缺少资助名册佐证材料 "), report(70500), approved_by(OWNER))

    assert [(e.actor, e.from_state, e.to_state, e.reason, e.actual, e.ref, e.at) for e in approval.trail] == [
        (SYSTEM, ApprovalState.OPEN, ApprovalState.PENDING, None, 70200, "event-0", T0),
        (
            "张科长",
            ApprovalState.PENDING,
            ApprovalState.RETURNED,
            "缺少资助名册佐证材料",
            70200,
            "req-1",
            T0 + timedelta(1),
        ),
        (SYSTEM, ApprovalState.RETURNED, ApprovalState.PENDING, None, 70500, "event-2", T0 + timedelta(2)),
        ("张科长", ApprovalState.PENDING, ApprovalState.APPROVED, None, 70500, "req-3", T0 + timedelta(3)),
    ]
    assert [e.label_zh for e in approval.trail][1] == "退回"


def test_approved_and_self_reported_figures_are_kept_apart() -> None:
    approval = run(report(70200), approved_by(OWNER), report(71500))

    assert approval.approved_actual == 70200
    assert approval.self_reported == 71500
    assert approval.approved_by == "张科长"
    assert approval.approved_at == T0 + timedelta(days=1)


@pytest.mark.parametrize("decide", [approved_by(OUTSIDER), returned_by(OUTSIDER), approved_by(UNIT)])
def test_only_the_responsible_section_or_an_administrator_may_decide(decide: Step) -> None:
    pending = run(report(70200))

    with pytest.raises(NotAllowed) as refused:
        decide(pending, 1)

    assert "资助中心" in refused.value.message_zh
    assert "responsible section" in refused.value.message_en
    assert refused.value.code == "not_allowed"


@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_needs_a_reason(reason: str) -> None:
    pending = run(report(70200))

    with pytest.raises(ReasonRequired, match="reason"):
        send_back(pending, OWNER, reason=reason, at=T0, request_id="req-x")


@pytest.mark.parametrize(
    ("steps", "decide"),
    [
        ([report(50000)], approved_by(OWNER)),  # nothing to approve yet
        ([report(70200), approved_by(OWNER)], returned_by(OWNER)),  # already signed off
        ([report(70200), approved_by(OWNER)], approved_by(OWNER)),  # a second, different request
        ([report(70200)], resubmitted()),  # not returned
        ([report(70200), returned_by(OWNER), report(60000)], resubmitted()),  # no longer reached
    ],
)
def test_a_decision_out_of_turn_is_refused(steps: list[Step], decide: Step) -> None:
    before = run(*steps)

    with pytest.raises(InvalidTransition) as refused:
        decide(before, 10)

    assert refused.value.message_zh
    assert refused.value.code == "invalid_transition"


def test_the_same_report_or_request_applied_twice_changes_nothing() -> None:
    pending = run(report(70200))
    approved = approve(pending, OWNER, at=T0, request_id="req-1")

    assert approve(approved, OWNER, at=T0 + timedelta(hours=1), request_id="req-1") == approved
    assert observe(approved, reached=True, actual=70200, at=T0, ref="event-0") == approved
