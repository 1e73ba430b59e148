"""The tasks service over real NATS, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from nats.aio.client import Client

from duban_contracts.events import ProgressMode, ProgressRecorded, TargetStatus, UnitRef, derived_event_id
from duban_contracts.topology import Topology
from duban_tasks.app import create_app
from duban_tasks.config import TasksSettings
from tests.support.bus import collecting, publish_event, running

TARGET = "t07_school_building_new"
SCHOOL_A = UnitRef(id="bz-ez", name="巴中市第二中学")
SCHOOL_B = UnitRef(id="bz-q7x", name="巴州区第七小学")


def progress(
    event_no: int, unit: UnitRef, value: float, day: str, mode: ProgressMode = ProgressMode.INCREMENT
) -> ProgressRecorded:
    at = datetime.fromisoformat(f"{day}T02:00:00+00:00")
    return ProgressRecorded(
        event_id=derived_event_id("test-progress", event_no),
        occurred_at=at,
        recorded_at=at,
        source=unit.id,
        submission_id=f"sub-{event_no}",
        unit=unit,
        target_id=TARGET,
        value=value,
        measure_unit="平方米",
        mode=mode,
    )


def settings(nats_url: str, namespace: str, database_url: str, tmp_path: Path) -> TasksSettings:
    return TasksSettings(nats_url=nats_url, namespace=namespace, database_url=database_url, home=tmp_path, http_port=0)


async def test_increments_from_two_schools_with_a_duplicate_reach_done_once(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    runtime = create_app(settings(nats_url, namespace, database_url, tmp_path))
    first = progress(1, SCHOOL_A, 5000, "2023-04-01")
    async with collecting(nc, topology.subjects) as out, running(runtime):
        for event in (
            first,
            progress(2, SCHOOL_B, 6000, "2023-06-01"),
            first,
            progress(3, SCHOOL_A, 4400, "2023-08-01"),
        ):
            await publish_event(nc, topology.subjects, event)
        await out.wait_for(
            lambda c: any(e.ref == TARGET and e.status is TargetStatus.DONE for e in c.of("task.status_changed"))
        )
        await out.caught_up(topology, {"tasks"})
        judgement = await runtime_tracker_judgement(runtime)

    target_changes = [e for e in out.of("task.status_changed") if e.level == "target" and e.ref == TARGET]
    assert [e.status for e in target_changes].count(TargetStatus.DONE) == 1
    done = next(e for e in target_changes if e.status is TargetStatus.DONE)
    assert done.actual == 15400
    assert judgement == 15400


async def test_an_older_cumulative_report_does_not_move_the_figure_back(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    runtime = create_app(settings(nats_url, namespace, database_url, tmp_path))
    newer = progress(10, SCHOOL_A, 9000, "2023-07-01", ProgressMode.CUMULATIVE)
    older = progress(11, SCHOOL_A, 3000, "2023-03-01", ProgressMode.CUMULATIVE)
    async with collecting(nc, topology.subjects) as out, running(runtime):
        await publish_event(nc, topology.subjects, newer)
        await out.wait_for(lambda c: any(e.ref == TARGET for e in c.of("task.status_changed")))
        await publish_event(nc, topology.subjects, older)
        await out.caught_up(topology, {"tasks"})
        actual = await runtime_tracker_judgement(runtime)
    assert actual == 9000
    actuals = [e.actual for e in out.of("task.status_changed") if e.ref == TARGET]
    assert actuals == [9000]


async def test_once_a_report_is_acknowledged_its_status_change_is_already_in_the_stream(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    """Events go out through the outbox before the ack: "every consumer caught up" means "all published"."""
    runtime = create_app(settings(nats_url, namespace, database_url, tmp_path))
    js = nc.jetstream()
    consumer = topology.consumer("tasks", "progress.recorded")
    changes = topology.subjects.event("task.status_changed")
    async with running(runtime):
        for n in range(1, 6):
            await publish_event(nc, topology.subjects, progress(20 + n, SCHOOL_A, 1000, f"2023-0{n}-10"))
            while True:
                info = await js.consumer_info(consumer.stream, consumer.durable)
                if info.delivered.stream_seq >= n and info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                await asyncio.sleep(0.005)
            stream = await js.stream_info(topology.streams["events"].name, subjects_filter=changes)
            # target, task, section and plan: each report moves all four
            assert (stream.state.subjects or {}).get(changes, 0) >= 4 * n


async def runtime_tracker_judgement(runtime: object) -> float | None:
    """The target's actual as the service's query endpoint reports it."""
    from duban_contracts.rpc import StatusQuery, StatusReply

    reply = await runtime.broker.request(  # type: ignore[attr-defined]
        StatusQuery(level="target", ref=TARGET).model_dump(mode="json"),
        subject=runtime.settings.subjects.rpc("tasks", "query"),  # type: ignore[attr-defined]
        timeout=10,
    )
    body = StatusReply.model_validate_json(reply.body)
    return body.view.actual


_ = UTC
