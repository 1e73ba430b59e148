"""One integration cannot submit as another's school.

Two integrations, each registered for its own school (a registry of this test's, `INTEGRATIONS`), on a
nats-server whose users and permissions deploy/nats/generate_auth.py generated from that registry, with
the ingest service running as `svc-ingest` and holding submissions to the same registry:

- by NATS permission: school A's user may not publish on school B's subject, nor on the shared one;
- by ingest's rule: school A publishing school B's unit on its own subject is rejected, `unit_not_permitted`;
- over HTTP: school A's token uploads to school A's subject, so the same rule holds there too.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from duban.isolated import free_port
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_kit.provision import provision
from duban_kit.tokens import generate_token
from tests.support.bus import Collector, collecting, running

from .nats_auth import NatsNode, Session, password_of, secured_server, session
from .tools import DEPLOY, assert_succeeds, run_tool

pytestmark = pytest.mark.timeout(120)

TOPOLOGY = Topology(Subjects("duban"))
INBOUND = TOPOLOGY.streams["inbound"].name
INTEGRATIONS = {"integrations": {"school-a": ["bz-ez"], "school-b": ["bz-zkzx"]}}
SCHOOL_A = "巴中市第二中学"  # bz-ez
SCHOOL_B = "巴州区曾口中学"  # bz-zkzx
TOKENS = {"school-a": generate_token(), "school-b": generate_token()}


def activity(source: str, day: int) -> dict[str, object]:
    return {"kind": "activity", "source": source, "activity": "防溺水安全教育", "date": f"2023-06-{day:02d}"}


@dataclass
class Bound:
    """The secured server, ingest on it, and what came out on the events subjects."""

    node: NatsNode
    passwords: dict[str, str]
    http_base: str
    out: Collector
    admin: Session

    def login(self, integration: str) -> contextlib.AbstractAsyncContextManager[Session]:
        user = f"integration-{integration}"
        return session(self.node.url, user, password_of(user, self.passwords))

    async def outcome(self, submission_id: str) -> tuple[str, str | None]:
        """How ingest judged `submission_id`: ("accepted", unit id) or (rejection code, unit id)."""

        def judged(c: Collector) -> bool:
            events = c.of("activity.recorded") + c.of("submission.rejected")
            return any(e.submission_id == submission_id for e in events)

        await self.out.wait_for(judged)
        for event in self.out.of("activity.recorded"):
            if event.submission_id == submission_id:
                return "accepted", event.unit.id
        [rejected] = [e for e in self.out.of("submission.rejected") if e.submission_id == submission_id]
        return rejected.code, rejected.unit_id

    async def stored(self) -> int:
        return int((await self.admin.nc.jetstream().stream_info(INBOUND)).state.messages)


def generated_accounts(root: Path) -> Path:
    registry = root / "integrations.yaml"
    registry.write_text(yaml.safe_dump(INTEGRATIONS), encoding="utf-8")
    generator = DEPLOY / "nats" / "generate_auth.py"
    result = run_tool([sys.executable, str(generator), "--integrations", str(registry), "--stdout"])
    assert_succeeds(result)
    accounts = root / "generated-accounts.conf"
    accounts.write_text(result.stdout, encoding="utf-8")
    return accounts


@pytest.fixture
async def bound(tmp_path: Path) -> AsyncIterator[Bound]:
    accounts = generated_accounts(tmp_path)
    with secured_server(tmp_path, accounts) as (node, passwords):
        async with session(node.url, "provisioner", password_of("provisioner", passwords)) as provisioner:
            await provision(provisioner.nc, TOPOLOGY)
        port = free_port()
        settings = IngestSettings(
            nats_url=node.url,
            nats_user="svc-ingest",
            nats_password=password_of("svc-ingest", passwords),
            nats_inbox_prefix="_INBOX_svc-ingest",
            database_url=f"sqlite:///{tmp_path}/{{service}}.db",
            home=tmp_path,
            http_port=port,
            integrations_file=tmp_path / "integrations.yaml",
            api_tokens=",".join(f"{token}:integration:{name}" for name, token in TOKENS.items()),
        )
        async with (
            session(node.url, "admin", password_of("admin", passwords), own_inbox=False) as admin,
            collecting(admin.nc, TOPOLOGY.subjects) as out,
            running(create_app(settings)),
        ):
            yield Bound(node, passwords, f"http://127.0.0.1:{port}", out, admin)


async def publish(client: Session, subject: str, submission_id: str, body: dict[str, object]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await client.nc.jetstream(timeout=5).publish(subject, payload, headers={"Nats-Msg-Id": submission_id})


async def test_nats_refuses_one_integration_publishing_on_anothers_subject_or_the_shared_one(bound: Bound) -> None:
    subjects = TOPOLOGY.subjects
    async with bound.login("school-a") as school_a:
        for subject in (subjects.integration_submission("school-b"), subjects.inbound_submission):
            await school_a.nc.publish(subject, json.dumps(activity(SCHOOL_B, 1), ensure_ascii=False).encode())
            await school_a.violation(f'publish to "{subject}"')
        await publish(school_a, subjects.integration_submission("school-a"), "a-own", activity(SCHOOL_A, 2))

    assert await bound.outcome("a-own") == ("accepted", "bz-ez")
    assert await bound.stored() == 1  # only its own submission reached the stream


async def test_ingest_rejects_an_integration_speaking_for_anothers_school_on_its_own_subject(bound: Bound) -> None:
    subjects = TOPOLOGY.subjects
    async with bound.login("school-a") as school_a, bound.login("school-b") as school_b:
        await publish(school_a, subjects.integration_submission("school-a"), "a-as-b", activity(SCHOOL_B, 3))
        await publish(school_b, subjects.integration_submission("school-b"), "b-own", activity(SCHOOL_B, 4))
        await school_a.no_violation()
        await school_b.no_violation()

    assert await bound.outcome("a-as-b") == ("unit_not_permitted", "bz-zkzx")
    assert await bound.outcome("b-own") == ("accepted", "bz-zkzx")
    [refusal] = [e for e in bound.out.of("submission.rejected") if e.submission_id == "a-as-b"]
    assert "integration 'school-a' may not submit for bz-zkzx" in refusal.message_en
    assert "it may speak for: bz-ez" in refusal.message_en


async def test_over_http_an_integrations_token_speaks_only_for_its_own_school(bound: Bound) -> None:
    async def upload(integration: str, submission_id: str, body: dict[str, object]) -> int:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{bound.http_base}/submissions",
                json={**body, "submission_id": submission_id},
                headers={"Authorization": f"Bearer {TOKENS[integration]}"},
            )
        return response.status_code

    statuses = [
        await upload("school-a", "http-a-as-b", activity(SCHOOL_B, 5)),
        await upload("school-a", "http-a-own", activity(SCHOOL_A, 6)),
    ]

    assert statuses == [202, 202]
    assert await bound.outcome("http-a-as-b") == ("unit_not_permitted", "bz-zkzx")
    assert await bound.outcome("http-a-own") == ("accepted", "bz-ez")
    js = bound.admin.nc.jetstream()
    published_on = {(await js.get_msg(INBOUND, seq)).subject for seq in (1, 2)}
    assert published_on == {TOPOLOGY.subjects.integration_submission("school-a")}
