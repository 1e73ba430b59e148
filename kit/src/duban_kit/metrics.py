"""Prometheus metrics every service exposes, in a registry of its own (base units, `_total`, `_seconds`)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.info = Info("duban_service", "The running duban service.", registry=r)
        self.info.info({"service": service})
        self.consumed = Counter(
            "duban_messages_consumed",
            "Messages consumed, by subject and outcome (ok, redelivered, rejected, error).",
            ["subject", "outcome"],
            registry=r,
        )
        self.published = Counter(
            "duban_messages_published",
            "Messages published, by subject and outcome (ok, duplicate, error).",
            ["subject", "outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "duban_dead_letters", "Messages moved to the dead-letter stream, by subject.", ["subject"], registry=r
        )
        self.handler_duration = Histogram(
            "duban_handler_duration_seconds",
            "Time from a message reaching its handler to its acknowledgement.",
            ["subject"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.db_duration = Histogram(
            "duban_db_query_duration_seconds",
            "Database statement duration, by SQL operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_pending = Gauge(
            "duban_consumer_pending_messages",
            "Messages in the stream not yet delivered to this durable consumer (from consumer info).",
            ["consumer"],
            registry=r,
        )
        self.consumer_ack_pending = Gauge(
            "duban_consumer_ack_pending_messages",
            "Messages delivered to this durable consumer and not yet acknowledged (from consumer info).",
            ["consumer"],
            registry=r,
        )
        self.consumer_redelivered = Gauge(
            "duban_consumer_redelivered_messages",
            "Messages currently being redelivered to this durable consumer (from consumer info).",
            ["consumer"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "duban_outbox_pending_events", "Events committed to the outbox and not yet published.", registry=r
        )
        self._newest_event_time: float | None = None
        self.event_time_lag = Gauge(
            "duban_event_time_lag_seconds",
            "Wall-clock now minus the newest event time processed (0 before the first event).",
            registry=r,
        )
        self.event_time_lag.set_function(self._lag)
        self.batch_size = Histogram(
            "duban_commit_batch_size",
            "Messages committed together in one database transaction.",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=r,
        )

    def saw_event_time(self, epoch_seconds: float) -> None:
        if self._newest_event_time is None or epoch_seconds > self._newest_event_time:
            self._newest_event_time = epoch_seconds

    def _lag(self) -> float:
        if self._newest_event_time is None:
            return 0.0
        return max(0.0, time.time() - self._newest_event_time)
