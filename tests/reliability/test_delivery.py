"""Faults 6 and 7: duplicates and disorder change nothing; a slow handler is not redelivered."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy import func, select

from duban.bus import publish_tick
from duban_alerts.app import create_app as create_alerts
from duban_alerts.config import AlertsSettings
from duban_contracts.events import (
    Event,
    IncidentCategory,
    IncidentReported,
    MeasurementRecorded,
    ProgressMode,
    ProgressRecorded,
    UnitRef,
    derived_event_id,
)
from duban_contracts.rpc import AggregateQuery, AlertsQuery, StatusQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.faults import faults
from duban_kit.provision import deprovision, provision
from duban_kit.service import ServiceRuntime
from duban_reports.app import create_app as create_reports
from duban_reports.config import ReportsSettings
from duban_tasks.adapters import tables as task_tables
from duban_tasks.app import create_app as create_tasks
from duban_tasks.config import TasksSettings
from tests.support.bus import drained, publish_event, running

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(240)]

SCHOOLS = [UnitRef(id=f"bz-s{n}", name=f"巴州区模拟学校{n}", township="江北街道", stage="小学") for n in range(6)]
START = datetime.fromisoformat("2023-02-01T09:00:00+08:00")
TARGETS = ("t07_school_building_new", "t07_sports_ground_new", "t19_teachers_recruited")


def canonical_events(seed: int = 11) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(150):
        unit = SCHOOLS[n % len(SCHOOLS)]
        at = START + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 8))
        mode = ProgressMode.CUMULATIVE if n % 7 == 0 else ProgressMode.INCREMENT
        events.append(
            ProgressRecorded(
                event_id=derived_event_id("dup-p", n),
                occurred_at=at,
                recorded_at=at,
                source=unit.id,
                unit=unit,
                target_id=TARGETS[n % len(TARGETS)],
                value=float(rng.randint(1, 40) * (5 if mode is ProgressMode.CUMULATIVE else 1)),
                measure_unit="平方米" if n % 3 < 2 else "人",
                mode=mode,
            )
        )
    for n in range(14):  # flu in two classes of one school, a drowning, a late report
        unit = SCHOOLS[0]
        at = START + timedelta(days=30, hours=n % 3, minutes=7 * n)
        events.append(
            IncidentReported(
                event_id=derived_event_id("dup-i", n),
                occurred_at=at,
                recorded_at=at,
                source=unit.id,
                unit=unit,
                category=IncidentCategory.INFECTIOUS_DISEASE,
                disease="流感",
                cases=1,
                class_name=f"{1 + n % 2}年级1班",
                reported_at=at + timedelta(minutes=40),
            )
        )
    drowning_at = START + timedelta(days=160)
    events.append(
        IncidentReported(
            event_id=derived_event_id("dup-i", 99),
            occurred_at=drowning_at,
            recorded_at=drowning_at,
            source=SCHOOLS[2].id,
            unit=SCHOOLS[2],
            category=IncidentCategory.DROWNING,
            deaths=1,
            reported_at=drowning_at + timedelta(hours=5),
        )
    )
    for n in range(12):
        unit = SCHOOLS[n % len(SCHOOLS)]
        at = START + timedelta(days=212, hours=n)
        events.append(
            MeasurementRecorded(
                event_id=derived_event_id("dup-m", n),
                occurred_at=at,
                recorded_at=at,
                source=unit.id,
                unit=unit,
                metric="class_size",
                metric_zh="班额",
                target_id="t10_class_size_max",
                value=50.0 + n,
                measure_unit="人",
                class_name=f"七年级{n}班",
            )
        )
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))


def disorderly(events: list[Event], seed: int = 5) -> list[Event]:
    """10% of the events twice, and everything shuffled within windows of 20."""
    rng = random.Random(seed)
    doubled = [e for e in events for _ in range(2 if rng.random() < 0.1 else 1)]
    shuffled: list[Event] = []
    for start in range(0, len(doubled), 20):
        window = doubled[start : start + 20]
        rng.shuffle(window)
        shuffled += window
    return shuffled


@pytest.fixture
async def fresh_topology(nc: Client, namespace: str) -> AsyncIterator[Any]:
    created: list[Topology] = []

    async def make(suffix: str, **kwargs: Any) -> Topology:
        topology = Topology(Subjects(f"{namespace}{suffix}"), duplicate_window_seconds=1, **kwargs)
        await provision(nc, topology)
        created.append(topology)
        return topology

    yield make
    for topology in created:
        await deprovision(nc, topology)


async def final_state(nc: Client, subjects: Subjects) -> dict[str, Any]:
    async def ask(service: str, body: Any) -> Any:
        import json

        reply = await nc.request(subjects.rpc(service, "query"), body.model_dump_json().encode(), timeout=15)
        return json.loads(reply.data)

    status = await ask("tasks", StatusQuery())
    alerts = await ask("alerts", AlertsQuery(state="all", limit=10_000))
    summary = await ask("reports", AggregateQuery(name="summary"))

    def flatten(view: dict[str, Any]) -> list[tuple[str, str, str, float, Any]]:
        rows = [(view["level"], view["ref"], view["status"], round(view["completion"], 6), view.get("actual"))]
        for child in view["children"]:
            rows += flatten(child)
        return rows

    return {
        "status": sorted(flatten(status["view"])),
        "alerts": sorted(
            (a["rule"], tuple(sorted(a["labels"].items())), _occurrences(a), a["severity"], a["state"])
            for a in alerts["alerts"]
        ),
        "facts": {k: summary[k] for k in ("submissions", "progress_events", "incidents", "deaths")},
    }


def _occurrences(alert: dict[str, Any]) -> int | None:
    """How often the condition was seen: facts (cases, incidents, measurements) count exactly.

    A lag alert counts the times tasks judged its target behind; those judgements are made on the
    facts known at each moment, so their number follows arrival order, while where it ends does not.
    """
    return None if alert["rule"] in ("target_lagging", "target_critical") else int(alert["count"])


async def run_pipeline(
    nc: Client, topology: Topology, nats_url: str, home: Path, events: list[Event]
) -> dict[str, Any]:
    ns = topology.subjects.namespace
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "namespace": ns,
        "database_url": f"sqlite:///{home}/{{service}}.db",
        "home": home,
    }
    tasks = create_tasks(TasksSettings(**common))
    alerts = create_alerts(AlertsSettings(**common))
    reports = create_reports(
        ReportsSettings(**common, schedule_weekly="", schedule_monthly="", schedule_quarterly="", schedule_annual="")
    )
    async with running(tasks), running(alerts), running(reports):
        for event in events:
            await publish_event(nc, topology.subjects, event, dedupe=False)
        await drained(nc, topology, {"tasks", "alerts", "reports"})
        await publish_tick(nc, topology.subjects, datetime.fromisoformat("2023-12-31T23:59:59+08:00"), mode="replay")
        await drained(nc, topology, {"tasks", "alerts", "reports"})  # outboxes included
        return await final_state(nc, topology.subjects)


async def test_duplicates_and_disorder_give_the_same_final_state_without_double_counting(
    nc: Client, nats_url: str, fresh_topology: Any, tmp_path: Path
) -> None:
    events = canonical_events()
    clean = await run_pipeline(nc, await fresh_topology("a"), nats_url, tmp_path / "a", events)
    messy = await run_pipeline(nc, await fresh_topology("b"), nats_url, tmp_path / "b", disorderly(events))
    assert clean["facts"]["progress_events"] == 150
    assert messy == clean


async def test_a_handler_slower_than_the_ack_wait_signals_progress_and_is_not_redelivered(
    nc: Client, nats_url: str, fresh_topology: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = await fresh_topology("slow", ack_wait_seconds=1.0)
    settings = TasksSettings(
        nats_url=nats_url,
        namespace=topology.subjects.namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        ack_wait_seconds=1.0,
        fetch_batch=5,
    )
    monkeypatch.setattr(faults(), "point", "slow_handler")
    monkeypatch.setattr(faults(), "value", 3.0)  # three ack-waits per batch
    runtime: ServiceRuntime = create_tasks(settings)
    events = [e for e in canonical_events() if isinstance(e, ProgressRecorded)][:12]
    async with running(runtime):
        for event in events:
            await publish_event(nc, topology.subjects, event)
        await drained(nc, topology, {"tasks"}, timeout=90)
        info = await nc.jetstream().consumer_info(topology.streams["events"].name, "tasks-progress-recorded")
        async with runtime.db.read() as conn:
            # Only the progress consumer's rows: tasks also reads back its own status events (销号).
            inbox = task_tables.inbox
            progress_consumer = inbox.c.consumer == "tasks-progress-recorded"
            applied = await conn.scalar(select(func.count()).select_from(inbox).where(progress_consumer))
    assert info.num_redelivered == 0
    assert info.delivered.consumer_seq == len(events)  # each message delivered exactly once
    assert applied == len(events)
