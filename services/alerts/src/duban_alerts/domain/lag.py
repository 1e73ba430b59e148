"""Rule 6: targets the tasks service marks lagging (yellow) or seriously lagging / overdue (red).

Two alerts per target, as Alertmanager would write them: `target_lagging` fires while the target is
yellow or red, `target_critical` while it is red; an inhibition rule lets the red one silence the
yellow one's notifications. Going back to green resolves both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from duban_contracts.events import TargetStatus

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


def lag_signals(fact: StatusFact, config: LagConfig, latest: Callable[[str], Alert | None]) -> list[Signal]:
    """Yellow and red signals for a fresh status; `latest` finds a fingerprint's latest alert."""
    return [
        _signal(TARGET_LAGGING, config.yellow, "进度滞后", fact, latest),
        _signal(TARGET_CRITICAL, config.red, "严重滞后", fact, latest),
    ]


def _signal(rule: str, level: LagLevel, word: str, fact: StatusFact, latest: Callable[[str], Alert | None]) -> Signal:
    labels = lag_labels(rule, fact)
    fp = fingerprint(labels)
    if fact.status not in level.statuses:
        return Cleared(fp, fact.known_at, reason=f"status_{fact.status.value}")
    count, first_seen, last_seen = folded(latest(fp), fact.known_at)
    expected = f"，序时进度{fact.expected:.0%}" if fact.expected is not None else ""
    return Firing(
        labels=labels,
        severity=level.severity,
        title_zh=f"{fact.title}{word}",
        summary_zh=f"{fact.title}：完成{fact.completion:.0%}{expected}，状态{fact.status.label_zh}。",
        at=fact.known_at,
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        value=fact.completion,
        annotations={"status": fact.status.value},
    )
