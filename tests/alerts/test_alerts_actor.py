"""Who acknowledged or silenced an alert: over HTTP the bearer token's holder, never what the request
body claims; over NATS (`duban alerts ack`) what `--actor` says, by default the OS user (that path
trusts its NATS user's permissions). Over real NATS and SQLite, the service in this process."""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
import typer
from nats.aio.client import Client
from typer.testing import CliRunner

from duban.isolated import free_port
from duban_alerts.app import create_app
from duban_alerts.config import AlertsSettings
from duban_alerts.entrypoints.cli import register
from duban_contracts.events import IncidentCategory, IncidentReported, UnitRef, derived_event_id
from duban_contracts.topology import Topology
from duban_kit.tokens import generate_token
from tests.support.bus import collecting, publish_event, running

SCHOOL = UnitRef(id="bz-q7x", name="巴州区第七小学", township="江北街道", stage="小学")
ON_DUTY = "值班员张三"
OPERATOR = generate_token()
READER = generate_token()


@dataclass
class AlertsApi:
    http: httpx.AsyncClient
    base: str
    alert_id: str
    nats_url: str
    namespace: str

    async def post(self, path: str, body: dict[str, Any], token: str = OPERATOR) -> httpx.Response:
        return await self.http.post(f"{self.base}{path}", json=body, headers={"Authorization": f"Bearer {token}"})

    async def alert(self) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.base}/api/alerts", params={"state": "all"}, headers={"Authorization": f"Bearer {READER}"}
        )
        [found] = [a for a in response.json()["alerts"] if a["id"] == self.alert_id]
        return dict(found)


def drowning() -> IncidentReported:
    at = datetime.fromisoformat("2023-06-30T17:00:00+08:00")
    return IncidentReported(
        event_id=derived_event_id("http-actor-drowning", 1),
        occurred_at=at,
        recorded_at=at,
        source=SCHOOL.id,
        submission_id="drown-http",
        unit=SCHOOL,
        category=IncidentCategory.DROWNING,
        deaths=1,
        reported_at=at + timedelta(minutes=30),
    )


@pytest.fixture
async def api(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> AsyncIterator[AlertsApi]:
    port = free_port()
    settings = AlertsSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        http_port=port,
        api_tokens=f"{OPERATOR}:operator:{ON_DUTY},{READER}:reader:grafana",
    )
    async with collecting(nc, topology.subjects) as out, running(create_app(settings)):
        await publish_event(nc, topology.subjects, drowning())
        await out.wait_for(lambda c: len(c.of("alert.raised")) == 1)
        [raised] = out.of("alert.raised")
        async with httpx.AsyncClient(timeout=10) as http:
            yield AlertsApi(http, f"http://127.0.0.1:{port}", raised.alert_id, nats_url, namespace)


async def test_an_acknowledgement_records_the_tokens_holder(api: AlertsApi) -> None:
    response = await api.post(f"/api/alerts/{api.alert_id}/ack", {"comment": "已派人赶赴现场"})

    assert response.status_code == 200
    assert response.json()["data"]["acknowledged_by"] == ON_DUTY
    assert (await api.alert())["acknowledged_by"] == ON_DUTY


async def test_an_actor_in_the_body_naming_someone_else_is_refused_and_nothing_is_recorded(api: AlertsApi) -> None:
    response = await api.post(f"/api/alerts/{api.alert_id}/ack", {"actor": "局长", "comment": "冒名"})

    assert response.status_code == 400
    assert response.json()["error"] == "actor_mismatch"
    assert response.json()["actor"] == ON_DUTY
    alert = await api.alert()
    assert (alert["state"], alert["acknowledged_by"]) == ("firing", None)


async def test_an_actor_in_the_body_naming_the_holder_is_accepted(api: AlertsApi) -> None:
    response = await api.post(f"/api/alerts/{api.alert_id}/ack", {"actor": ON_DUTY})

    assert response.status_code == 200
    assert (await api.alert())["acknowledged_by"] == ON_DUTY


async def test_a_silence_is_created_by_the_tokens_holder(api: AlertsApi) -> None:
    refused = await api.post("/api/silences", {"matchers": ['rule="class_size"'], "actor": "局长"})
    made = await api.post("/api/silences", {"matchers": ['rule="class_size"'], "duration_hours": 2})

    assert (refused.status_code, refused.json()["error"]) == (400, "actor_mismatch")
    assert made.status_code == 200
    assert made.json()["data"]["created_by"] == ON_DUTY


def run_cli(api: AlertsApi, *args: str) -> str:
    """`duban alerts …` as typed, against the running service (in a thread: the CLI runs its own loop)."""
    app = typer.Typer()
    register(app)
    env = {"DUBAN_NATS_URL": api.nats_url, "DUBAN_NAMESPACE": api.namespace}
    with mock.patch.dict(os.environ, env):
        result = CliRunner().invoke(app, ["alerts", *args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_over_nats_the_actor_is_the_os_user_unless_given(api: AlertsApi) -> None:
    await asyncio.to_thread(run_cli, api, "ack", api.alert_id)

    assert (await api.alert())["acknowledged_by"] == getpass.getuser()


async def test_over_nats_an_explicit_actor_is_recorded(api: AlertsApi) -> None:
    await asyncio.to_thread(run_cli, api, "ack", api.alert_id, "--actor", "夜班-李四")

    assert (await api.alert())["acknowledged_by"] == "夜班-李四"
