"""Rule 6: targets the tasks service marks lagging (yellow) or seriously lagging / overdue (red).

Two alerts per target, as Alertmanager would write them: `target_lagging` fires while the target is
yellow or red, `target_critical` while it is red; an inhibition rule lets the red one silence the
yellow one's notifications. Going back to green resolves both.

Kinds listed in `exempt_kinds` raise none: a constraint (班额, 每天运动1小时) is held or broken, and
each breach is already its own limit alert (one class, one alert, escalated once); a lag alert
beside it would say the same breach twice, in words ("滞后") that do not fit a broken rule. Titles
use the kind's own words (增幅不足, 未全覆盖, 逾期未开展), from the plan's vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from duban_contracts.events import TargetStatus
from duban_contracts.plan import TargetKind
from duban_contracts.plan.wording import is_paced, status_zh

from .alert import Alert, Cleared, Firing, Signal, fingerprint, folded
from .config import LagConfig, LagLevel
from .facts import StatusFact

TARGET_LAGGING = "target_lagging"
TARGET_CRITICAL = "target_critical"


@dataclass(frozen=True)
class StatusRecord:
    """The latest status the tasks service reported for one target."""

    target_id: str
    occurred_at: datetime
    fact_id: str
    status: TargetStatus
    completion: float
    actual: float | None = None
    revision: int = 0

    def is_older_than(self, other: StatusRecord) -> bool:
        # Changes of one target can share an event time (a late report judged "now"): the tasks
        # service's revision orders them; the fact id only breaks ties between equal revisions.
        return (self.occurred_at, self.revision, self.fact_id) < (other.occurred_at, other.revision, other.fact_id)

    @classmethod
    def of(cls, fact: StatusFact) -> StatusRecord:
        return cls(fact.ref, fact.occurred_at, fact.fact_id, fact.status, fact.completion, fact.actual, fact.revision)


def lag_labels(rule: str, fact: StatusFact) -> dict[str, str]:
    labels = {"rule": rule, "target_id": fact.ref}
    if fact.task is not None:
        labels["task"] = str(fact.task)
    if fact.section:
        labels["section"] = fact.section
    return labels


def lag_signals(
    fact: StatusFact,
    config: LagConfig,
    latest: Callable[[str], Alert | None],
    kind: TargetKind = TargetKind.CUMULATIVE_COUNT,
) -> list[Signal]:
    """Yellow and red signals for a fresh status; `latest` finds a fingerprint's latest alert."""
    exempt = kind.value in config.exempt_kinds
    return [
        _signal(TARGET_LAGGING, config.yellow, fact, latest, kind=kind, exempt=exempt),
        _signal(TARGET_CRITICAL, config.red, fact, latest, kind=kind, exempt=exempt),
    ]


def _signal(
    rule: str,
    level: LagLevel,
    fact: StatusFact,
    latest: Callable[[str], Alert | None],
    *,
    kind: TargetKind,
    exempt: bool,
) -> Signal:
    labels = lag_labels(rule, fact)
    fp = fingerprint(labels)
    if exempt:
        return Cleared(fp, fact.known_at, reason=f"exempt_{kind.value}")
    if fact.status not in level.statuses:
        return Cleared(fp, fact.known_at, reason=f"status_{fact.status.value}")
    count, first_seen, last_seen = folded(latest(fp), fact.known_at)
    word = status_zh(kind, fact.status)
    if is_paced(kind):
        expected = f"，序时进度{fact.expected:.0%}" if fact.expected is not None else ""
        summary = f"{fact.title}：完成{fact.completion:.0%}{expected}，状态{word}。"
    else:  # a rate, a level or a duty has no 序时进度: say what it is
        summary = f"{fact.title}：{word}。"
    return Firing(
        labels=labels,
        severity=level.severity,
        title_zh=f"{fact.title}{word}",
        summary_zh=summary,
        at=fact.known_at,
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        value=fact.completion,
        annotations={"status": fact.status.value},
    )
