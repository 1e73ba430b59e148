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
from nats.aio.msg import Msg
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
    heads: tuple[int, ...]  # each stream's last sequence, after the consumers and outboxes were looked at
    unpublished: int = 0  # events committed to outboxes but not yet in JetStream
    background: int = 0  # work the events started and the services still do (reports being rendered)
    heads_before: tuple[int, ...] | None = None  # each stream's last sequence before the look began

    @property
    def idle(self) -> bool:
        """Nothing pending, unacknowledged, unpublished or being worked on."""
        return self.flowing_stopped and self.background == 0

    @property
    def flowing_stopped(self) -> bool:
        """Nothing pending, unacknowledged or unpublished: no message is on its way anywhere."""
        return self.pending == 0 and self.ack_pending == 0 and self.unpublished == 0

    @property
    def consistent(self) -> bool:
        """No stream grew while the look was taken, so its parts describe one instant.

        The look reads the stream heads, then every consumer, then every outbox, then the heads
        again. A consumer acknowledges a message only after committing the events it caused to its
        outbox; those events are in the outbox (seen) or already published (the heads moved). A
        message published before the look shows as pending at its consumer. So a consistent idle
        look proves the pipeline quiet; an inconsistent one proves nothing and is taken again.
        """
        return self.heads_before is not None and self.heads_before == self.heads


async def pipeline_state(nc: Client, topology: Topology, services: Iterable[str] = SERVICES) -> PipelineState:
    """Stream heads, then the consumers of `services`, then their outboxes, then the heads again.

    Consumers are listed per stream (one request each) where the connection may list them, else asked
    for one by one (a least-privilege user may only read its own consumers' info). Each part is asked
    for all at once; the order of the parts is what makes one look enough (`PipelineState.consistent`).
    While a consumer still has messages to work through, the look stops there, without the heads
    or the outboxes (they could not make it idle, and the busy services would have to answer).
    """
    services = tuple(services)
    busy = _busy(await _consumer_infos(nc, topology, services))
    if busy is not None:
        return busy
    before = await _stream_heads(nc, topology)
    consumers = await _consumer_infos(nc, topology, services)
    busy = _busy(consumers, before)
    if busy is not None:
        return busy
    statuses = await asyncio.gather(*(_service_status(nc, topology.subjects, service) for service in services))
    after = await _stream_heads(nc, topology)
    return PipelineState(
        pending=0,
        ack_pending=0,
        heads=after,
        unpublished=sum(status.outbox_pending for status in statuses),
        background=sum(status.work_pending for status in statuses),
        heads_before=before,
    )


def _busy(consumers: list[ConsumerInfo], heads: tuple[int, ...] = ()) -> PipelineState | None:
    pending = sum(info.num_pending or 0 for info in consumers)
    ack_pending = sum(info.num_ack_pending or 0 for info in consumers)
    return PipelineState(pending, ack_pending, heads) if pending or ack_pending else None


async def _stream_heads(nc: Client, topology: Topology) -> tuple[int, ...]:
    js = nc.jetstream()
    infos = await asyncio.gather(*(js.stream_info(spec.name) for spec in topology.streams.values()))
    return tuple(info.state.last_seq for info in infos)


async def _service_status(nc: Client, subjects: Subjects, service: str) -> ServiceStatus:
    reply = await nc.request(subjects.rpc(service, "status"), b"{}", timeout=STATUS_TIMEOUT)
    return ServiceStatus.model_validate_json(reply.data)


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
    background: bool = True,
    activity: Activity | None = None,
) -> None:
    """Wait until every consumer has caught up and every outbox is empty, and no stream has grown for `settle` s.

    "Quiet" is every durable consumer at 0 pending and 0 unacknowledged, nothing committed but
    unpublished in the outboxes of `services` (the ones running) and — unless `background` is False
    — no background work going on in them (reports being rendered), all seen in one consistent look
    (`PipelineState.consistent`): then the cascade (ingest → tasks → alerts → reports) has run its
    course. With `settle` 0 that one look is enough; otherwise the heads must also stay put across a
    whole settle interval, looked at every `poll` seconds (for callers that also wait out retries
    scheduled for later). A question that gets no answer in time — a stream leader being elected, a
    service restarting, NATS reconnecting — means "not yet", asked again until `timeout`: the wait
    fails only on its own deadline, never on a slow answer.

    With `activity` (an `Activity` watching the streams' acknowledgements), a look that is not yet
    quiet is taken again once the consumers have paused acknowledging, rather than every `poll`
    seconds: the looks — requests the busy services would answer — drop from dozens to a few.
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
        quiet = state is not None and state.consistent and (state.idle if background else state.flowing_stopped)
        if state is None or not quiet:
            quiet_since = None
        elif quiet_since is None or last is None or state.heads != last.heads:
            quiet_since = now
        if quiet_since is not None and now - quiet_since >= settle:
            return
        last = state or last
        if now > deadline:
            seen = (
                f"{state.pending} pending, {state.ack_pending} unacknowledged, {state.unpublished} unpublished, "
                f"{state.background} in the background"
                if state is not None
                else f"no answer: {unanswered!r}"
            )
            raise TimeoutError(f"the pipeline did not go quiet within {timeout}s ({seen})")
        if activity is not None and settle == 0:
            await activity.paused()
        else:
            await asyncio.sleep(poll)


class Activity:
    """When the consumers last acknowledged a message: a hint of when to look at the pipeline again.

    A plain subscription to the streams' acknowledgement subjects (`$JS.ACK.<stream>.>`), which
    JetStream consumers publish to. Only a hint, never a proof: `wait_quiet` still decides on a
    consistent look. Where the connection may not subscribe there (a least-privilege user), no
    acknowledgement is ever seen and `paused` falls back to waiting `fallback` seconds.
    """

    def __init__(self, *, pause: float = 0.002, fallback: float = 0.05) -> None:
        self.pause = pause
        self.fallback = fallback
        self.last_ack = 0.0
        self.acks = 0
        self._acked = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def watching(cls, nc: Client, topology: Topology, **options: float) -> AsyncIterator[Activity]:
        activity = cls(**options)
        subscriptions = [
            await nc.subscribe(f"$JS.ACK.{spec.name}.>", cb=activity._on_ack) for spec in topology.streams.values()
        ]
        try:
            yield activity
        finally:
            for subscription in subscriptions:
                with contextlib.suppress(NatsError):
                    await subscription.unsubscribe()

    async def _on_ack(self, _msg: Msg) -> None:
        self.last_ack = time.monotonic()
        self.acks += 1
        self._acked.set()

    async def paused(self) -> None:
        """Until an acknowledgement came and then none for `pause` seconds, or `fallback` seconds passed."""
        deadline = time.monotonic() + self.fallback
        wait = self.fallback
        while wait > 0:
            self._acked.clear()
            try:
                await asyncio.wait_for(self._acked.wait(), timeout=wait)
            except TimeoutError:
                return  # the first: no acknowledgement at all; after: the consumers paused
            wait = min(self.pause, deadline - time.monotonic())
