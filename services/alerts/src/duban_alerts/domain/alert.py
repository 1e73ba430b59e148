"""An alert and its lifecycle: raise, fold repeats, change severity, acknowledge, escalate, resolve.

An alert is identified by its fingerprint (a stable hash of the rule and its identifying labels).
Repeats of the same condition fold into the open alert (count, first/last seen). Once resolved, the
fingerprint's next firing opens a new episode with a new id: ids are `uuid5(fingerprint, episode)`,
so the same facts always give the same ids.

Alerts are immutable; every change produces a new snapshot with `version + 1`, and a `Change`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from duban_contracts.events import AlertState, Severity

ALERT_ID_NAMESPACE = uuid.UUID("a1e7c0de-2c55-4f3b-9a0e-6d0b5e3f7a21")

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}

ChangeKind = Literal["raised", "updated", "resolved"]
UpdateKind = Literal["repeated", "escalated", "acknowledged", "severity_changed", "updated"]


def severity_rank(severity: Severity) -> int:
    return _SEVERITY_RANK[severity]


def highest(*severities: Severity) -> Severity:
    return max(severities, key=severity_rank)


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable hash of the identifying labels (which include `rule`)."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def alert_id(fingerprint_: str, episode: int) -> str:
    return str(uuid.uuid5(ALERT_ID_NAMESPACE, f"{fingerprint_}#{episode}"))


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    fingerprint: str
    rule: str
    labels: dict[str, str]
    episode: int
    severity: Severity
    state: AlertState
    title_zh: str
    summary_zh: str
    count: int
    first_seen: datetime
    last_seen: datetime
    severity_since: datetime
    updated_at: datetime
    version: int = 1
    stage: str = ""
    value: float | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    once: bool = False
    episode_floor: datetime | None = None
    observed_until: datetime | None = None
    escalation_level: int = 0
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    resolved_at: datetime | None = None
    resolve_reason: str | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is not AlertState.RESOLVED

    def match_labels(self, ladder: tuple[str, ...]) -> dict[str, str]:
        """Labels plus the alert's severity and escalation step, for routing, inhibition and silences."""
        step = ladder[min(self.escalation_level, len(ladder) - 1)] if ladder else str(self.escalation_level)
        return {**self.labels, "severity": self.severity.value, "escalation": step, "state": self.state.value}


@dataclass(frozen=True)
class Change:
    """One thing that happened to an alert, with the alert as it is afterwards."""

    kind: ChangeKind
    alert: Alert
    update: UpdateKind | None = None
    reason: str | None = None
    actor: str | None = None
    comment: str | None = None

    @property
    def at(self) -> datetime:
        return self.alert.updated_at

    @property
    def key(self) -> str:
        """Unique per change and stable across replays: use it to derive the published event's id."""
        return f"{self.alert.id}/{self.alert.version}"


# --- what rules ask for ------------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """A rule's view: the condition for `labels` holds, and this is how it looks now."""

    labels: dict[str, str]
    severity: Severity
    title_zh: str
    summary_zh: str
    at: datetime
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    severity_since: datetime | None = None
    stage: str = ""
    value: float | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    once: bool = False
    episode_floor: datetime | None = None
    observed_until: datetime | None = None

    @property
    def rule(self) -> str:
        return self.labels["rule"]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)


@dataclass(frozen=True)
class Cleared:
    """A rule's view: the condition for `fingerprint` no longer holds."""

    fingerprint: str
    at: datetime
    reason: str = "condition_cleared"


Signal = Firing | Cleared


def folded(current: Alert | None, at: datetime) -> tuple[int, datetime, datetime]:
    """count, first_seen and last_seen after folding one more occurrence at `at` into `current`."""
    if current is None or not current.is_open:
        return 1, at, at
    return current.count + 1, min(current.first_seen, at), max(current.last_seen, at)


# --- the lifecycle -----------------------------------------------------------------------------


def reconcile(current: Alert | None, signal: Signal) -> Change | None:
    """The change that brings `current` (the fingerprint's latest alert) in line with `signal`."""
    if isinstance(signal, Cleared):
        if current is None or not current.is_open:
            return None
        return resolve(current, signal.at, reason=signal.reason)
    if current is None or not current.is_open:
        if current is not None and (current.once or signal.once):
            return None  # a one-off condition, once closed, stays closed
        return Change("raised", _raised(current, signal))
    return _updated(current, signal)


