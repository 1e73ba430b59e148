"""Normalised domain objects → canonical events (the wire contract)."""

from __future__ import annotations

from datetime import datetime

from duban_contracts.events import (
    ActivityRecorded,
    Event,
    IncidentCategory,
    IncidentGrade,
    IncidentReported,
    MeasurementRecorded,
    ProgressMode,
    ProgressRecorded,
    Provenance,
    RejectionReason,
    SubmissionRejected,
    TargetMatch,
    UnitRef,
    derived_event_id,
)

from ..domain.normalise import Activity, Incident, Measurement, Normalised, Problem, Progress, Rejection
from ..domain.registry import Unit
from ..domain.targets import TargetMatch as FoundMatch


def unit_ref(unit: Unit) -> UnitRef:
    return UnitRef(id=unit.id, name=unit.name, kind=unit.kind, township=unit.township, stage=unit.stage)


def accepted_event(item: Normalised, submission_id: str, recorded_at: datetime, provenance: Provenance) -> Event:
    common = {
        "recorded_at": recorded_at,
        "source": item.unit.id,
        "submission_id": submission_id,
        "unit": unit_ref(item.unit),
        "provenance": provenance,
    }
    match item:
        case Progress():
            return ProgressRecorded(
                event_id=derived_event_id(submission_id, "progress.recorded"),
                occurred_at=item.occurred_at,
                target_id=item.target_id,
                value=item.value,
                measure_unit=item.measure_unit,
                mode=ProgressMode(item.mode),
                note=item.note,
                target_match=target_match(item.target_match),
                **common,
            )
        case Incident():
            return IncidentReported(
                event_id=derived_event_id(submission_id, "incident.reported"),
                occurred_at=item.occurred_at,
                category=IncidentCategory(item.category),
                disease=item.disease,
                grade=IncidentGrade(item.grade) if item.grade else None,
                cases=item.cases,
                deaths=item.deaths,
                injuries=item.injuries,
                class_name=item.class_name,
                reported_at=item.reported_at,
                summary=item.summary,
                **common,
            )
        case Measurement():
            return MeasurementRecorded(
                event_id=derived_event_id(submission_id, "measurement.recorded"),
                occurred_at=item.occurred_at,
                metric=item.metric,
                metric_zh=item.metric_zh,
                target_id=item.target_id,
                value=item.value,
                measure_unit=item.measure_unit,
                class_name=item.class_name,
                target_match=target_match(item.target_match),
                **common,
            )
        case Activity():
            return ActivityRecorded(
                event_id=derived_event_id(submission_id, "activity.recorded"),
                occurred_at=item.occurred_at,
                activity=item.activity,
                target_id=item.target_id,
                note=item.note,
                **common,
            )
    raise TypeError(f"not a normalised submission: {item!r}")


def target_match(match: FoundMatch | None) -> TargetMatch | None:
    return TargetMatch(method=match.method, score=match.score, phrase=match.phrase) if match else None


def rejected_event(
    rejection: Rejection,
    submission_id: str,
    *,
    attempt: str,
    received_at: datetime,
    recorded_at: datetime,
    sequence: int | None,
    provenance: Provenance,
) -> SubmissionRejected:
    reasons = [reason(p) for p in rejection.problems]
    first = reasons[0]
    return SubmissionRejected(
        event_id=derived_event_id(submission_id, "submission.rejected", attempt),
        occurred_at=received_at,
        recorded_at=recorded_at,
        source="ingest",
        submission_id=submission_id,
        kind=rejection.kind,
        code=first.code,
        field=first.field,
        value=first.value,
        message_zh=first.message_zh,
        message_en=first.message_en,
        reasons=reasons,
        unit_id=rejection.unit_id,
        inbound_sequence=sequence,
        provenance=provenance,
    )


def reason(problem: Problem) -> RejectionReason:
    return RejectionReason(
        code=problem.code,
        field=problem.field,
        value=problem.value,
        message_zh=problem.message_zh,
        message_en=problem.message_en,
        candidates=list(problem.candidates),
    )
