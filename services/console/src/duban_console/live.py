"""Live changes for the browser: a core NATS subscription to `<ns>.v1.>` fanned out to SSE listeners.

Each listener gets a bounded queue of small notices (the event's type and the ids a page may care
about); a slow browser loses notices rather than slowing the console, and a page only needs to know
that something it shows changed. Request subjects (`<ns>.v1.<service>.<verb>`) share the prefix and
are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from duban_contracts.subjects import Subjects

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
CLOSED: dict[str, Any] = {"type": "closed"}


def notice(event_type: str, data: bytes) -> dict[str, Any]:
    """What a page needs to decide whether to refresh: the type and the ids it shows."""
    try:
        body = json.loads(data)
    except ValueError:
        return {"type": event_type}
    if not isinstance(body, dict):
        return {"type": event_type}
    provenance = body.get("provenance") or {}
    found: dict[str, Any] = {
        "type": event_type,
        "alert_id": body.get("alert_id"),
        "report_id": body.get("report_id"),
        "submission_id": body.get("submission_id"),
        "file_id": provenance.get("file_id") if isinstance(provenance, dict) else None,
        "state": body.get("state"),
    }
    return {key: value for key, value in found.items() if value is not None}


class LiveFeed:
    def __init__(self, subjects: Subjects) -> None:
        self.subjects = subjects
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._subscriptions: list[Subscription] = []
        self.dropped = 0

    async def start(self, nc: Client) -> None:
        # One subscription per event subject, not `<ns>.v1.>`: that would also take the services'
        # requests, and the console's NATS user (deploy/nats) may subscribe to the events only.
        self._subscriptions = [
            await nc.subscribe(subject, cb=self._on_message) for subject in self.subjects.all_events()
        ]

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions = []
        for queue in list(self._listeners):
            self._offer(queue, CLOSED)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def _on_message(self, msg: Msg) -> None:
        if not self._listeners:
            return
        event_type = self.subjects.event_type_of(msg.subject)
        if event_type is None:
            return
        item = notice(event_type, msg.data)
        for queue in list(self._listeners):
            self._offer(queue, item)

    def _offer(self, queue: asyncio.Queue[dict[str, Any]], item: dict[str, Any]) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._listeners.add(queue)
        try:
            yield queue
        finally:
            self._listeners.discard(queue)
