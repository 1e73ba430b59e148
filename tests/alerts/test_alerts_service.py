"""The alerts service over real NATS and a real database, with a real webhook and SMTP server."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from nats.aio.client import Client

from duban.isolated import free_port
from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
from duban_alerts.entrypoints.cli import under_way
from duban_contracts.events import (
    AlertState,
    IncidentCategory,
    IncidentReported,
    UnitRef,
    derived_event_id,
)
from duban_contracts.rpc import AlertCommand, AlertsQuery, CommandReply
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import deprovision, provision
from duban_kit.service import ServiceRuntime
from tests.support.bus import collecting, publish_event, running
from tests.support.receivers import Mailbox, Script, http_server, smtp_server

SCHOOL = UnitRef(id="bz-q7x", name="巴州区第七小学", township="江北街道", stage="小学")
DAY = datetime.fromisoformat("2023-03-02T08:00:00+08:00")


def flu_case(number: int, minutes: int, class_name: str = "三年级2班") -> IncidentReported:
    at = DAY + timedelta(minutes=minutes)
    return IncidentReported(
        event_id=derived_event_id("test-flu", number),
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        submission_id=f"flu-{number}",
        unit=SCHOOL,
        category=IncidentCategory.INFECTIOUS_DISEASE,
        disease="流感",
        cases=1,
        class_name=class_name,
        reported_at=at + timedelta(minutes=20),
    )


async def tick(nc: Client, topology: Topology, at: datetime) -> None:
    from duban.bus import publish_tick

    await publish_tick(nc, topology.subjects, at, mode="replay")


async def command(runtime: ServiceRuntime, body: AlertCommand) -> CommandReply:
    reply = await runtime.broker.request(
        body.model_dump(mode="json"), subject=runtime.settings.subjects.rpc("alerts", "command"), timeout=10
    )
    return CommandReply.model_validate_json(reply.body)


async def query(runtime: ServiceRuntime, body: AlertsQuery) -> dict[str, Any]:
    """What `duban alerts list` is told: the alerts and how their notifications' deliveries fared."""
    reply = await runtime.broker.request(
        body.model_dump(mode="json"), subject=runtime.settings.subjects.rpc("alerts", "query"), timeout=10
    )
    return dict(json.loads(reply.body))


async def listed_once_written(runtime: ServiceRuntime, timeout: float = 15.0) -> dict[str, Any]:
    """The listing, once a delivery is recorded as written to a file."""
    async with asyncio.timeout(timeout):
        while True:
            listing = await query(runtime, AlertsQuery())
            if listing["deliveries"]["written"]:
                return listing
            await asyncio.sleep(0.05)


