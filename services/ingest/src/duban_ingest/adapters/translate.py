"""Normalised domain objects → canonical events (the wire contract), and the check that consumers can
apply what ingest accepts (`applicable_event`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel, ValidationError

from duban_contracts.casework import CaseAction, CaseChannel, Satisfaction
from duban_contracts.events import (
    EVENT_TYPES,
    ActivityRecorded,
    CaseRecorded,
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

from ..domain import problems as p
from ..domain.normalise import Activity, Case, Incident, Measurement, Normalised, Problem, Progress, Rejection
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
        case Case():
            return CaseRecorded(
                event_id=derived_event_id(submission_id, "case.recorded"),
                occurred_at=item.occurred_at,
                case_id=item.case_id,
                channel=CaseChannel(item.channel),
                action=CaseAction(item.action),
                category=item.category,
                satisfaction=Satisfaction(item.satisfaction) if item.satisfaction else None,
                limit_working_days=item.limit_working_days,
                extension_days=item.extension_days,
                reason=item.reason,
                forwarded_to=item.forwarded_to,
                note=item.note,
                **common,
            )
    raise TypeError(f"not a normalised submission: {item!r}")


def applicable_event(
    item: Normalised, submission_id: str, recorded_at: datetime, provenance: Provenance
) -> Event | Problem:
    """The canonical event of an accepted submission, or why the consumers could not apply it.

    "Accepted" must mean "applied": an event that a consumer cannot read is dead-lettered by every
    consumer while ingest counts it accepted. So the event is written as the outbox writes it
    (`model_dump_json`) and read back as a consumer reads it (`model_validate_json` of the event type's
    contract model), and must come back equal to itself, with every number finite.
    Otherwise: `not_finite` (a NaN or infinity, which JSON would carry as null) or `invalid_event`.
    """
    try:
        event = accepted_event(item, submission_id, recorded_at, provenance)
    except ValidationError as error:
        return _invalid(error)
    for name, number in _numbers(event):
        if not math.isfinite(number):
            return p.not_finite(name, number)
    try:
        reread = EVENT_TYPES[event.event_type].model_validate_json(event.model_dump_json())
    except ValidationError as error:
        return _invalid(error)
    except ValueError as error:  # it does not even serialise (a lone surrogate in a text)
        return p.invalid_event(None, None, str(error)[:_WHY_CHARS])
    if reread != event:
        return p.invalid_event(None, None, "it reads back changed")
    return event


_WHY_CHARS = 200


def _invalid(error: ValidationError) -> Problem:
    # The offending input is not echoed: what made the event unreadable could make the rejection so too.
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return p.invalid_event(field, None, f"{field}: {first['msg']}"[:_WHY_CHARS])


def _numbers(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every float field of `model` and of the models inside it, with its dotted name."""
    for name, value in vars(model).items():
        if isinstance(value, float):
            yield prefix + name, value
        elif isinstance(value, BaseModel):
            yield from _numbers(value, f"{prefix}{name}.")


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
