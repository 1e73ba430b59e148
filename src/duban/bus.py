"""The runtime's own NATS use: connecting, provisioning, the event-time clock, waiting for quiet."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerInfo

from duban_contracts.events import ClockTicked, derived_event_id
from duban_contracts.rpc import ServiceStatus
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology

from .settings import SERVICES, RuntimeSettings

#: How long one look waits for a service's status before counting it as "not yet".
STATUS_TIMEOUT = 2.0


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
    client = await nats.connect(servers=[u.strip() for u in target.split(",")], **options)
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


@dataclass(frozen=True)
class PipelineState:
    """One look at every durable consumer, stream and outbox."""

    pending: int  # messages not yet delivered, over every consumer
    ack_pending: int  # messages delivered but not acknowledged
    heads: tuple[int, ...]  # each stream's last sequence
    unpublished: int = 0  # events committed to outboxes but not yet in JetStream, and work still going on

    @property
    def idle(self) -> bool:
        return self.pending == 0 and self.ack_pending == 0 and self.unpublished == 0


async def pipeline_state(nc: Client, topology: Topology, services: Iterable[str] = SERVICES) -> PipelineState:
    """The consumers and outboxes of `services` and every stream's head, asked for all at once.

    Consumers are listed per stream (one request each) where the connection may list them, else asked
    for one by one (a least-privilege user may only read its own consumers' info).
    """
    js = nc.jetstream()
    services = tuple(services)
    streams, consumers, outboxes = await asyncio.gather(
        asyncio.gather(*(js.stream_info(spec.name) for spec in topology.streams.values())),
        _consumer_infos(nc, topology, services),
        asyncio.gather(*(_outbox_pending(nc, topology.subjects, service) for service in services)),
    )
    return PipelineState(
        pending=sum(info.num_pending or 0 for info in consumers),
        ack_pending=sum(info.num_ack_pending or 0 for info in consumers),
        heads=tuple(info.state.last_seq for info in streams),
        unpublished=sum(outboxes),
    )


async def _outbox_pending(nc: Client, subjects: Subjects, service: str) -> int:
    reply = await nc.request(subjects.rpc(service, "status"), b"{}", timeout=STATUS_TIMEOUT)
    status = ServiceStatus.model_validate_json(reply.data)
    return status.outbox_pending + status.work_pending


async def _consumer_infos(nc: Client, topology: Topology, services: tuple[str, ...]) -> list[ConsumerInfo]:
    js = nc.jetstream()
    wanted = {(c.stream, c.durable) for c in topology.consumers if c.service in services}
    if nc not in _CANNOT_LIST:
        try:
            listed = await asyncio.gather(*(js.consumers_info(stream) for stream in sorted({s for s, _ in wanted})))
        except NatsError as error:
            if isinstance(error, NatsTimeoutError):
                raise
            _CANNOT_LIST.add(nc)
        else:
            found = [info for infos in listed for info in infos if (info.stream_name, info.name) in wanted]
            if len(found) == len(wanted):
                return found
    return list(await asyncio.gather(*(js.consumer_info(stream, durable) for stream, durable in sorted(wanted))))


#: Connections whose user may not list consumers (they ask for each consumer's info instead).
_CANNOT_LIST: weakref.WeakSet[Client] = weakref.WeakSet()


async def wait_quiet(
    nc: Client,
    topology: Topology,
    *,
    services: Iterable[str] = SERVICES,
    timeout: float = 120.0,
    settle: float = 0.3,
    poll: float = 0.02,
) -> None:
    """Wait until every consumer has caught up, every outbox is empty, and no stream has grown for `settle` s.

    "Quiet" is every durable consumer at 0 pending and 0 unacknowledged, nothing committed but
    unpublished in the outboxes of `services` (the ones running), and no stream head moving across a
    whole settle interval, looked at every `poll` seconds — then the cascade (ingest → tasks → alerts →
    reports) has run its course. Any delivery, acknowledgement or publish within the interval starts
    it again. A question that gets no answer in time — a stream leader being elected, a service
    restarting, NATS reconnecting — means "not yet", asked again until `timeout`: the wait fails only
    on its own deadline, never on a slow answer.
    """
    services = tuple(services)
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    last: PipelineState | None = None
    unanswered: BaseException | None = None
    while True:
        try:
            state: PipelineState | None = await asyncio.wait_for(
                pipeline_state(nc, topology, services), timeout=max(poll, deadline - time.monotonic())
            )
        except (NatsError, TimeoutError) as error:  # not yet; the deadline decides
            state, unanswered = None, error
        now = time.monotonic()
        if state is None or not state.idle:
            quiet_since = None
        elif quiet_since is None or last is None or state.heads != last.heads:
            quiet_since = now
        elif now - quiet_since >= settle:
            return
        last = state or last
        if now > deadline:
            seen = (
                f"{state.pending} pending, {state.ack_pending} unacknowledged, {state.unpublished} unpublished"
                if state is not None
                else f"no answer: {unanswered!r}"
            )
            raise TimeoutError(f"the pipeline did not go quiet within {timeout}s ({seen})")
        await asyncio.sleep(poll)
