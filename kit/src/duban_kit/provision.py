"""Create or update the streams and durable consumers of a namespace — idempotently.

An admin step (`duban provision`, or `duban up` before it starts the services): services only bind
to what exists, so their NATS users need no rights to create or change streams.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from duban_contracts.topology import ConsumerSpec, StreamSpec, Topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisionReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=float(spec.max_age_seconds),
        duplicate_window=float(spec.duplicate_window_seconds),
        max_msg_size=spec.max_msg_size,
        discard=DiscardPolicy.OLD,
        num_replicas=spec.replicas,
        allow_direct=True,
    )


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=spec.durable,
        name=spec.durable,
        description=spec.description,
        filter_subject=spec.filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=spec.ack_wait_seconds,
        # The services decide when to give up (ReliabilityMiddleware dead-letters); the server must
        # never silently stop delivering a message.
        max_deliver=-1,
        max_ack_pending=spec.max_ack_pending,
    )


_STREAM_FIELDS = ("subjects", "max_age", "duplicate_window", "max_msg_size", "num_replicas", "description")
_CONSUMER_FIELDS = ("filter_subject", "ack_wait", "max_ack_pending", "description")


async def provision(nc: Client, topology: Topology) -> ProvisionReport:
    js = nc.jetstream()
    report = ProvisionReport([], [], [])
    for spec in topology.streams.values():
        wanted = stream_config(spec)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            report.created.append(f"stream {spec.name}")
            continue
        if any(_differs(getattr(info.config, f), getattr(wanted, f)) for f in _STREAM_FIELDS):
            await js.update_stream(wanted)
            report.updated.append(f"stream {spec.name}")
        else:
            report.unchanged.append(f"stream {spec.name}")
    for consumer in topology.consumers:
        wanted_consumer = consumer_config(consumer)
        try:
            cinfo = await js.consumer_info(consumer.stream, consumer.durable)
        except NotFoundError:
            await js.add_consumer(consumer.stream, wanted_consumer)
            report.created.append(f"consumer {consumer.durable}")
            continue
        if any(_differs(getattr(cinfo.config, f), getattr(wanted_consumer, f)) for f in _CONSUMER_FIELDS):
            await js.add_consumer(consumer.stream, wanted_consumer)  # add_consumer updates in place
            report.updated.append(f"consumer {consumer.durable}")
        else:
            report.unchanged.append(f"consumer {consumer.durable}")
    log.info("provisioned", extra={"created_objects": report.created, "updated_objects": report.updated})
    return report


async def deprovision(nc: Client, topology: Topology) -> None:
    """Delete the namespace's streams (and with them their consumers)."""
    js = nc.jetstream()
    for spec in topology.streams.values():
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)


def _differs(current: object, wanted: object) -> bool:
    if isinstance(current, list) and isinstance(wanted, list):
        return sorted(map(str, current)) != sorted(map(str, wanted))
    if isinstance(current, float | int) and isinstance(wanted, float | int):
        return abs(float(current) - float(wanted)) > 1e-6
    return current != wanted
