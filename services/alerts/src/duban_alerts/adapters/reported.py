"""Progress reports and measurements as the data-quality checks see them (`data_quality.Reported`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from duban_contracts.events import MeasurementRecorded, ProgressRecorded

from ..domain.data_quality import Reported


def reported_progress(e: ProgressRecorded, zone: ZoneInfo) -> Reported:
    """A progress report: an increment or a cumulative figure for the day it was made."""
    return Reported(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        unit_id=e.unit.id,
        unit_name=e.unit.name,
        subject=e.target_id,
        subject_zh=e.target_id,  # the book names it from the plan
        value=e.value,
        kind="cumulative" if e.mode.value == "cumulative" else "increment",
        period=e.occurred_at.astimezone(zone).date().isoformat(),
        measure_unit=e.measure_unit,
    )


def reported_measurement(e: MeasurementRecorded, zone: ZoneInfo) -> Reported:
    """A measurement (a class size, minutes of exercise, a rate) for the day it was taken."""
    return Reported(
        fact_id=e.event_id,
        occurred_at=e.occurred_at,
        unit_id=e.unit.id,
        unit_name=e.unit.name,
        subject=e.metric,
        subject_zh=e.metric_zh,
        value=e.value,
        kind="measurement",
        period=e.occurred_at.astimezone(zone).date().isoformat(),
        class_name=e.class_name,
        measure_unit=e.measure_unit,
    )
