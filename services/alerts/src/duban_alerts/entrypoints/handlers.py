"""FastStream handlers of the alerts service: facts in, ticks in, operations by request."""

from __future__ import annotations

from typing import Any

from duban_contracts.events import (
    ActivityRecorded,
    CaseRecorded,
    ClockTicked,
    IncidentReported,
    MeasurementRecorded,
    TaskStatusChanged,
)
from duban_contracts.rpc import AlertCommand, AlertsQuery, CasesQuery, CommandReply
from duban_kit.consumer import GroupCommit
from duban_kit.service import ServiceRuntime

from ..adapters.sender import delivery_counts
from ..usecases.desk import AlertDesk
from .cases import list_cases
from .operations import alert_view, run_command


def register(runtime: ServiceRuntime, desk: AlertDesk) -> None:
    m = runtime.metrics
    incidents = GroupCommit(desk.incidents, metrics=m)
    measurements = GroupCommit(desk.measurements, metrics=m)
    activities = GroupCommit(desk.activities, metrics=m)
    statuses = GroupCommit(desk.statuses, metrics=m)
    ticks = GroupCommit(desk.ticks, metrics=m)
    cases = GroupCommit(desk.cases, metrics=m)

    @runtime.events("incident.reported")
    async def on_incident_reported(event: IncidentReported) -> None:
        await incidents.submit(event)

    @runtime.events("measurement.recorded")
    async def on_measurement_recorded(event: MeasurementRecorded) -> None:
        await measurements.submit(event)

    @runtime.events("activity.recorded")
    async def on_activity_recorded(event: ActivityRecorded) -> None:
        await activities.submit(event)

    @runtime.events("task.status_changed")
    async def on_task_status_changed(event: TaskStatusChanged) -> None:
        await statuses.submit(event)

    @runtime.events("case.recorded")
    async def on_case_recorded(event: CaseRecorded) -> None:
        await cases.submit(event)

    @runtime.events("clock.ticked")
    async def on_clock_ticked(event: ClockTicked) -> None:
        await ticks.submit(event)

    @runtime.rpc("query")
    async def on_query(query: AlertsQuery) -> dict[str, Any]:
        alerts = await desk.alerts(query.state, query.rule, query.limit)
        return {"alerts": [alert_view(a) for a in alerts], "deliveries": await delivery_counts(runtime.db)}

    @runtime.rpc("cases")
    async def on_cases(query: CasesQuery) -> dict[str, Any]:
        return await list_cases(desk, query)

    @runtime.rpc("command")
    async def on_command(command: AlertCommand) -> CommandReply:
        return await run_command(desk, command)
