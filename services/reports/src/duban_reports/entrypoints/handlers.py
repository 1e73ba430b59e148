"""FastStream handlers of the reports service: keep the facts, answer queries."""

from __future__ import annotations

from typing import Any

from duban_contracts.events import (
    ActivityRecorded,
    AlertRaised,
    AlertResolved,
    AlertUpdated,
    CaseSummarised,
    ClockTicked,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
    SubmissionRejected,
    TargetSignedOff,
    TaskStatusChanged,
)
from duban_contracts.rpc import AggregateQuery, CommandReply, Failure, ReportRequest
from duban_kit.consumer import GroupCommit
from duban_kit.service import ServiceRuntime

from ..usecases.aggregates import Aggregates
from ..usecases.facts import FactKeeper
from ..usecases.publishing import ReportDesk
from .timeutil import as_of_instant


def register(runtime: ServiceRuntime, facts: FactKeeper, aggregates: Aggregates, desk: ReportDesk) -> None:
    m = runtime.metrics
    progress = GroupCommit(facts.progress, metrics=m)
    incidents = GroupCommit(facts.incidents, metrics=m)
    measurements = GroupCommit(facts.measurements, metrics=m)
    activities = GroupCommit(facts.activities, metrics=m)
    rejections = GroupCommit(facts.rejections, metrics=m)
    statuses = GroupCommit(facts.statuses, metrics=m)
    raised = GroupCommit(facts.alerts, metrics=m)
    updated = GroupCommit(facts.alerts, metrics=m)
    resolved = GroupCommit(facts.alerts, metrics=m)
    ticks = GroupCommit(facts.ticks, metrics=m)
    case_summaries = GroupCommit(facts.case_summaries, metrics=m)
    signoffs = GroupCommit(facts.signoffs, metrics=m)

    @runtime.events("target.signed_off")
    async def on_target_signed_off(event: TargetSignedOff) -> None:
        await signoffs.submit(event)

    @runtime.events("case.summarised")
    async def on_case_summarised(event: CaseSummarised) -> None:
        await case_summaries.submit(event)

    @runtime.events("progress.recorded")
    async def on_progress_recorded(event: ProgressRecorded) -> None:
        await progress.submit(event)

    @runtime.events("incident.reported")
    async def on_incident_reported(event: IncidentReported) -> None:
        await incidents.submit(event)

    @runtime.events("measurement.recorded")
    async def on_measurement_recorded(event: MeasurementRecorded) -> None:
        await measurements.submit(event)

    @runtime.events("activity.recorded")
    async def on_activity_recorded(event: ActivityRecorded) -> None:
        await activities.submit(event)

    @runtime.events("submission.rejected")
    async def on_submission_rejected(event: SubmissionRejected) -> None:
        await rejections.submit(event)

    @runtime.events("task.status_changed")
    async def on_task_status_changed(event: TaskStatusChanged) -> None:
        await statuses.submit(event)

    @runtime.events("alert.raised")
    async def on_alert_raised(event: AlertRaised) -> None:
        await raised.submit(event)

    @runtime.events("alert.updated")
    async def on_alert_updated(event: AlertUpdated) -> None:
        await updated.submit(event)

    @runtime.events("alert.resolved")
    async def on_alert_resolved(event: AlertResolved) -> None:
        await resolved.submit(event)

    @runtime.events("clock.ticked")
    async def on_clock_ticked(event: ClockTicked) -> None:
        await ticks.submit(event)

    @runtime.rpc("query")
    async def on_query(query: AggregateQuery) -> dict[str, Any] | Failure:
        as_of = as_of_instant(query.as_of)
        if query.name == "completion":
            return await aggregates.completion(as_of)
        if query.name == "summary":
            return {**await aggregates.summary(as_of), "reports_pending": await desk.pending()}
        if query.name == "reports":
            return {"reports": await desk.jobs()}
        return Failure(error="not_implemented", message=f"aggregate {query.name!r} is not available yet")

    @runtime.rpc("generate")
    async def on_generate(request: ReportRequest) -> CommandReply:
        try:
            report_id = await desk.request(request.period, request.formats, request.deliver, await aggregates.now())
        except ValueError as error:
            return CommandReply(ok=False, message=str(error))
        return CommandReply(ok=True, message=f"report {report_id} queued", data={"report_id": report_id})
