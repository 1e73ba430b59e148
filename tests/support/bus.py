"""Helpers to drive services over the bus in tests: publish events, collect what comes out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from duban.bus import wait_quiet
from duban_contracts.events import EVENT_TYPES, Event
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.service import ServiceRuntime


class Collector:
    """Collects every canonical event published under a namespace (core subscription, in order)."""

    def __init__(self, nc: Client) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._nc = nc
        self._sub: Subscription | None = None

    async def _on_message(self, msg: Msg) -> None:
        payload = json.loads(msg.data)
        model = EVENT_TYPES.get(payload.get("type", ""))
        if model is not None:
            self.events.append(model.model_validate(payload))
            self._changed.set()

    def of(self, event_type: str) -> list[Any]:
        return [e for e in self.events if e.event_type == event_type]

    async def wait_for(self, predicate: Callable[[Collector], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kinds = [e.event_type for e in self.events]
                raise TimeoutError(f"condition not met within {timeout}s; saw {len(kinds)} events: {kinds[-20:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))

    async def caught_up(self, topology: Topology, services: set[str], timeout: float = 120.0) -> None:
        """Everything `services` will publish is here: before asserting that something did NOT happen.

        The services' consumers are idle and their outboxes empty (`drained`), then one round trip
        to the server proves every message it sent before is in this client, and the subscription's
        queue is emptied into `events`.
        """
        await drained(self._nc, topology, services, timeout=timeout)
        await self._nc.flush()
        while self._sub is not None and self._sub.pending_msgs:  # noqa: ASYNC110 - the queue has no event
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def collecting(nc: Client, subjects: Subjects) -> AsyncIterator[Collector]:
    collector = Collector(nc)
    collector._sub = sub = await nc.subscribe(f"{subjects.namespace}.v1.>", cb=collector._on_message)
    try:
        yield collector
    finally:
        await sub.unsubscribe()


async def publish_event(nc: Client, subjects: Subjects, event: Event, *, dedupe: bool = True) -> None:
    """Publish as a service would (Nats-Msg-Id = event id); `dedupe=False` lets a duplicate through."""
    js = nc.jetstream()
    headers = {"Nats-Msg-Id": event.event_id} if dedupe else None
    ack = await js.publish(subjects.event(event.event_type), event.model_dump_json().encode(), headers=headers)
    assert ack.stream


@contextlib.asynccontextmanager
async def running(runtime: ServiceRuntime, drop: bool = True) -> AsyncIterator[ServiceRuntime]:
    """A service running in this process for the duration of the block; its schema dropped after."""
    await runtime.start()
    if runtime.settings.http_port:
        await runtime.start_http()
    try:
        yield runtime
    finally:
        await runtime.stop_http()
        await runtime.stop()
        if drop:
            await runtime.db.drop_schema()
            await runtime.db.dispose()


def utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def drained(
    nc: Client, topology: Topology, services: set[str], timeout: float = 120.0, settle: float = 0.3
) -> None:
    """Wait until the named services' consumers have nothing pending or unacknowledged, their outboxes
    are empty, and no stream moves for `settle` seconds (`duban.bus.wait_quiet` over those services)."""
    await wait_quiet(nc, topology, services=sorted(services), timeout=timeout, settle=settle)
