"""The stored history: every canonical event of a namespace's EVENTS stream, read once in stream order."""

from __future__ import annotations

import json

from nats.aio.client import Client
from nats.js.api import DeliverPolicy

from duban_contracts.events import EVENT_TYPES, Event
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology


async def stored_events(nc: Client, subjects: Subjects, *, timeout: float = 10.0) -> list[Event]:
    """Every event in the stream now (an ephemeral ordered consumer: nothing is acknowledged or kept).

    Messages of unknown types (a newer version) are skipped, as a tolerant reader does.
    """
    js = nc.jetstream()
    stream = Topology(subjects).streams["events"].name
    info = await js.stream_info(stream)
    last = info.state.last_seq
    if not info.state.messages:
        return []
    sub = await js.subscribe(
        f"{subjects.namespace}.v1.>", stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    events: list[Event] = []
    try:
        while True:
            msg = await sub.next_msg(timeout=timeout)
            payload = json.loads(msg.data)
            model = EVENT_TYPES.get(payload.get("type", "")) if isinstance(payload, dict) else None
            if model is not None:
                events.append(model.model_validate(payload))
            if msg.metadata.sequence.stream >= last:
                return events
    finally:
        await sub.unsubscribe()