async def nothing_under_way(runtime: ServiceRuntime, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while under_way((await query(runtime, AlertsQuery()))["deliveries"]):
        assert asyncio.get_running_loop().time() < deadline, "notifications still under way"
        await asyncio.sleep(0.05)


async def open_alerts(runtime: ServiceRuntime) -> list[dict[str, object]]:
    return list((await query(runtime, AlertsQuery()))["alerts"])


async def until(predicate: object, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_three_flu_cases_in_a_class_raise_one_outbreak_alert_one_post_and_one_email(
    nc: Client, nats_url: str, namespace: str, topology: Topology, database_url: str, tmp_path: Path
) -> None:
    mailbox = Mailbox()
    with http_server(Script(statuses=[200])) as hook, smtp_server(mailbox) as smtp_port:
        receivers = tmp_path / "receivers.yaml"
        receivers.write_text(
            yaml.safe_dump(
                {"安全稳定股": [{"webhook": hook.url}, {"email": ["safety@bureau.example"]}]}, allow_unicode=True
            ),
            encoding="utf-8",
        )
        settings = AlertsSettings(
            nats_url=nats_url,
            namespace=namespace,
            database_url=database_url,
            home=tmp_path,
            receivers_file=receivers,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            notify_interval_seconds=0.2,
        )
        runtime = create_app(settings)
        async with collecting(nc, topology.subjects) as out, running(runtime):
            for number in range(3):
                await publish_event(nc, topology.subjects, flu_case(number, minutes=10 * number))
            await out.wait_for(lambda c: len(c.of("alert.raised")) >= 1)
            await tick(nc, topology, DAY + timedelta(hours=1))
            await until(lambda: len(hook.received) >= 1 and len(mailbox.accepted) >= 1)

            await publish_event(nc, topology.subjects, flu_case(3, minutes=40))
            await out.wait_for(lambda c: any(e.count >= 4 for e in c.of("alert.updated")))
            outbreak = (await open_alerts(runtime))[0]

            silenced = await command(
                runtime,
                AlertCommand(
                    action="silence", matchers=['rule="infectious_cluster"'], duration_hours=48, comment="测试"
                ),
            )
            acked = await command(runtime, AlertCommand(action="ack", alert_id=str(outbreak["id"]), actor="值班员"))
            for number in range(4, 9):  # more cases: the alert's record changes, nobody is told
                await publish_event(nc, topology.subjects, flu_case(number, minutes=50 + number))
            await out.wait_for(lambda c: any(e.count >= 9 for e in c.of("alert.updated")))
            await tick(nc, topology, DAY + timedelta(hours=30))
            await out.caught_up(topology, {"alerts"})
            await nothing_under_way(runtime)  # the sender works on its own: what the tick queued is out first
            posts_after_silence = len(hook.received)

    raised = out.of("alert.raised")
    assert [e.rule for e in raised] == ["infectious_cluster"]
    assert len(hook.received) == 1 and len(mailbox.accepted) == 1
    assert posts_after_silence == 1
    assert hook.received[0].headers.get("Idempotency-Key")
    assert outbreak["count"] == 4 and outbreak["id"] == raised[0].alert_id
    assert silenced.ok and acked.ok
    assert acked.data["state"] == AlertState.ACKNOWLEDGED.value


def drowning(number: int, school: UnitRef) -> IncidentReported:
    at = DAY + timedelta(days=120)
    return IncidentReported(
        event_id=derived_event_id("test-drowning", number),
        occurred_at=at,
        recorded_at=at,
        source=school.id,
        submission_id=f"drown-{number}",
        unit=school,
        category=IncidentCategory.DROWNING,
        deaths=1,
        reported_at=at + timedelta(minutes=30),
    )


async def test_an_unacknowledged_critical_alert_escalates_and_an_acknowledged_one_does_not(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    other = UnitRef(id="bz-zl", name="枣林小学", township="枣林镇", stage="小学")
    settings = AlertsSettings(
        nats_url=nats_url, namespace=namespace, database_url=f"sqlite:///{tmp_path}/{{service}}.db", home=tmp_path
    )
    runtime = create_app(settings)
    async with collecting(nc, topology.subjects) as out, running(runtime):
        await publish_event(nc, topology.subjects, drowning(1, SCHOOL))
        await publish_event(nc, topology.subjects, drowning(2, other))
        await out.wait_for(lambda c: len(c.of("alert.raised")) == 2)
        by_unit = {e.labels["unit_id"]: e for e in out.of("alert.raised") if e.rule == "safety_incident"}
        assert all(e.severity.value == "critical" for e in by_unit.values())
        acked = await command(runtime, AlertCommand(action="ack", alert_id=by_unit[other.id].alert_id, actor="值班员"))
        await tick(nc, topology, DAY + timedelta(days=120, hours=5))
        await out.wait_for(
            lambda c: any(e.change == "escalated" and e.rule == "safety_incident" for e in c.of("alert.updated"))
        )
        await out.caught_up(topology, {"alerts"})

    assert acked.ok
    escalated = {e.alert_id for e in out.of("alert.updated") if e.change == "escalated" and e.rule == "safety_incident"}
    assert escalated == {by_unit[SCHOOL.id].alert_id}


async def test_replaying_the_same_incidents_with_duplicates_gives_the_same_alerts(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    cases = [flu_case(n, minutes=7 * n, class_name=f"{1 + n % 2}年级1班") for n in range(12)]
    with_duplicates = [c for i, c in enumerate(cases) for _ in range(2 if i % 10 == 0 else 1)]
    results = []
    for run, order in enumerate((cases, list(reversed(with_duplicates)))):
        topology = Topology(Subjects(f"{namespace}r{run}"), duplicate_window_seconds=1)
        await provision(nc, topology)
        home = tmp_path / f"run{run}"
        settings = AlertsSettings(
            nats_url=nats_url,
            namespace=topology.subjects.namespace,
            database_url=f"sqlite:///{home}/{{service}}.db",
            home=home,
        )
        runtime = create_app(settings)
        try:
            async with collecting(nc, topology.subjects) as out, running(runtime):
                for event in order:
                    await publish_event(nc, topology.subjects, event, dedupe=False)
                await out.caught_up(topology, {"alerts"})  # the tick has its own consumer: it could overtake them
                await tick(nc, topology, DAY + timedelta(days=1))
                await out.caught_up(topology, {"alerts"})
                results.append(
                    sorted((a["rule"], a["count"], a["severity"], a["id"]) for a in await open_alerts(runtime))
                )
        finally:
            await deprovision(nc, topology)
    assert results[0] == results[1]
    assert results[0]


async def test_without_smtp_notifications_are_written_to_files_and_every_record_and_readyz_say_so(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = AlertsSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        http_port=port,
        notify_interval_seconds=0.2,
    )
    runtime = create_app(settings)
    with caplog.at_level(logging.WARNING):
        async with collecting(nc, topology.subjects) as out, running(runtime), httpx.AsyncClient() as http:
            await publish_event(nc, topology.subjects, drowning(1, SCHOOL))
            await out.wait_for(lambda c: len(c.of("alert.raised")) >= 1)
            await until(lambda: any((tmp_path / "out" / "mail").glob("*.eml")))
            listing = await listed_once_written(runtime)
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text

    assert listing["deliveries"]["sent"] == 0 and listing["deliveries"]["written"] >= 1
    assert ready.status_code == 200  # informs; a missing SMTP server does not make the service unready
    mail = ready.json()["checks"]["mail"]
    assert mail["delivered"] is False and mail["outcome"] == "written"
    assert "DUBAN_SMTP_HOST" in mail["reason"] and "nobody receives it" in mail["reason"]
    assert 'duban_notifications_total{outcome="written",receiver="局领导"}' in metrics
    assert 'outcome="sent"' not in metrics
    assert any("No SMTP server is configured" in r.getMessage() for r in caplog.records)
