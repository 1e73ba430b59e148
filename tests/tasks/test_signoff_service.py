"""销号 over real NATS and a real database: a target at 已完成 waits for its section; CLI path and HTTP."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client

from duban.isolated import free_port
from duban_contracts.events import TargetStatus, TaskStatusChanged, derived_event_id
from duban_contracts.rpc import SignOffCommand
from duban_contracts.topology import Topology
from duban_tasks.app import create_app
from duban_tasks.config import TasksSettings
from tests.support.bus import collecting, publish_event, running

TARGET = "t07_school_building_new"  # 新建中小学校舍 15400 平方米, owned by 计划财务股
AT = datetime.fromisoformat("2023-11-20T18:00:00+08:00")


def done(actual: float) -> TaskStatusChanged:
    return TaskStatusChanged(
        event_id=derived_event_id("signoff-test", actual),
        occurred_at=AT,
        recorded_at=AT,
        source="tasks",
        level="target",
        ref=TARGET,
        title="新建中小学校舍",
        status=TargetStatus.DONE,
        completion=1.0,
        expected=0.9,
        actual=actual,
        target_value=15400,
        revision=9,
    )


async def ask(nc: Client, topology: Topology, command: SignOffCommand) -> dict[str, Any]:
    reply = await nc.request(topology.subjects.rpc("tasks", "signoff"), command.model_dump_json().encode(), timeout=10)
    return dict(json.loads(reply.data))


async def test_a_reached_target_waits_for_its_section_which_returns_it_with_a_reason_then_approves_it(
    nc: Client, nats_url: str, database_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    port = free_port()
    tasks = create_app(
        TasksSettings(
            nats_url=nats_url,
            namespace=namespace,
            database_url=database_url,
            home=tmp_path,
            http_port=port,
            api_tokens="adm1n-t0ken-for-tests-0001:admin:局长,0per-t0ken-for-tests-0002:operator:李科长",
        )
    )
    async with collecting(nc, topology.subjects) as out, running(tasks):
        await publish_event(nc, topology.subjects, done(15800))
        await out.caught_up(topology, {"tasks"})
        pending = await ask(nc, topology, SignOffCommand(action="list", pending_only=True))
        wrong = await ask(
            nc, topology, SignOffCommand(action="approve", target_id=TARGET, actor="王五", section="体育股")
        )
        no_reason = await ask(
            nc, topology, SignOffCommand(action="return", target_id=TARGET, actor="李科长", section="计划财务股")
        )
        returned = await ask(
            nc,
            topology,
            SignOffCommand(
                action="return", target_id=TARGET, actor="李科长", section="计划财务股", reason="缺竣工验收材料"
            ),
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            reader = await http.post(f"/api/signoff/{TARGET}", json={"action": "resubmit"})
            resubmitted = await http.post(
                f"/api/signoff/{TARGET}",
                json={"action": "resubmit", "reason": "已补充验收材料"},
                headers={"Authorization": "Bearer 0per-t0ken-for-tests-0002"},
            )
            approved = await http.post(
                f"/api/signoff/{TARGET}",
                json={"action": "approve", "section": "计划财务股"},
                headers={"Authorization": "Bearer 0per-t0ken-for-tests-0002"},
            )
            listing = await http.get("/api/signoff", headers={"Authorization": "Bearer adm1n-t0ken-for-tests-0001"})
        await out.wait_for(lambda c: len(c.of("target.signed_off")) == 4)

    assert [a["target_id"] for a in pending["approvals"]] == [TARGET]
    assert pending["approvals"][0]["state_zh"] == "待审核"
    assert wrong["error"] == "not_allowed" and "计划财务股" in wrong["message_zh"]
    assert no_reason["error"] == "reason_required"
    assert returned["approval"]["state"] == "returned"
    assert reader.status_code == 401
    assert resubmitted.status_code == 200 and resubmitted.json()["approval"]["state"] == "pending"
    assert approved.status_code == 200
    (signed,) = listing.json()["approvals"]
    assert (signed["state"], signed["approved"], signed["self_reported"], signed["approved_by"]) == (
        "approved",
        15800,
        15800,
        "李科长",
    )
    announced = [(e.state, e.steps, e.approved) for e in out.of("target.signed_off")]
    assert announced == [("pending", 1, None), ("returned", 2, None), ("pending", 3, None), ("approved", 4, 15800)]
    trail = [(step["action"], step["actor"], step["reason"]) for step in signed["trail"]]
    assert trail == [
        ("reached", "system", None),
        ("returned", "李科长", "缺竣工验收材料"),
        ("resubmitted", "李科长", "已补充验收材料"),
        ("approved", "李科长", None),
    ]
