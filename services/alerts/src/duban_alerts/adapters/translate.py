"""Between the wire and the alerts domain: events → facts, changes → events."""

from __future__ import annotations

from datetime import UTC, datetime

from duban_contracts.events import (
    ActivityRecorded,
    AlertEvent,
    AlertRaised,
    AlertResolved,
    AlertUpdated,
    IncidentReported,
    MeasurementRecorded,
    TaskStatusChanged,
    derived_event_id,
)

from ..domain import ActivityFact, Alert, Change, IncidentFact, MeasurementFact, StatusFact


def incident_fact(e: IncidentReported) -> IncidentFact:
    return IncidentFact(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        reported_at=e.reported_at,
        unit_id=e.unit.id,
        unit_name=e.unit.name,
        category=e.category,
        disease=e.disease,
        grade=e.grade,
        cases=e.cases,
        deaths=e.deaths,
        injuries=e.injuries,
        class_name=e.class_name,
        summary=e.summary,
    )


def measurement_fact(e: MeasurementRecorded) -> MeasurementFact:
    return MeasurementFact(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        unit_id=e.unit.id,
        unit_name=e.unit.name,
        metric=e.metric,
        metric_zh=e.metric_zh,
        value=e.value,
        measure_unit=e.measure_unit,
        class_name=e.class_name,
        target_id=e.target_id,
    )


def activity_fact(e: ActivityRecorded) -> ActivityFact:
    return ActivityFact(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        unit_id=e.unit.id,
        unit_name=e.unit.name,
        activity=e.activity,
        target_id=e.target_id,
    )


def status_fact(e: TaskStatusChanged) -> StatusFact:
    return StatusFact(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        level=e.level,
        ref=e.ref,
        title=e.title,
        status=e.status,
        completion=e.completion,
        previous_status=e.previous_status,
        expected=e.expected,
        actual=e.actual,
        target_value=e.target_value,
        measure_unit=e.measure_unit,
        task=e.task,
        section=e.section,
        due=e.due.date() if e.due else None,
        revision=e.revision,
    )


def alert_event(change: Change) -> AlertEvent:
    alert: Alert = change.alert
    common = {
        "event_id": derived_event_id("alert", change.key),
        "occurred_at": change.at,
        "recorded_at": datetime.now(UTC),
        "source": "alerts",
        "alert_id": alert.id,
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "labels": alert.labels,
        "title_zh": alert.title_zh,
        "summary_zh": alert.summary_zh,
        "count": alert.count,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "escalation_level": alert.escalation_level,
    }
    if change.kind == "raised":
        return AlertRaised(**common)
    if change.kind == "resolved":
        return AlertResolved(reason=change.reason or "condition_cleared", **common)
    return AlertUpdated(change=change.update or "updated", actor=change.actor, **common)
