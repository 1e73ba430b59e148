"""A running `duban up` stack with some traffic through it, for the checks that scrape real `/metrics`.

No tests here. `loaded_stack` starts the four services as processes (SQLite, the session's NATS, an
own namespace) and sends what makes every labelled metric carry samples: progress, a drowning with a
death (a critical alert and its notification), an invalid submission (a rejection code), and one
report requested by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from nats.aio.client import Client
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from duban.bus import wait_quiet
from duban.isolated import isolated_stack
from duban.runtime import Stack
from duban_contracts.rpc import CommandReply, ReportRequest
from duban_contracts.subjects import Subjects

SUBMISSIONS: dict[str, dict[str, object]] = {
    "ops-progress": {
        "kind": "progress",
        "source": "巴中市第二中学",
        "indicator": "新建中小学校舍",
        "value": 5000,
        "mode": "increment",
        "date": "2023-04-20",
    },
    "ops-drowning": {
        "kind": "incident",
        "source": "巴州区第七小学",
        "category": "溺水",
        "grade": "一般",
        "deaths": 1,
        "injuries": 0,
        "occurred_at": "2023-05-02 17:10",
        "reported_at": "2023-05-02 17:40",
        "summary": "学生课后在河边溺水",
    },
    "ops-unknown-school": {
        "kind": "progress",
        "source": "不存在的学校",
        "indicator": "新建中小学校舍",
        "value": 100,
        "date": "2023-05-01",
    },
}


async def submit_all(nc: Client, subjects: Subjects, submissions: dict[str, dict[str, object]]) -> None:
    js = nc.jetstream()
    for submission_id, body in submissions.items():
        await js.publish(
            subjects.inbound_submission,
            json.dumps(body, ensure_ascii=False).encode(),
            headers={"Nats-Msg-Id": submission_id},
        )


async def request_report(nc: Client, subjects: Subjects, period: str = "2023-05") -> str:
    request = ReportRequest(period=period, formats=["md"])
    reply = await nc.request(subjects.rpc("reports", "generate"), request.model_dump_json().encode(), timeout=10)
    answer = CommandReply.model_validate_json(reply.data)
    assert answer.ok, answer.message
    return str(answer.data["report_id"])


def families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


async def scrape(url: str) -> str:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(url)
    response.raise_for_status()
    return response.text


async def scrape_when(url: str, ready: Callable[[dict[str, Metric]], bool], timeout: float = 30.0) -> str:
    """The exposition at `url` once `ready` holds for it, or the last one after `timeout` seconds
    (metrics fed by background work — notifications, reports, consumer info — come a little later)."""
    deadline = time.monotonic() + timeout
    while True:
        text = await scrape(url)
        if ready(families(text)) or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.25)


def has_samples(family: Metric | None) -> bool:
    return family is not None and any(not s.name.endswith("_created") for s in family.samples)


@contextlib.asynccontextmanager
async def loaded_stack(nc: Client, nats_url: str, namespace: str, home: Path) -> AsyncIterator[Stack]:
    """The four services with traffic through them; scheduled reports off so only the requested one runs."""
    no_schedule = {f"DUBAN_REPORTS_SCHEDULE_{kind}": "" for kind in ("WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL")}
    extra = {**no_schedule, "DUBAN_ALERTS_NOTIFY_INTERVAL_SECONDS": "0.2", "DUBAN_CONSUMER_INFO_INTERVAL_SECONDS": "1"}
    async with isolated_stack(nats_url=nats_url, namespace=namespace, home=home, extra_env=extra) as stack:
        subjects = stack.settings.subjects
        await submit_all(nc, subjects, SUBMISSIONS)
        await wait_quiet(nc, stack.settings.topology, timeout=60)
        await request_report(nc, subjects)
        yield stack
