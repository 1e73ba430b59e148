"""End to end: the four services as processes over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client

from duban.bus import wait_quiet
from duban.isolated import isolated_stack
from duban_contracts.events import TargetStatus
from duban_contracts.rpc import AggregateQuery
from duban_contracts.subjects import Subjects
from tests.support.bus import collecting

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TARGET = "t07_school_building_new"


def progress(source: str, value: int, day: str) -> dict[str, object]:
    return {
        "kind": "progress",
        "source": source,
        "indicator": "新建中小学校舍",
        "value": value,
        "mode": "increment",
        "date": day,
    }


async def submit(nc: Client, subjects: Subjects, submission_id: str, body: dict[str, object]) -> None:
    await nc.jetstream().publish(
        subjects.inbound_submission,
        json.dumps(body, ensure_ascii=False).encode(),
        headers={"Nats-Msg-Id": submission_id},
    )


async def reports_summary(nc: Client, subjects: Subjects) -> dict[str, object]:
    reply = await nc.request(
        subjects.rpc("reports", "query"), AggregateQuery(name="summary").model_dump_json().encode(), timeout=10
    )
    return dict(json.loads(reply.data))


async def test_a_submission_flows_through_all_four_services(
    nc: Client, nats_url: str, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    subjects = Subjects(namespace)
    async with (
        isolated_stack(nats_url=nats_url, namespace=namespace, home=tmp_path, database_url=postgres_url) as stack,
        collecting(nc, subjects) as out,
    ):
        before = await reports_summary(nc, subjects)
        await submit(nc, subjects, "e2e-1", progress("巴中市第二中学", 15400, "2023-06-05"))
        await out.wait_for(
            lambda c: any(e.ref == TARGET and e.status is TargetStatus.DONE for e in c.of("task.status_changed"))
        )
        await wait_quiet(nc, stack.settings.topology)
        after = await reports_summary(nc, subjects)

    recorded = out.of("progress.recorded")
    assert [(e.target_id, e.value, e.submission_id) for e in recorded] == [(TARGET, 15400.0, "e2e-1")]
    assert before["progress_events"] == 0
    assert after["progress_events"] == 1
    assert after["targets_by_status"].get("done", 0) >= 1  # type: ignore[attr-defined]


async def test_a_killed_service_shows_in_health_and_resumes_without_loss_or_double_counting(
    nc: Client, nats_url: str, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    subjects = Subjects(namespace)
    async with (
        isolated_stack(nats_url=nats_url, namespace=namespace, home=tmp_path, database_url=postgres_url) as stack,
        collecting(nc, subjects) as out,
    ):
        assert stack.supervisor is not None
        tasks_port = stack.ports["tasks"]
        stack.supervisor.kill("tasks", signal.SIGKILL)
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.HTTPError):
                await http.get(f"http://127.0.0.1:{tasks_port}/healthz", timeout=1)
        # While tasks is down, ingest keeps accepting; tasks catches up from its durable consumer.
        for number, (school, value) in enumerate(
            [("巴中市第二中学", 5000), ("巴州区第七小学", 6000), ("巴中市第二中学", 4400)]
        ):
            await submit(nc, subjects, f"kill-{number}", progress(school, value, f"2023-0{number + 4}-10"))
        await out.wait_for(
            lambda c: any(e.ref == TARGET and e.status is TargetStatus.DONE for e in c.of("task.status_changed")),
            timeout=60,
        )
        await wait_quiet(nc, stack.settings.topology)
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{tasks_port}/readyz", timeout=5)
        log_text = (tmp_path / "var" / "log" / "tasks.log").read_text(encoding="utf-8")

    assert health.status_code == 200
    assert stack.supervisor.services["tasks"].restarts == 1
    assert '"service": "tasks"' in log_text
    done = [e for e in out.of("task.status_changed") if e.ref == TARGET and e.status is TargetStatus.DONE]
    assert len(done) == 1
    assert done[0].actual == 15400
    await asyncio.sleep(0)