def _raised(previous: Alert | None, signal: Firing) -> Alert:
    episode = previous.episode + 1 if previous else 0
    fp = signal.fingerprint
    return Alert(
        id=alert_id(fp, episode),
        fingerprint=fp,
        rule=signal.rule,
        labels=dict(signal.labels),
        episode=episode,
        severity=signal.severity,
        state=AlertState.FIRING,
        title_zh=signal.title_zh,
        summary_zh=signal.summary_zh,
        count=signal.count,
        first_seen=signal.first_seen,
        last_seen=signal.last_seen,
        severity_since=signal.severity_since or signal.first_seen,
        updated_at=signal.at,
        stage=signal.stage,
        value=signal.value,
        annotations=dict(signal.annotations),
        once=signal.once,
        episode_floor=signal.episode_floor if signal.episode_floor is not None else _floor_after(previous),
        observed_until=signal.observed_until,
    )


def _floor_after(previous: Alert | None) -> datetime | None:
    return previous.observed_until if previous else None


def _updated(current: Alert, signal: Firing) -> Change | None:
    severity_changed = signal.severity is not current.severity
    candidate = replace(
        current,
        severity=signal.severity,
        title_zh=signal.title_zh,
        summary_zh=signal.summary_zh,
        count=signal.count,
        first_seen=signal.first_seen,
        last_seen=signal.last_seen,
        stage=signal.stage,
        value=signal.value,
        annotations=dict(signal.annotations),
        observed_until=signal.observed_until,
    )
    if signal.severity_since is not None:  # the rule knows (clusters recompute it from all their cases)
        candidate = replace(candidate, severity_since=signal.severity_since)
    elif severity_changed:
        candidate = replace(candidate, severity_since=signal.at)
    if candidate == current:
        return None
    if severity_changed:
        if (
            severity_rank(signal.severity) > severity_rank(current.severity)
            and current.state is AlertState.ACKNOWLEDGED
        ):
            # Worse than what was acknowledged: back in front of people, and escalation resumes.
            candidate = replace(
                candidate, state=AlertState.FIRING, acknowledged_by=None, acknowledged_at=None, ack_comment=None
            )
        update: UpdateKind = "severity_changed"
    elif signal.count > current.count:
        update = "repeated"
    else:
        update = "updated"
    return Change("updated", _bumped(candidate, signal.at), update=update)


def _bumped(alert: Alert, at: datetime) -> Alert:
    return replace(alert, version=alert.version + 1, updated_at=max(alert.updated_at, at))


def acknowledged(current: Alert, actor: str, comment: str | None, at: datetime) -> Change | None:
    if current.state is not AlertState.FIRING:
        return None
    alert = replace(
        current, state=AlertState.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=at, ack_comment=comment
    )
    return Change("updated", _bumped(alert, at), update="acknowledged", actor=actor, comment=comment)


def resolve(
    current: Alert, at: datetime, *, reason: str, actor: str | None = None, comment: str | None = None
) -> Change | None:
    if not current.is_open:
        return None
    alert = replace(current, state=AlertState.RESOLVED, resolved_at=at, resolve_reason=reason, resolved_by=actor)
    return Change("resolved", _bumped(alert, at), reason=reason, actor=actor, comment=comment)


def escalated(current: Alert, step_after: timedelta | None, ladder_size: int, now: datetime) -> Change | None:
    """Climb the ladder one step per `step_after` without acknowledgement, counted from `severity_since`."""
    if step_after is None or current.state is not AlertState.FIRING or ladder_size <= 1:
        return None
    steps = int((now - current.severity_since) / step_after)
    level = min(max(steps, 0), ladder_size - 1)
    if level <= current.escalation_level:
        return None
    at = current.severity_since + level * step_after
    return Change("updated", _bumped(replace(current, escalation_level=level), at), update="escalated")


def refolded(current: Alert, at: datetime) -> Firing:
    """The open alert as it is, with one more occurrence at `at` folded in (for late, older facts)."""
    count, first_seen, last_seen = folded(current, at)
    return Firing(
        labels=dict(current.labels),
        severity=current.severity,
        title_zh=current.title_zh,
        summary_zh=current.summary_zh,
        at=at,
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        severity_since=current.severity_since,
        stage=current.stage,
        value=current.value,
        annotations=dict(current.annotations),
        once=current.once,
        observed_until=current.observed_until,
    )
