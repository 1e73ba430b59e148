"""The bus's own limit on this machine: nats-py straight to JetStream, no service code.

Every measurement uses a fresh file-backed stream with the same duplicate window as duban's streams,
a `Nats-Msg-Id` on every message (as duban publishes them), and payloads of the size and shape of a
real inbound submission and a real canonical event. For comparison it also runs FastStream's pull
consumer with a pydantic model (no database) and the kit's `BatchConsumer` with a no-op apply (the
services' seam), so the chassis' own cost shows apart from the database's.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from prometheus_client import CollectorRegistry

from duban_contracts.events import ProgressRecorded
from duban_kit.consumer import BatchConsumer, DeliveryPolicy
from duban_kit.metrics import ServiceMetrics

DUPLICATE_WINDOW_SECONDS = 600.0


@dataclass(frozen=True)
class Rate:
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("nan")


@dataclass(frozen=True)
class Latency:
    samples: list[float]  # seconds

    def percentile(self, q: float) -> float:
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def max(self) -> float:
        return max(self.samples) if self.samples else float("nan")


def median_rate(rates: Sequence[Rate]) -> Rate:
    return sorted(rates, key=lambda r: r.per_second)[len(rates) // 2]


class RawBus:
    """One connection to the server and throw-away streams, each removed after use."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.js = nc.jetstream()

    @asynccontextmanager
    async def stream(self) -> AsyncIterator[tuple[str, str]]:
        name = f"BENCH_{uuid.uuid4().hex[:10].upper()}"
        subject = f"bench.{name.lower()}"
        await self.js.add_stream(
            StreamConfig(
                name=name,
                subjects=[subject],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
        )
        try:
            yield name, subject
        finally:
            await self.js.delete_stream(name)

    async def publish_sync(self, subject: str, payload: bytes, count: int) -> Rate:
        """One message at a time, each waiting for JetStream's acknowledgement."""
        started = time.perf_counter()
        for n in range(count):
            await self.js.publish(subject, payload, headers={"Nats-Msg-Id": f"s{n}"})
        return Rate(count, time.perf_counter() - started)

    async def publish_async(self, subject: str, payload: bytes, count: int, prefix: str = "a") -> Rate:
        """Pipelined: up to 4,000 publishes in flight, acknowledgements collected as they come."""
        started = time.perf_counter()
        futures = [
            await self.js.publish_async(subject, payload, headers={"Nats-Msg-Id": f"{prefix}{n}"}) for n in range(count)
        ]
        await asyncio.gather(*futures)
        return Rate(count, time.perf_counter() - started)

    async def pull_consume(self, stream: str, subject: str, count: int, batch: int) -> Rate:
        """A durable pull consumer: fetch(batch) and ack each message, until `count` are acknowledged."""
        durable = f"c{uuid.uuid4().hex[:8]}"
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=20_000,
        )
        sub = await self.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        done = 0
        started = time.perf_counter()
        while done < count:
            messages = await sub.fetch(batch=min(batch, count - done), timeout=5)
            for msg in messages:
                await msg.ack()
            done += len(messages)
        await self.nc.flush()
        seconds = time.perf_counter() - started
        await sub.unsubscribe()
        await self.js.delete_consumer(stream, durable)
        return Rate(done, seconds)

    async def hop_latency(self, stream: str, subject: str, payload: bytes, rate: int, seconds: float) -> Latency:
        """Publish at a fixed rate; a pull consumer (batch fetch + ack) timestamps each arrival."""
        durable = f"h{uuid.uuid4().hex[:8]}"
        config = ConsumerConfig(durable_name=durable, ack_policy=JsAckPolicy.EXPLICIT, max_ack_pending=20_000)
        sub = await self.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        sent: dict[str, float] = {}
        samples: list[float] = []
        total = int(rate * seconds)

        async def consume() -> None:
            while len(samples) < total:
                try:
                    messages = await sub.fetch(batch=256, timeout=1)
                except TimeoutError:
                    continue
                now = time.perf_counter()
                for msg in messages:
                    msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
                    if msg_id in sent:
                        samples.append(now - sent[msg_id])
                    await msg.ack()

        consumer = asyncio.create_task(consume())
        await paced(rate, total, lambda n: self._publish_timed(subject, payload, f"h{n}", sent))
        try:
            await asyncio.wait_for(consumer, timeout=30)
        finally:
            consumer.cancel()
            await sub.unsubscribe()
        return Latency(samples)

    async def _publish_timed(self, subject: str, payload: bytes, msg_id: str, sent: dict[str, float]) -> None:
        sent[msg_id] = time.perf_counter()
        await self.js.publish_async(subject, payload, headers={"Nats-Msg-Id": msg_id})


async def paced(rate: int, total: int, send: Callable[[int], Awaitable[None]]) -> float:
    """Call `send(n)` for n in range(total) at `rate` per second, on an absolute schedule (no drift)."""
    started = time.perf_counter()
    for n in range(total):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0.001:
            await asyncio.sleep(delay)
        await send(n)
    return time.perf_counter() - started


