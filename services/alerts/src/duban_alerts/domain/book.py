"""The alert book: every alert, silence and notification log, and the facts the rules remember.

A use case loads a `BookState` from the database, builds an `AlertBook`, calls one method, and
persists `take_writes()` (the rows that changed) in the same transaction as the inbox record and
the outbox of published events. Methods return the alert `Change`s to publish; `plan_notifications`
returns what to send.

Time is always an input: a fact's own `known_at`, or the `now` of a clock tick or a command.
Applying a fact twice (same `fact_id`) changes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import TypeAdapter

from duban_contracts.casework import CaseStep
from duban_contracts.events import AlertState
from duban_contracts.plan import TargetKind

from .alert import (
    Alert,
    Change,
    Cleared,
    Signal,
    acknowledged,
    escalated,
    fingerprint,
    reconcile,
    refolded,
    resolve,
)
from .case_ledger import CaseLedger
from .clusters import INFECTIOUS_CLUSTER, CaseRecord, cluster_firing, evaluate, scopes_of
from .config import RulesConfig
from .data_quality import DATA_QUALITY, Reported, finding_fingerprint, finding_firing
from .deadlines import OVERDUE, PERIODIC, ActivityRecord, Deadline, deadline_signal, deadlines_of, done
from .facts import ActivityFact, IncidentFact, MeasurementFact, PlanTarget, StatusFact
from .incidents import LATE_REPORT, SAFETY_INCIDENT, late_report, safety_incident
from .lag import StatusRecord, lag_signals
from .limits import Observation, breached_band, limit_firing, limit_labels
from .matchers import parse_matchers
from .notifications import GroupLog, Inhibition, Notification, Planner, Router, Silence
from .quality_ledger import QualityLedger

_NEVER = datetime.max.replace(tzinfo=UTC)
SILENCE_ID_NAMESPACE = uuid.UUID("5b1e7c3a-8d2f-4e6b-a9c4-0f3d2e1b7a65")

FactKind = Literal["incident", "measurement", "activity", "status", "case", "report"]


class UnknownAlert(KeyError):
    pass


class UnknownSilence(KeyError):
    pass


@dataclass(frozen=True, slots=True)
class AppliedFact:
    fact_id: str
    kind: FactKind
    known_at: datetime


@dataclass
class BookState:
    """The book as rows, one list per table; also the shape of `take_writes()`."""

    alerts: list[Alert] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    notification_log: list[GroupLog] = field(default_factory=list)
    cases: list[CaseRecord] = field(default_factory=list)
    activities: list[ActivityRecord] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    statuses: list[StatusRecord] = field(default_factory=list)
    facts: list[AppliedFact] = field(default_factory=list)
    case_steps: list[CaseStep] = field(default_factory=list)
    reported: list[Reported] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


_STATE_ADAPTER = TypeAdapter(BookState)


def state_to_json(state: BookState) -> dict[str, Any]:
    """Plain JSON-compatible dicts (ISO datetimes, enum values), e.g. for JSON columns or fixtures."""
    dumped: dict[str, Any] = _STATE_ADAPTER.dump_python(state, mode="json")
    return dumped


def state_from_json(data: dict[str, Any]) -> BookState:
    return _STATE_ADAPTER.validate_python(data)


class AlertBook:
    def __init__(self, rules: RulesConfig, targets: Iterable[PlanTarget] = (), state: BookState | None = None) -> None:
        self.rules = rules
        self._zone = rules.zone
        self._ladder = rules.escalation.ladder
        self._targets = {target.target_id: target for target in targets}
        self._deadlines: dict[str, list[Deadline]] = {
            target_id: deadlines_of(target, rules.deadlines) for target_id, target in self._targets.items()
        }
        self._alerts: dict[str, Alert] = {}
        self._latest: dict[str, str] = {}
        self._open: set[str] = set()
        self._open_counts: Counter[tuple[str, str]] = Counter()  # (severity, rule) of the open alerts
        self._silences: dict[str, Silence] = {}
        self._groups: dict[str, GroupLog] = {}
        self._cases: dict[str, CaseRecord] = {}
        self._cases_by_school: dict[tuple[str, str], list[CaseRecord]] = defaultdict(list)
        self._activities: dict[str, ActivityRecord] = {}
        self._activities_by_target: dict[str, list[ActivityRecord]] = defaultdict(list)
        self._observations: dict[str, Observation] = {}
        self._statuses: dict[str, StatusRecord] = {}
        self._facts: dict[str, AppliedFact] = {}
        self._case_ledger = CaseLedger(rules.casework, self._zone, self._ladder)
        self._quality = QualityLedger(rules.data_quality)
        inhibitions = tuple(Inhibition.of(rule) for rule in rules.notifications.inhibit_rules)
        self._planner = Planner(Router(rules.notifications.route), inhibitions, self._ladder)
        # Caches, not state: rebuilt on the first call after loading.
        self._deadlines_evaluated_on: date | None = None
        self._alerts_changed = True
        self._next_tick_at: datetime | None = None
        self._dirty: dict[str, dict[str, Any]] = defaultdict(dict)
        if state is not None:
            self._load(state)

    # --- loading and saving ---------------------------------------------------------------------

    def _load(self, state: BookState) -> None:
        for alert in sorted(state.alerts, key=lambda a: (a.fingerprint, a.episode)):
            self._put_alert(alert)
        self._silences = {silence.id: silence for silence in state.silences}
        self._groups = {log.group_key: log for log in state.notification_log}
        for case in state.cases:
            self._put_case(case)
        for activity in state.activities:
            self._put_activity(activity)
        self._observations = {observation.subject: observation for observation in state.observations}
        self._statuses = {status.target_id: status for status in state.statuses}
        self._facts = {fact.fact_id: fact for fact in state.facts}
        for step in state.case_steps:
            self._case_ledger.put(step)
        for report in state.reported:
            self._quality.put(report)
        self._dirty.clear()

    def state(self) -> BookState:
        """Everything, as rows."""
        return BookState(
            alerts=sorted(self._alerts.values(), key=lambda a: (a.first_seen, a.id)),
            silences=list(self._silences.values()),
            notification_log=list(self._groups.values()),
            cases=list(self._cases.values()),
            activities=list(self._activities.values()),
            observations=list(self._observations.values()),
            statuses=list(self._statuses.values()),
            facts=list(self._facts.values()),
            case_steps=self._case_ledger.steps(),
            reported=self._quality.reports(),
        )

    def take_writes(self) -> BookState:
        """The rows inserted or changed since the book was loaded or last asked (upsert them by key)."""
        dirty = self._dirty
        writes = BookState(
            alerts=list(dirty["alerts"].values()),
            silences=list(dirty["silences"].values()),
            notification_log=list(dirty["notification_log"].values()),
            cases=list(dirty["cases"].values()),
            activities=list(dirty["activities"].values()),
            observations=list(dirty["observations"].values()),
            statuses=list(dirty["statuses"].values()),
            facts=list(dirty["facts"].values()),
            case_steps=list(dirty["case_steps"].values()),
            reported=list(dirty["reported"].values()),
        )
        self._dirty = defaultdict(dict)
        return writes

    def _mark(self, table: str, key: str, row: Any) -> None:
        self._dirty[table][key] = row

    # --- queries --------------------------------------------------------------------------------

    def alert(self, alert_id: str) -> Alert:
        try:
            return self._alerts[alert_id]
        except KeyError:
            raise UnknownAlert(alert_id) from None

    def alerts(self, *, open_only: bool = False) -> list[Alert]:
        chosen = (self._alerts[i] for i in self._open) if open_only else iter(self._alerts.values())
        return sorted(chosen, key=lambda a: (a.first_seen, a.id))

    def open_counts(self) -> Counter[tuple[str, str]]:
        """How many alerts are open, by (severity, rule) (kept as alerts change: a gauge reads it per commit)."""
        return +self._open_counts  # without the ones that fell to 0

    def latest(self, fingerprint_: str) -> Alert | None:
        alert_id_ = self._latest.get(fingerprint_)
        return self._alerts[alert_id_] if alert_id_ else None

    def silences(self) -> list[Silence]:
        return sorted(self._silences.values(), key=lambda s: (s.starts_at, s.id))

    # --- facts ----------------------------------------------------------------------------------

    def apply_incident(self, fact: IncidentFact) -> list[Change]:
        """Rules 1–3: a safety-incident alert, a late-report alert, and the case towards clusters."""
        if not self._remember(fact.fact_id, "incident", fact.known_at):
            return []
        signals: list[Signal] = [
            signal
            for signal in (
                safety_incident(fact, self.rules.incident, self._zone),
                late_report(fact, self.rules.late_report, self._zone),
            )
            if signal is not None
        ]
        changes = self._apply(signals)
        if fact.category in self.rules.clusters.categories and fact.cases > 0:
            changes.extend(self._count_case(fact))
        return changes

    def apply_measurement(self, fact: MeasurementFact) -> list[Change]:
        """Rule 4: a measurement against the plan's hard limits; the latest measurement decides."""
        if not self._remember(fact.fact_id, "measurement", fact.known_at):
            return []
        rule = self.rules.limit_for(fact.metric)
        if rule is None:
            return []
        fp = fingerprint(limit_labels(fact, rule))
        observation = Observation(fp, fact.occurred_at, fact.fact_id, fact.value)
        previous = self._observations.get(fp)
        band = breached_band(fact.value, rule)
        current = self.latest(fp)
        if previous is None or previous.is_older_than(observation):
            self._observations[fp] = observation
            self._mark("observations", fp, observation)
            signal = limit_firing(fact, rule, band, current) if band else Cleared(fp, fact.known_at)
            return self._apply([signal])
        if band is None:
            return []
        if current is not None and current.is_open:
            return self._apply([refolded(current, fact.known_at)])  # an older breach: one more occurrence
        if current is not None and current.first_seen <= fact.known_at <= (current.resolved_at or fact.known_at):
            return []  # within an episode already on record
        # A breach nobody had seen, already cleared by the newer reading: put it on record as it was,
        # so the history does not depend on which reading arrived first.
        assert previous is not None
        return self._apply([limit_firing(fact, rule, band, None), Cleared(fp, previous.occurred_at)])

    def apply_activity(self, fact: ActivityFact) -> list[Change]:
        """Rule 5: an activity done for a dated or periodic target resolves its deadline alert."""
        if not self._remember(fact.fact_id, "activity", fact.known_at) or fact.target_id is None:
            return []
        record = ActivityRecord(
            fact.fact_id, fact.target_id, fact.occurred_at, fact.unit_id, fact.unit_name, fact.activity
        )
        self._put_activity(record)
        self._mark("activities", record.fact_id, record)
        return self._settle_deadlines(fact.target_id)

    def apply_status(self, fact: StatusFact) -> list[Change]:
        """Rule 6 (lag) and the status-driven deadlines (milestones, coverage)."""
        if not self._remember(fact.fact_id, "status", fact.known_at) or fact.level not in self.rules.lag.levels:
            return []
        record = StatusRecord.of(fact)
        previous = self._statuses.get(fact.ref)
        if previous is not None and not previous.is_older_than(record):
            return []  # a newer status already decided
        self._statuses[fact.ref] = record
        self._mark("statuses", fact.ref, record)
        target = self._targets.get(fact.ref)
        kind = TargetKind(target.kind) if target else TargetKind.CUMULATIVE_COUNT
        changes = self._apply(lag_signals(fact, self.rules.lag, self.latest, kind))
        return changes + self._settle_deadlines(fact.ref)

    def apply_case(self, step: CaseStep) -> list[Change]:
        """Rule 7: an action on a 信访 case or 12345 work order starts, extends or stops its clocks."""
        if not self._remember(step.event_id, "case", step.at):
            return []
        self._case_ledger.put(step)
        self._mark("case_steps", step.event_id, step)
        today = step.at.astimezone(self._zone).date()
        if self._deadlines_evaluated_on is not None:
            today = max(today, self._deadlines_evaluated_on)
        return self._apply(self._case_ledger.signals_of(step.case_id, today, self.latest))

    def apply_reported(self, report: Reported) -> list[Change]:
        """Rule 8: a reported figure checked against its series in event time; each new finding is an alert."""
        if not self._remember(f"{report.fact_id}#data_quality", "report", report.occurred_at):
            return []
        target = self._targets.get(report.subject)
        if target is not None and report.subject_zh == report.subject:
            report = replace(report, subject_zh=target.title_zh)
        self._quality.put(report)
        self._mark("reported", report.fact_id, report)
        fresh = [f for f in self._quality.findings_for(report) if self.latest(finding_fingerprint(f)) is None]
        return self._apply(finding_firing(finding, None) for finding in fresh)

    @property
    def case_ledger(self) -> CaseLedger:
        return self._case_ledger

    # --- the clock ------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Change]:
        """Deadline stages (once per local day), quiet outbreaks, expiries and escalations due by `now`."""
        changes: list[Change] = []
        today = now.astimezone(self._zone).date()
        if self._deadlines_evaluated_on is None or today > self._deadlines_evaluated_on:
            changes.extend(self._evaluate_deadlines(today))
            changes.extend(self._apply(self._case_ledger.signals_on(today, self.latest)))
            self._deadlines_evaluated_on = today
        if self._alerts_changed or self._next_tick_at is None or now >= self._next_tick_at:
            for alert in self.alerts(open_only=True):
                change = self._quiet(alert, now) or self._expired(alert, now)
                if change is None:
                    change = escalated(alert, self._step_after(alert), len(self._ladder), now)
                if change is not None:
                    self._put_alert(change.alert)
                    changes.append(change)
            self._next_tick_at = min((self._next_boundary(self._alerts[i]) for i in self._open), default=_NEVER)
            self._alerts_changed = False
        return changes

    # --- commands -------------------------------------------------------------------------------

    def acknowledge(self, alert_id: str, actor: str, comment: str | None, now: datetime) -> list[Change]:
        """Someone is on it: stops escalation and repeats. A no-op unless the alert is firing."""
        return self._command(acknowledged(self.alert(alert_id), actor, comment, now))

    def resolve(self, alert_id: str, actor: str, comment: str | None, now: datetime) -> list[Change]:
        """Close an open alert by hand (incidents and other one-off alerts close this way)."""
        return self._command(resolve(self.alert(alert_id), now, reason="manual", actor=actor, comment=comment))

    def add_silence(
        self,
        matchers: Sequence[str],
        *,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
        now: datetime,
    ) -> Silence:
        """Mute notifications for matching alerts in [starts_at, ends_at). The same request gives the same id."""
        parse_matchers(matchers)  # raises ValueError on a malformed matcher
        if ends_at <= starts_at:
            raise ValueError("a silence must end after it starts")
        material = "\x1f".join([*sorted(matchers), starts_at.isoformat(), ends_at.isoformat(), created_by, comment])
        silence = Silence(
            id=str(uuid.uuid5(SILENCE_ID_NAMESPACE, material)),
            matchers=tuple(matchers),
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
            created_at=now,
        )
        if silence.id not in self._silences:
            self._silences[silence.id] = silence
            self._mark("silences", silence.id, silence)
            self._planner.invalidate()
        return self._silences[silence.id]

    def expire_silence(self, silence_id: str, now: datetime) -> Silence:
        """End a silence at `now` (it stays on record)."""
        try:
            silence = self._silences[silence_id]
        except KeyError:
            raise UnknownSilence(silence_id) from None
        if now < silence.ends_at:
            ended = replace(silence, ends_at=max(now, silence.starts_at))
            self._silences[silence_id] = ended
            self._mark("silences", silence_id, ended)
            self._planner.invalidate()
        return self._silences[silence_id]

    # --- notifications --------------------------------------------------------------------------

    def plan_notifications(self, now: datetime) -> list[Notification]:
        """Notifications due at `now` after grouping, inhibition, silences and repeat intervals.

        Call it after each change and on each tick; it records what it plans, so calling it again at
        the same moment returns nothing.
        """
        planned = self._planner.plan(self._notification_candidates, self._groups, self._silences.values(), now)
        for log in planned.logs:
            self._groups[log.group_key] = log
            self._mark("notification_log", log.group_key, log)
        return planned.notifications

    def _notification_candidates(self) -> list[Alert]:
        """Open alerts, and resolved ones whose groups were told they fire (their resolution is news)."""
        told = set().union(*(log.told_ids for log in self._groups.values())) if self._groups else set()
        return [self._alerts[i] for i in sorted(self._open | (told & self._alerts.keys()))]

    # --- internals ------------------------------------------------------------------------------

    def _remember(self, fact_id: str, kind: FactKind, known_at: datetime) -> bool:
        if fact_id in self._facts:
            return False
        applied = AppliedFact(fact_id, kind, known_at)
        self._facts[fact_id] = applied
        self._mark("facts", fact_id, applied)
        return True

    def _put_alert(self, alert: Alert) -> None:
        before = self._alerts.get(alert.id)
        if before is not None and before.is_open:
            self._open_counts[(before.severity.value, before.rule)] -= 1
        if alert.is_open:
            self._open_counts[(alert.severity.value, alert.rule)] += 1
        self._alerts[alert.id] = alert
        latest = self.latest(alert.fingerprint)
        if latest is None or alert.episode >= latest.episode:
            self._latest[alert.fingerprint] = alert.id
        if alert.is_open:
            self._open.add(alert.id)
        else:
            self._open.discard(alert.id)
        self._mark("alerts", alert.id, alert)
        self._planner.changed(alert)
        self._alerts_changed = True

    def _put_case(self, case: CaseRecord) -> None:
        self._cases[case.fact_id] = case
        self._cases_by_school[(case.unit_id, case.disease)].append(case)

    def _put_activity(self, activity: ActivityRecord) -> None:
        self._activities[activity.fact_id] = activity
        self._activities_by_target[activity.target_id].append(activity)

    def _apply(self, signals: Iterable[Signal]) -> list[Change]:
        changes = []
        for signal in signals:
            fp = signal.fingerprint
            change = reconcile(self.latest(fp), signal)
            if change is not None:
                self._put_alert(change.alert)
                changes.append(change)
        return changes

    def _command(self, change: Change | None) -> list[Change]:
        if change is None:
            return []
        self._put_alert(change.alert)
        return [change]

    def _count_case(self, fact: IncidentFact) -> list[Change]:
        config = self.rules.clusters
        case = CaseRecord(
            fact_id=fact.fact_id,
            unit_id=fact.unit_id,
            unit_name=fact.unit_name,
            disease=config.canonical_disease(fact.disease),
            cases=fact.cases,
            occurred_at=fact.occurred_at,
            known_at=fact.known_at,
            class_name=(fact.class_name or "").strip() or None,
        )
        self._put_case(case)
        self._mark("cases", case.fact_id, case)
        changes: list[Change] = []
        for key, criteria in scopes_of(case, config):
            fp = fingerprint(key.labels())
            current = self.latest(fp)
            floor = (current.episode_floor if current.is_open else current.observed_until) if current else None
            if floor is not None and case.occurred_at <= floor:
                continue  # belongs to an outbreak already closed
            in_scope = [
                c
                for c in self._cases_by_school[(case.unit_id, case.disease)]
                if key.contains(c) and (floor is None or c.occurred_at > floor)
            ]
            view = evaluate(in_scope, criteria, config)
            if view is not None:
                changes.extend(
                    self._apply(
                        [
                            cluster_firing(
                                key, view=view, unit_name=case.unit_name, at=case.known_at, floor=floor, zone=self._zone
                            )
                        ]
                    )
                )
        return changes

    def _settle_deadlines(self, target_id: str) -> list[Change]:
        """Resolve the target's deadline alerts that are now done (facts never raise deadlines; ticks do)."""
        signals: list[Signal] = []
        for deadline in self._deadlines.get(target_id, []):
            finished = done(deadline, self._activities_by_target[target_id], self._statuses.get(target_id), self._zone)
            if finished is not None:
                signals.append(Cleared(deadline.fingerprint, finished.at, "done" if finished.on_time else "done_late"))
        return self._apply(signals)

    def _evaluate_deadlines(self, today: date) -> list[Change]:
        signals: list[Signal] = []
        for target_id, deadlines in self._deadlines.items():
            activities = self._activities_by_target[target_id]
            status = self._statuses.get(target_id)
            for deadline in deadlines:
                finished = done(deadline, activities, status, self._zone)
                current = self.latest(deadline.fingerprint)
                signal = deadline_signal(
                    deadline,
                    today=today,
                    finished=finished,
                    current=current,
                    config=self.rules.deadlines,
                    zone=self._zone,
                )
                if signal is not None:
                    signals.append(signal)
        return self._apply(signals)

    def _quiet(self, alert: Alert, now: datetime) -> Change | None:
        """An outbreak ends after its disease's quiet period without a new case."""
        if alert.rule != INFECTIOUS_CLUSTER or alert.observed_until is None:
            return None
        ends = alert.observed_until + self.rules.clusters.quiet_period_for(alert.labels["disease"])
        return resolve(alert, ends, reason="quiet_period") if now >= ends else None

    def _expired(self, alert: Alert, now: datetime) -> Change | None:
        after = self._expiry(alert)
        if after is None:
            return None
        ends = alert.last_seen + after
        return resolve(alert, ends, reason="expired") if now >= ends else None

    def _step_after(self, alert: Alert) -> timedelta | None:
        return self.rules.escalation.step_after.get(alert.severity)

    def _next_boundary(self, alert: Alert) -> datetime:
        """The next moment a tick could change this open alert (quiet end, expiry, escalation step)."""
        moments = [_NEVER]
        if alert.rule == INFECTIOUS_CLUSTER and alert.observed_until is not None:
            moments.append(alert.observed_until + self.rules.clusters.quiet_period_for(alert.labels["disease"]))
        expiry = self._expiry(alert)
        if expiry is not None:
            moments.append(alert.last_seen + expiry)
        step = self._step_after(alert)
        if step is not None and alert.state is AlertState.FIRING and alert.escalation_level + 1 < len(self._ladder):
            moments.append(alert.severity_since + (alert.escalation_level + 1) * step)
        return min(moments)

    def _expiry(self, alert: Alert) -> timedelta | None:
        if alert.rule == SAFETY_INCIDENT:
            return self.rules.incident.resolve_after
        if alert.rule == LATE_REPORT:
            return self.rules.late_report.resolve_after
        if alert.rule == PERIODIC and alert.stage == OVERDUE:
            return self.rules.deadlines.periodic_resolve_after
        if alert.rule == DATA_QUALITY:
            return self.rules.data_quality.resolve_after
        return None
