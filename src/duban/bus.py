"""The runtime's own NATS use: connecting, provisioning, the event-time clock, waiting for quiet."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
from nats.aio.client import Client

from duban_contracts.events import ClockTicked, derived_event_id
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology

from .settings import RuntimeSettings


@contextlib.asynccontextmanager
async def connect(settings: RuntimeSettings, url: str | None = None) -> AsyncIterator[Client]:
    options: dict[str, object] = {"name": "duban-runtime", "max_reconnect_attempts": -1, "reconnect_time_wait": 1}
    if settings.nats_user and settings.nats_password is not None:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_creds_file is not None:
        options["user_credentials"] = str(settings.nats_creds_file)
    if settings.nats_inbox_prefix:
        options["inbox_prefix"] = settings.nats_inbox_prefix
    target = url or settings.nats_url
    if not target:
        raise RuntimeError("no NATS to talk to: set DUBAN_NATS_URL, or run `duban up` first")
    client = await nats.connect(target, **options)
    try:
        yield client
    finally:
        await client.drain()


def tick(at: datetime, mode: str = "live") -> ClockTicked:
    at = at.astimezone(UTC)
    return ClockTicked(
        event_id=derived_event_id("clock.ticked", at.isoformat()),
        occurred_at=at,
        recorded_at=datetime.now(UTC),
        source="runtime",
        mode=mode,
    )


async def publish_tick(nc: Client, subjects: Subjects, at: datetime, mode: str = "live") -> None:
    event = tick(at, mode)
    await nc.jetstream().publish(
        subjects.event("clock.ticked"), event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.event_id}
    )


async def live_clock(nc: Client, subjects: Subjects, interval: float) -> None:
    """Tick on the wall clock, at the start of every interval (each minute by default)."""
    while True:
        now = datetime.now(UTC)
        await publish_tick(nc, subjects, now.replace(microsecond=0))
        await asyncio.sleep(interval - (time.time() % interval))


async def backlog(nc: Client, topology: Topology) -> tuple[int, int]:
    """(messages not yet delivered, messages delivered but not acknowledged) over every consumer."""
    js = nc.jetstream()
    pending = ack_pending = 0
    for consumer in topology.consumers:
        info = await js.consumer_info(consumer.stream, consumer.durable)
        pending += info.num_pending or 0
        ack_pending += info.num_ack_pending or 0
    return pending, ack_pending


async def stream_heads(nc: Client, topology: Topology) -> tuple[int, ...]:
    js = nc.jetstream()
    heads = []
    for spec in topology.streams.values():
        info = await js.stream_info(spec.name)
        heads.append(info.state.last_seq)
    return tuple(heads)


async def wait_quiet(nc: Client, topology: Topology, *, timeout: float = 120.0, settle: float = 0.3) -> None:
    """Wait until every consumer has caught up and no service has published anything for `settle` s.

    Services publish from their outboxes right after they commit; a consumer at zero with the streams'
    heads unchanged across the settle interval means the cascade (ingest → tasks → alerts → reports)
    has run its course.
    """
    deadline = time.monotonic() + timeout
    while True:
        pending, ack_pending = await backlog(nc, topology)
        heads = await stream_heads(nc, topology)
        if pending == 0 and ack_pending == 0:
            await asyncio.sleep(settle)
            pending, ack_pending = await backlog(nc, topology)
            if pending == 0 and ack_pending == 0 and await stream_heads(nc, topology) == heads:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the pipeline did not go quiet within {timeout}s ({pending} pending, {ack_pending} unacknowledged)"
            )
        await asyncio.sleep(0.05)