async def faststream_consume(url: str, stream: str, subject: str, count: int) -> Rate:
    """FastStream's pull consumer (batch 256) decoding each message into the event's pydantic model:
    the framework path, per message, that the services no longer take."""
    broker = NatsBroker(url, logger=logging.getLogger("bench.faststream"), log_level=10)
    received = 0
    finished = asyncio.Event()
    durable = f"f{uuid.uuid4().hex[:8]}"

    @broker.subscriber(
        subject,
        stream=JStream(stream, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=256, timeout=5.0),
        ack_policy=AckPolicy.ACK,
    )
    async def plain(event: ProgressRecorded) -> None:
        nonlocal received
        received += 1
        if received >= count:
            finished.set()

    started = time.perf_counter()
    await broker.start()
    try:
        await asyncio.wait_for(finished.wait(), timeout=120)
        seconds = time.perf_counter() - started
    finally:
        await broker.stop()
    return Rate(received, seconds)


async def kit_consume(nc: Client, stream: str, subject: str, count: int) -> Rate:
    """The kit's `BatchConsumer` (the services' seam) with the contract decoder and an apply that does
    nothing: what a duban service pays per message before its database."""
    js = nc.jetstream()
    durable = f"k{uuid.uuid4().hex[:8]}"
    await js.add_consumer(
        stream, ConsumerConfig(durable_name=durable, ack_policy=JsAckPolicy.EXPLICIT, filter_subject=subject)
    )
    metrics = ServiceMetrics("bench", registry=CollectorRegistry())

    async def no_dead_letters(_raw: Msg, _error: BaseException, _attempt: int) -> None:
        return None

    received = 0
    finished = asyncio.Event()

    async def nothing(events: Sequence[ProgressRecorded]) -> None:
        nonlocal received
        received += len(events)
        if received >= count:
            finished.set()

    consumer = BatchConsumer(
        stream=stream,
        durable=durable,
        decode=lambda msg: ProgressRecorded.model_validate_json(msg.data),
        apply=nothing,
        policy=DeliveryPolicy("bench", 5, 0.5, 30.0, 30.0, no_dead_letters, metrics),
        jetstream=lambda: js,
        batch_size=256,
        fetch_timeout=5.0,
        inbox_prefix=b"_INBOX.bench",
    )
    started = time.perf_counter()
    await consumer.start()
    try:
        await asyncio.wait_for(finished.wait(), timeout=120)
        seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
    return Rate(received, seconds)


@dataclass(frozen=True)
class RawResults:
    publish_sync: dict[str, Rate]
    publish_async: dict[str, Rate]
    pull_batch: dict[str, Rate]
    pull_one: Rate
    faststream_plain: Rate
    faststream_chassis: Rate
    hop_latency: Latency


async def measure(
    url: str,
    payloads: dict[str, bytes],
    *,
    count: int = 30_000,
    repeat: int = 3,
    progress: Callable[[str], None] = print,
) -> RawResults:
    nc = await nats.connect(url, name="duban-bench-raw")
    bus = RawBus(nc)
    publish_sync: dict[str, Rate] = {}
    publish_async: dict[str, Rate] = {}
    pull_batch: dict[str, Rate] = {}
    try:
        for kind, payload in payloads.items():
            sync_runs, async_runs, pull_runs = [], [], []
            for _ in range(repeat):
                async with bus.stream() as (stream, subject):
                    sync_runs.append(await bus.publish_sync(subject, payload, count // 10))
                    async_runs.append(await bus.publish_async(subject, payload, count))
                    pull_runs.append(await bus.pull_consume(stream, subject, count, batch=256))
            publish_sync[kind], publish_async[kind] = median_rate(sync_runs), median_rate(async_runs)
            pull_batch[kind] = median_rate(pull_runs)
            progress(
                f"  raw {kind} ({len(payload)} B): publish {publish_sync[kind].per_second:,.0f}/s one at a time, "
                f"{publish_async[kind].per_second:,.0f}/s pipelined; pull-consume "
                f"{pull_batch[kind].per_second:,.0f}/s"
            )
        event = payloads["event"]
        async with bus.stream() as (stream, subject):
            await bus.publish_async(subject, event, count // 10)
            pull_one = await bus.pull_consume(stream, subject, count // 10, batch=1)
        plain_runs, chassis_runs = [], []
        framework_count = count // 3  # FastStream is slower: fewer messages keep the phase short
        for _ in range(repeat):
            async with bus.stream() as (stream, subject):
                await bus.publish_async(subject, event, framework_count)
                plain_runs.append(await faststream_consume(url, stream, subject, framework_count))
            async with bus.stream() as (stream, subject):
                await bus.publish_async(subject, event, framework_count)
                chassis_runs.append(await kit_consume(nc, stream, subject, framework_count))
        progress(
            f"  FastStream pull consumer with pydantic model: {median_rate(plain_runs).per_second:,.0f}/s plain, "
            f"{median_rate(chassis_runs).per_second:,.0f}/s through the kit's BatchConsumer (no-op apply); "
            f"fetch one at a time {pull_one.per_second:,.0f}/s"
        )
        async with bus.stream() as (stream, subject):
            hop = await bus.hop_latency(stream, subject, event, rate=1000, seconds=5)
        progress(f"  raw hop at 1,000/s: p50 {hop.p50 * 1000:.2f} ms, p99 {hop.p99 * 1000:.2f} ms")
    finally:
        await nc.drain()
    return RawResults(
        publish_sync=publish_sync,
        publish_async=publish_async,
        pull_batch=pull_batch,
        pull_one=pull_one,
        faststream_plain=median_rate(plain_runs),
        faststream_chassis=median_rate(chassis_runs),
        hop_latency=hop,
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
