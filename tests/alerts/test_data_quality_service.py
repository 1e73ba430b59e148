"""Data quality over real NATS and a real database: figures are flagged in event time, never rejected."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from nats.aio.client import Client

from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
from duban_contracts.events import MeasurementRecorded, ProgressMode, ProgressRecorded, UnitRef, derived_event_id
from duban_contracts.topology import Topology
from tests.support.bus import collecting, publish_event, running

SCHOOL = UnitRef(id="bz-ez", name="巴中市第二中学", township="江北街道", stage="高中")
MAY = datetime.fromisoformat("2023-05-05T10:00:00+08:00")


def cumulative(n: int, value: float, day: int) -> ProgressRecorded:
    at = MAY + timedelta(days=day)
    return ProgressRecorded(
        event_id=derived_event_id("dq", n),
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        unit=SCHOOL,
        target_id="t07_school_building_new",
        value=value,
        measure_unit="平方米",
        mode=ProgressMode.CUMULATIVE,
    )


async def test_a_cumulative_figure_that_goes_down_and_an_implausible_class_are_data_quality_alerts(
    nc: Client, nats_url: str, database_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    alerts = create_app(
        AlertsSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path)
    )
    huge_class = MeasurementRecorded(
        event_id=derived_event_id("dq", "class"),
        occurred_at=MAY,
        recorded_at=MAY,
        source=SCHOOL.id,
        unit=SCHOOL,
        metric="class_size",
        metric_zh="班额",
        value=455,
        measure_unit="人",
        class_name="七年级3班",
    )
    async with collecting(nc, topology.subjects) as out, running(alerts):
        # Sent out of order: the lower figure arrives first, yet it is the later one in event time.
        await publish_event(nc, topology.subjects, cumulative(2, 8000, day=20))
        await publish_event(nc, topology.subjects, cumulative(1, 9000, day=10))
        await publish_event(nc, topology.subjects, huge_class)
        await out.wait_for(lambda c: len([e for e in c.of("alert.raised") if e.rule == "data_quality"]) == 2)
        await out.caught_up(topology, {"alerts"})

    found = {e.labels["check"]: e for e in out.of("alert.raised") if e.rule == "data_quality"}
    assert set(found) == {"cumulative_decrease", "implausible_value"}
    assert found["cumulative_decrease"].labels["fact_id"] == derived_event_id("dq", 2)
    assert "新建" in found["cumulative_decrease"].title_zh or "校舍" in found["cumulative_decrease"].title_zh
    assert found["implausible_value"].labels["class_name"] == "七年级3班"
