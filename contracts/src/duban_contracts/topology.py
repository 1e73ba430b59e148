"""Who consumes and publishes what, and the JetStream streams and durable consumers behind it.

Declared once here; `duban provision` (an admin step, not the services) creates or updates the
streams and consumers idempotently, the NATS permissions in `deploy/nats/` are generated from it,
and a contract test checks that every service subscribes and publishes only what it declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .subjects import Subjects

DAY = 24 * 3600


@dataclass(frozen=True)
class ServiceTopology:
    name: str
    consumes_inbound: bool = False
    consumes: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()


TOPOLOGY: dict[str, ServiceTopology] = {
    t.name: t
    for t in (
        ServiceTopology(
            name="ingest",
            consumes_inbound=True,
            publishes=(
                "progress.recorded",
                "incident.reported",
                "measurement.recorded",
                "activity.recorded",
                "case.recorded",
                "submission.rejected",
            ),
        ),
        ServiceTopology(
            name="tasks",
            consumes=("progress.recorded", "activity.recorded", "measurement.recorded", "clock.ticked"),
            publishes=("task.status_changed",),
        ),
        ServiceTopology(
            name="alerts",
            consumes=(
                "incident.reported",
                "measurement.recorded",
                "activity.recorded",
                "case.recorded",
                "task.status_changed",
                "clock.ticked",
            ),
            publishes=("alert.raised", "alert.updated", "alert.resolved"),
        ),
        ServiceTopology(
            name="reports",
            consumes=(
                "progress.recorded",
                "submission.rejected",
                "incident.reported",
                "measurement.recorded",
                "activity.recorded",
                "task.status_changed",
                "alert.raised",
                "alert.updated",
                "alert.resolved",
                "clock.ticked",
            ),
            publishes=("report.generated",),
        ),
    )
}

#: Published by the runtime (`duban up`, the simulator), not by a service.
RUNTIME_PUBLISHES: tuple[str, ...] = ("clock.ticked",)


@dataclass(frozen=True)
class StreamSpec:
    key: str
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: int
    duplicate_window_seconds: int
    max_msg_size: int
    replicas: int = 1


@dataclass(frozen=True)
class ConsumerSpec:
    service: str
    stream: str
    durable: str
    filter_subject: str
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 5000
    description: str = ""


@dataclass(frozen=True)
class Topology:
    """The streams and consumers of one namespace."""

    subjects: Subjects
    replicas: int = 1
    duplicate_window_seconds: int = 600
    inbound_retention_days: int = 90
    event_retention_days: int = 800
    ack_wait_seconds: float = 30.0
    streams: dict[str, StreamSpec] = field(init=False)
    consumers: tuple[ConsumerSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        s = self.subjects
        streams = {
            "inbound": StreamSpec(
                key="inbound",
                name=s.stream_name("IN"),
                subjects=(s.inbound_all,),
                description="Raw submissions as integrations sent them; may hold personal data, kept "
                f"{self.inbound_retention_days} days for correction and replay.",
                max_age_seconds=self.inbound_retention_days * DAY,
                duplicate_window_seconds=self.duplicate_window_seconds,
                max_msg_size=64 * 1024,
                replicas=self.replicas,
            ),
            "events": StreamSpec(
                key="events",
                name=s.stream_name("EVENTS"),
                subjects=tuple(s.all_events()),
                description="Canonical events (duban.v1.*), the system's history.",
                max_age_seconds=self.event_retention_days * DAY,
                duplicate_window_seconds=self.duplicate_window_seconds,
                max_msg_size=256 * 1024,
                replicas=self.replicas,
            ),
            "dlq": StreamSpec(
                key="dlq",
                name=s.stream_name("DLQ"),
                subjects=(s.dead_letter_all,),
                description="Messages a service gave up on, with the error and attempt count.",
                max_age_seconds=self.inbound_retention_days * DAY,
                duplicate_window_seconds=self.duplicate_window_seconds,
                max_msg_size=512 * 1024,
                replicas=self.replicas,
            ),
        }
        consumers: list[ConsumerSpec] = []
        for service in TOPOLOGY.values():
            if service.consumes_inbound:
                consumers.append(
                    ConsumerSpec(
                        service=service.name,
                        stream=streams["inbound"].name,
                        durable=inbound_consumer_name(service.name),
                        # The shared subject and every integration's own (`<ns>.in.submission.<id>`):
                        # the whole inbound stream, which holds nothing else.
                        filter_subject=s.inbound_all,
                        ack_wait_seconds=self.ack_wait_seconds,
                        description=f"{service.name}: inbound submissions",
                    )
                )
            for event_type in service.consumes:
                consumers.append(
                    ConsumerSpec(
                        service=service.name,
                        stream=streams["events"].name,
                        durable=consumer_name(service.name, event_type),
                        filter_subject=s.event(event_type),
                        ack_wait_seconds=self.ack_wait_seconds,
                        description=f"{service.name}: {event_type}",
                    )
                )
        object.__setattr__(self, "streams", streams)
        object.__setattr__(self, "consumers", tuple(consumers))

    def consumers_of(self, service: str) -> list[ConsumerSpec]:
        return [c for c in self.consumers if c.service == service]

    def consumer(self, service: str, event_type: str) -> ConsumerSpec:
        durable = consumer_name(service, event_type)
        for c in self.consumers:
            if c.durable == durable:
                return c
        raise KeyError(f"{service} does not consume {event_type}")

    def inbound_consumer(self, service: str) -> ConsumerSpec:
        durable = inbound_consumer_name(service)
        for c in self.consumers:
            if c.durable == durable:
                return c
        raise KeyError(f"{service} does not consume inbound submissions")


def consumer_name(service: str, event_type: str) -> str:
    return f"{service}-{event_type.replace('.', '-').replace('_', '-')}"


def inbound_consumer_name(service: str) -> str:
    return f"{service}-submission"
