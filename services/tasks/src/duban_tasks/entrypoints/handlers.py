"""FastStream handlers of the tasks service: decode the contract, call one use case."""

from __future__ import annotations

from duban_contracts.events import ActivityRecorded, ClockTicked, MeasurementRecorded, ProgressRecorded
from duban_contracts.rpc import Failure, StatusQuery, StatusReply
from duban_kit.consumer import GroupCommit
from duban_kit.service import ServiceRuntime

from ..usecases.tracking import Tracker
from .views import UnknownRef, as_of_instant, reply


def register(runtime: ServiceRuntime, tracker: Tracker) -> None:
    metrics = runtime.metrics
    progress = GroupCommit(tracker.record_progress, metrics=metrics)
    activities = GroupCommit(tracker.record_activities, metrics=metrics)
    measurements = GroupCommit(tracker.record_measurements, metrics=metrics)
    ticks = GroupCommit(tracker.tick, metrics=metrics)

    @runtime.events("progress.recorded")
    async def on_progress_recorded(event: ProgressRecorded) -> None:
        await progress.submit(event)

    @runtime.events("activity.recorded")
    async def on_activity_recorded(event: ActivityRecorded) -> None:
        await activities.submit(event)

    @runtime.events("measurement.recorded")
    async def on_measurement_recorded(event: MeasurementRecorded) -> None:
        await measurements.submit(event)

    @runtime.events("clock.ticked")
    async def on_clock_ticked(event: ClockTicked) -> None:
        await ticks.submit(event)

    @runtime.rpc("query")
    async def on_query(query: StatusQuery) -> StatusReply | Failure:
        try:
            judgement = await tracker.judge(as_of_instant(query.as_of))
            return reply(tracker.plan, judgement, query)
        except UnknownRef as error:
            return Failure(error="unknown_ref", message=str(error))
