"""Waiting for the reports service to finish the reports it has queued."""

from __future__ import annotations

import asyncio
import json
import time

from nats.aio.client import Client

from duban_contracts.rpc import AggregateQuery
from duban_contracts.subjects import Subjects


async def wait_for_reports(nc: Client, subjects: Subjects, timeout: float = 600.0) -> list[dict[str, object]]:
    """Block until no report job is pending; returns every job."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await nc.request(
            subjects.rpc("reports", "query"), AggregateQuery(name="reports").model_dump_json().encode(), timeout=30
        )
        jobs: list[dict[str, object]] = json.loads(reply.data)["reports"]
        if all(job["status"] in ("done", "failed") for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise TimeoutError(f"reports still pending after {timeout}s")
        await asyncio.sleep(0.5)
