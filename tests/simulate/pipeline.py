"""The simulated year through the services' pure domains, without NATS or databases.

Ingest's `read_table` and `normalise` read every delivery (ids and content deduplicated as ingest
does), ingest's translation makes the events, the tasks domain judges every target at the end of
every day, and the alerts domain's `AlertBook` takes the facts and the daily clock — the same rules
the running services apply, fast enough for a unit test.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from duban.simulate import SimulatedYear, Submission, simulate_year
from duban.simulate.model import SHANGHAI, malformed
from duban_alerts.adapters.translate import activity_fact, incident_fact, measurement_fact
from duban_alerts.domain import AlertBook, Change, StatusFact, load_rules, plan_targets
from duban_contracts.casework import step_of
from duban_contracts.events import (
    ActivityRecorded,
    CaseRecorded,
    Event,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    Provenance,
    TargetStatus,
)
from duban_contracts.plan import Comparator, PlacedTarget, Plan, TargetKind, load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_ingest.adapters.inbound import file_row
from duban_ingest.adapters.translate import accepted_event
from duban_ingest.domain.dates import Moment, parse_moment
from duban_ingest.domain.model import content_fingerprint
from duban_ingest.domain.normalise import NormalisationContext, Normalised, Rejection, UnitRegistry, normalise
from duban_ingest.domain.spreadsheets import FileRejection, read_table
from duban_ingest.usecases.intake import SUBMITTED_AT_KEYS
from duban_tasks.domain.progress import ProgressEntry, combined_total, latest_rate
from duban_tasks.domain.status import (
    ADDITIVE_KINDS,
    RATE_KINDS,
    TargetFacts,
    TargetState,
    as_of_end_of_day,
    evaluate,
)

SEED = 2023


@dataclass(frozen=True)
class Verdict:
    """What ingest made of one message: an event, or the first rejection code."""

    submission_id: str
    at: datetime
    event: Event | None = None
    code: str | None = None
    intent: str = "valid"


@cache
def bundled_plan() -> Plan:
    return load_plan()


@cache
def bundled_year(seed: int = SEED) -> SimulatedYear:
    return simulate_year(seed, plan=bundled_plan(), units=load_reporting_units().units)


@cache
def registry() -> UnitRegistry:
    return UnitRegistry.load()


def placed_targets(plan: Plan) -> dict[str, PlacedTarget]:
    return {placed.target.id: placed for placed in plan.placed_targets()}


# --- ingest -----------------------------------------------------------------------------------------


def messages(year: SimulatedYear) -> Iterator[tuple[str, datetime, bytes, str]]:
    """(id, sent at, body, intent) of every message, spreadsheet rows published as `duban submit` does."""
    for delivery in year.deliveries:
        if isinstance(delivery, Submission):
            yield delivery.submission_id, delivery.at, delivery.body, delivery.intent
            continue
        table = read_table(delivery.data, delivery.name, default_kind=delivery.kind, default_source=delivery.source)
        assert not isinstance(table, FileRejection), f"{delivery.name}: {table}"
        file_id = hashlib.sha256(delivery.data).hexdigest()
        for row in table.rows:
            submission_id, body, _headers = file_row(file_id, row.number, row.values, delivery.source, delivery.kind)
            code = delivery.malformed_rows.get(row.number)
            wire = json.dumps(body, ensure_ascii=False, default=str).encode()  # as publish_submissions sends it
            yield submission_id, delivery.at, wire, malformed(code) if code else delivery.intent


def ingest(year: SimulatedYear, plan: Plan) -> list[Verdict]:
    """Every message in order, judged as the ingest service judges it (ids and content deduplicated)."""
    context = NormalisationContext(plan=plan, registry=registry(), received_at=year.deliveries[0].at)
    seen_ids: set[str] = set()
    seen_content: set[tuple[str, str]] = set()
    verdicts: list[Verdict] = []
    for submission_id, at, body, intent in messages(year):
        if submission_id in seen_ids:
            continue  # the stream or the submissions table drops a re-sent id
        seen_ids.add(submission_id)
        result, received = _read(body, at, context)
        if isinstance(result, str):
            verdicts.append(Verdict(submission_id, received, code=result, intent=intent))
            continue
        content = (result.unit.id, content_fingerprint(result))
        if content in seen_content:
            verdicts.append(Verdict(submission_id, received, code="duplicate_content", intent=intent))
            continue
        seen_content.add(content)
        event = accepted_event(result, submission_id, received, Provenance())
        verdicts.append(Verdict(submission_id, received, event=event, intent=intent))
    return verdicts


def _read(body: bytes, at: datetime, context: NormalisationContext) -> tuple[Normalised | str, datetime]:
    try:
        fields = json.loads(body)
    except ValueError:
        return "invalid_json", at
    received = at
    for key in SUBMITTED_AT_KEYS:
        value = fields.pop(key, None)
        if value:
            moment = parse_moment(str(value), context.plan.year, SHANGHAI)
            assert isinstance(moment, Moment), value
            received = moment.at
            break
    result = normalise(fields, context.received(received))
    if isinstance(result, Rejection):
        return result.problems[0].code, received
    return result, received


def events_of(verdicts: Iterable[Verdict], kind: type[Event]) -> list[Event]:
    return [v.event for v in verdicts if isinstance(v.event, kind)]


# --- tasks ------------------------------------------------------------------------------------------


@dataclass
class TargetBook:
    """The facts the tasks service keeps, as plain lists."""

    progress: dict[str, list[ProgressEntry]] = field(default_factory=lambda: defaultdict(list))
    activities: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    measurements: dict[str, list[tuple[str, datetime, str, float]]] = field(default_factory=lambda: defaultdict(list))

    def record(self, event: Event) -> None:
        if isinstance(event, ProgressRecorded):
            entry = ProgressEntry(
                event.event_id, event.target_id, event.unit.id, event.mode.value, event.value, event.occurred_at
            )
            self.progress[event.target_id].append(entry)
        elif isinstance(event, ActivityRecorded) and event.target_id:
            self.activities[event.target_id].append(event.occurred_at)
        elif isinstance(event, MeasurementRecorded) and event.target_id:
            group = f"{event.unit.id}|{event.class_name or ''}"
            self.measurements[event.target_id].append((group, event.occurred_at, event.event_id, event.value))

    def facts(self, placed: PlacedTarget, now: datetime) -> TargetFacts:
        target_id = placed.target.id
        kind = placed.target.kind
        entries = [e for e in self.progress[target_id] if e.occurred_at <= now]
        actual: float | None = None
        if kind in ADDITIVE_KINDS:
            actual = combined_total(entries, now)
        elif kind in RATE_KINDS:
            actual = latest_rate(entries, now)
        measured, violating = self._constraint(placed, now) if kind is TargetKind.CONSTRAINT else (0, 0)
        return TargetFacts(
            actual=actual,
            reports=len(entries),
            activity_times=tuple(t for t in self.activities[target_id] if t <= now),
            measured_groups=measured,
            violating_groups=violating,
        )

    def _constraint(self, placed: PlacedTarget, now: datetime) -> tuple[int, int]:
        target = placed.target
        latest: dict[str, tuple[datetime, str, float]] = {}
        for group, at, event_id, value in self.measurements[target.id]:
            if at <= now and (group not in latest or (at, event_id) > latest[group][:2]):
                latest[group] = (at, event_id, value)
        comparator: Comparator = target.comparator
        violating = sum(1 for _, _, value in latest.values() if not comparator.holds(value, target.value))
        return len(latest), violating


def judge_all(book: TargetBook, plan: Plan, targets: dict[str, PlacedTarget], now: datetime) -> dict[str, TargetState]:
    return {
        target_id: evaluate(placed, book.facts(placed, now), now, plan.year_start)
        for target_id, placed in targets.items()
    }


# --- the year, day by day ---------------------------------------------------------------------------


@dataclass
class DomainYear:
    verdicts: list[Verdict]
    changes: list[Change]
    statuses: dict[date, dict[str, TargetState]]  # at the end of each day

    def raised_rules(self) -> set[str]:
        return {c.alert.rule for c in self.changes if c.kind == "raised"}


def run_year(year: SimulatedYear, plan: Plan) -> DomainYear:
    verdicts = ingest(year, plan)
    book = TargetBook()
    alerts = AlertBook(load_rules(), plan_targets(plan, active_from=plan.published))
    targets = placed_targets(plan)
    by_day: dict[date, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_day[verdict.at.astimezone(SHANGHAI).date()].append(verdict)
    changes: list[Change] = []
    statuses: dict[date, dict[str, TargetState]] = {}
    previous: dict[str, TargetState] = {}
    day = plan.year_start
    closing = [as_of_end_of_day(plan.year_end) + timedelta(microseconds=1)]  # the year-end instant
    while day <= plan.year_end:
        for verdict in by_day.get(day, []):
            if verdict.event is None:
                continue
            book.record(verdict.event)
            changes.extend(_to_alerts(alerts, verdict.event))
        now = as_of_end_of_day(day)
        statuses[day] = judge_all(book, plan, targets, now)
        changes.extend(_status_changes(alerts, targets, statuses[day], previous, now))
        previous = statuses[day]
        changes.extend(alerts.tick(now))
        day += timedelta(days=1)
    for now in closing:
        states = judge_all(book, plan, targets, now)
        changes.extend(_status_changes(alerts, targets, states, previous, now))
        changes.extend(alerts.tick(now))
    return DomainYear(verdicts, changes, statuses)


def _to_alerts(alerts: AlertBook, event: Event) -> list[Change]:
    if isinstance(event, IncidentReported):
        return alerts.apply_incident(incident_fact(event))
    if isinstance(event, MeasurementRecorded):
        return alerts.apply_measurement(measurement_fact(event))
    if isinstance(event, ActivityRecorded):
        return alerts.apply_activity(activity_fact(event))
    if isinstance(event, CaseRecorded):
        return alerts.apply_case(step_of(event))
    return []


def _status_changes(
    alerts: AlertBook,
    targets: dict[str, PlacedTarget],
    states: dict[str, TargetState],
    previous: dict[str, TargetState],
    now: datetime,
) -> list[Change]:
    changes: list[Change] = []
    for target_id, state in states.items():
        before = previous.get(target_id)
        if before is not None and (before.status, before.completion) == (state.status, state.completion):
            continue
        placed = targets[target_id]
        fact = StatusFact(
            fact_id=f"{target_id}@{now.isoformat()}",
            occurred_at=now,
            level="target",
            ref=target_id,
            title=placed.target.metric,
            status=state.status,
            completion=state.completion,
            previous_status=before.status if before else TargetStatus.NOT_STARTED,
            expected=state.expected,
            actual=state.actual,
            target_value=state.target_value,
            measure_unit=state.unit,
            task=placed.task.no,
            section=placed.section.no,
            due=placed.due,
        )
        changes.extend(alerts.apply_status(fact))
    return changes
