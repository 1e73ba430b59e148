"""A known set of submissions, and checks that every accepted one took effect exactly once."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client

from duban_contracts.reporting_units import load_reporting_units
from duban_contracts.rpc import AggregateQuery, AlertsQuery, StatusQuery
from duban_contracts.subjects import Subjects

#: Additive targets the submissions report against (base unit 平方米, 人次, 人).
TARGETS = {
    "新建中小学校舍": "t07_school_building_new",
    "维修改造校舍": "t07_school_building_repair",
    "新增运动场地": "t07_sports_ground_new",
}


@dataclass
class Workload:
    """Submissions with unique ids, and what they must add up to."""

    items: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    drownings: int = 0

    @property
    def ids(self) -> list[str]:
        return [submission_id for submission_id, _ in self.items]


def workload(prefix: str, count: int, *, drownings: int = 0, seed: int = 7) -> Workload:
    rng = random.Random(seed)
    schools = [u.name for u in load_reporting_units().units if u.kind == "school"]
    load = Workload()
    for n in range(count):
        indicator = rng.choice(list(TARGETS))
        value = rng.randint(1, 9)
        day = f"2023-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        body: dict[str, object] = {
            "kind": "progress",
            "source": schools[n % len(schools)],
            "indicator": indicator,
            "value": value,
            "mode": "increment",
            "date": day,
            "note": f"#{n}",
        }
        load.items.append((f"{prefix}-p{n}", body))
        load.totals[TARGETS[indicator]] += value
    for n in range(drownings):
        at = f"2023-07-{1 + n % 28:02d} 1{n % 10}:00"
        body = {
            "kind": "incident",
            "source": schools[(7 * n) % len(schools)],
            "category": "溺水",
            "deaths": 1,
            "occurred_at": at,
            "reported_at": at.replace(":00", ":30"),
            "summary": f"#{n}",
        }
        load.items.append((f"{prefix}-d{n}", body))
    load.drownings = drownings
    return load


async def publish(
    nc: Client, subjects: Subjects, items: list[tuple[str, dict[str, object]]], *, retry_for: float = 60.0
) -> set[str]:
    """Publish each submission until JetStream acknowledges it; returns the ids it acknowledged."""
    js = nc.jetstream()
    acked: set[str] = set()
    loop = asyncio.get_running_loop()
    for submission_id, body in items:
        deadline = loop.time() + retry_for
        while True:
            try:
                await js.publish(
                    subjects.inbound_submission,
                    json.dumps(body, ensure_ascii=False).encode(),
                    headers={"Nats-Msg-Id": submission_id},
                    timeout=2,
                )
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            acked.add(submission_id)
            break
    return acked


async def request(nc: Client, subject: str, body: Any, timeout: float = 15.0) -> Any:
    payload = body.model_dump_json().encode() if hasattr(body, "model_dump_json") else json.dumps(body).encode()
    reply = await nc.request(subject, payload, timeout=timeout)
    return json.loads(reply.data)


async def actuals(nc: Client, subjects: Subjects) -> dict[str, float]:
    reply = await request(nc, subjects.rpc("tasks", "query"), StatusQuery())
    found: dict[str, float] = {}

    def walk(view: dict[str, Any]) -> None:
        if view["level"] == "target" and view["ref"] in TARGETS.values():
            found[view["ref"]] = view["actual"] or 0.0
        for child in view.get("children", []):
            walk(child)

    walk(reply["view"])
    return found


async def safety_alerts(nc: Client, subjects: Subjects) -> int:
    reply = await request(
        nc, subjects.rpc("alerts", "query"), AlertsQuery(state="all", rule="safety_incident", limit=10_000)
    )
    return len(reply["alerts"])


async def reported_progress(nc: Client, subjects: Subjects) -> int:
    reply = await request(nc, subjects.rpc("reports", "query"), AggregateQuery(name="summary"))
    return int(reply["progress_events"])


async def distinct_event_ids(nc: Client, stream: str, subject: str) -> tuple[int, int]:
    """(messages on `subject`, distinct event ids among them)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(subject, stream=stream)
    total, ids = 0, set()
    try:
        while True:
            try:
                messages = await sub.fetch(500, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                break
            for message in messages:
                total += 1
                ids.add(json.loads(message.data)["event_id"])
                await message.ack()
    finally:
        await sub.unsubscribe()
    return total, len(ids)


async def assert_exactly_once(nc: Client, subjects: Subjects, load: Workload) -> None:
    """Every accepted submission's effect, once: sums per target, alerts, facts, events on the stream."""
    assert await actuals(nc, subjects) == {k: float(v) for k, v in load.totals.items()}
    progress_count = len(load.items) - load.drownings
    assert await reported_progress(nc, subjects) == progress_count
    assert await safety_alerts(nc, subjects) == load.drownings
    events = subjects.stream_name("EVENTS")
    total, distinct = await distinct_event_ids(nc, events, subjects.event("progress.recorded"))
    assert distinct == progress_count, "an accepted submission produced no event, or an invented one appeared"
    assert total == distinct, "a canonical event was stored twice"
