"""ingest reads who a submission speaks as from its subject and holds it to the units it may speak for
(over real NATS, without NATS permissions: tests/ops/test_integration_binding.py adds those)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from nats.aio.client import Client

from duban_contracts.rpc import CommandReply
from duban_contracts.topology import Topology
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from tests.support.bus import collecting, running

OWN_SCHOOL = "巴中市第二中学"  # bz-ez
OTHER_SCHOOL = "巴州区曾口中学"  # bz-zkzx, township 曾口镇


def activity(source: str, day: int = 5) -> bytes:
    """An activity; a different `day` makes different content (the same content twice is a duplicate)."""
    body = {"kind": "activity", "source": source, "activity": "安全教育周", "date": f"2023-06-{day:02d}"}
    return json.dumps(body, ensure_ascii=False).encode()


def settings(nats_url: str, namespace: str, tmp_path: Path, integrations: Path | None) -> IngestSettings:
    return IngestSettings(
        nats_url=nats_url,
        namespace=namespace,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        integrations_file=integrations,
    )


def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.yaml"
    document = {"integrations": {"bz-ez-campus": ["bz-ez"], "district-platform": "*"}}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


async def test_an_integration_on_its_own_subject_submits_for_its_units_only(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    subjects = topology.subjects
    own = subjects.integration_submission("bz-ez-campus")
    runtime = create_app(settings(nats_url, namespace, tmp_path, registry_file(tmp_path)))
    js = nc.jetstream()
    async with collecting(nc, subjects) as out, running(runtime):
        await js.publish(own, activity(OWN_SCHOOL), headers={"Nats-Msg-Id": "own-unit"})
        await js.publish(own, activity(OTHER_SCHOOL), headers={"Nats-Msg-Id": "other-unit"})
        stranger = subjects.integration_submission("stranger")
        await js.publish(stranger, activity(OWN_SCHOOL), headers={"Nats-Msg-Id": "unregistered"})
        everywhere = subjects.integration_submission("district-platform")
        await js.publish(everywhere, activity(OTHER_SCHOOL, 6), headers={"Nats-Msg-Id": "platform"})
        shared = subjects.inbound_submission
        await js.publish(shared, activity(OTHER_SCHOOL, 7), headers={"Nats-Msg-Id": "shared"})
        await out.wait_for(lambda c: len(c.of("activity.recorded")) + len(c.of("submission.rejected")) == 5)

    accepted = {e.submission_id: e.unit.id for e in out.of("activity.recorded")}
    rejected = {e.submission_id: e for e in out.of("submission.rejected")}
    assert accepted == {"own-unit": "bz-ez", "platform": "bz-zkzx", "shared": "bz-zkzx"}
    assert {key: e.code for key, e in rejected.items()} == {
        "other-unit": "unit_not_permitted",
        "unregistered": "unit_not_permitted",
    }
    refusal = rejected["other-unit"]
    assert (refusal.unit_id, refusal.value) == ("bz-zkzx", OTHER_SCHOOL)
    assert "integration 'bz-ez-campus' may not submit for bz-zkzx" in refusal.message_en
    assert "it may speak for: bz-ez" in refusal.message_en


async def test_without_a_registry_every_subject_is_open_to_every_unit(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    subjects = topology.subjects
    runtime = create_app(settings(nats_url, namespace, tmp_path, None))
    js = nc.jetstream()
    async with collecting(nc, subjects) as out, running(runtime):
        own = subjects.integration_submission("bz-ez-campus")
        await js.publish(own, activity(OTHER_SCHOOL), headers={"Nats-Msg-Id": "open-1"})
        shared = subjects.inbound_submission
        await js.publish(shared, activity(OTHER_SCHOOL, 6), headers={"Nats-Msg-Id": "open-2"})
        await out.wait_for(lambda c: len(c.of("activity.recorded")) + len(c.of("submission.rejected")) == 2)

    assert sorted(e.submission_id for e in out.of("activity.recorded")) == ["open-1", "open-2"]


async def test_a_replayed_submission_is_judged_as_the_integration_that_sent_it(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    """`duban ingest replay` reads the raw message back: its subject still says who sent it."""
    subjects = topology.subjects
    runtime = create_app(settings(nats_url, namespace, tmp_path, registry_file(tmp_path)))
    own = subjects.integration_submission("bz-ez-campus")
    async with collecting(nc, subjects) as out, running(runtime):
        await nc.jetstream().publish(own, activity(OTHER_SCHOOL), headers={"Nats-Msg-Id": "replayed"})
        await out.wait_for(lambda c: len(c.of("submission.rejected")) == 1)
        reply = await runtime.broker.request({"submission_id": "replayed"}, subject=subjects.rpc("ingest", "replay"))
        await out.wait_for(lambda c: len(c.of("submission.rejected")) == 2)
        await out.caught_up(topology, {"ingest"})  # before asserting that nothing else came out

    answer = CommandReply.model_validate_json(reply.body)
    assert answer.ok is False
    assert "unit_not_permitted" in answer.message
    assert [e.code for e in out.of("submission.rejected")] == ["unit_not_permitted"] * 2
    assert out.of("activity.recorded") == []
