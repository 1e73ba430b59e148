"""The live event-time clock, for deployments where the services run without `duban up`.

`duban up` publishes `clock.ticked` every minute; in docker-compose and Kubernetes each service runs
on its own, so this process does it instead, as the `runtime` NATS user, and serves its /metrics on
DUBAN_RUNTIME_PORT (8100). Several replicas may run side by side: a tick's Nats-Msg-Id derives from
its time, so JetStream keeps one tick per minute however many clocks publish it.

Environment: DUBAN_NATS_URL, DUBAN_NATS_USER, DUBAN_NATS_PASSWORD, DUBAN_NATS_INBOX_PREFIX,
DUBAN_NAMESPACE, DUBAN_CLOCK_INTERVAL_SECONDS, DUBAN_RUNTIME_PORT.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import nats
from prometheus_client import Counter, Gauge, start_http_server

from duban.bus import publish_tick
from duban.settings import RuntimeSettings

log = logging.getLogger("duban.clock")

TICKS = Counter("duban_clock_ticks", "clock.ticked events published (duplicates of other replicas included).")
LAST_TICK = Gauge("duban_clock_last_tick_timestamp_seconds", "Event time of the last tick published.")


def connect_options(settings: RuntimeSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"name": "duban-clock", "max_reconnect_attempts": -1, "reconnect_time_wait": 1}
    if settings.nats_user and settings.nats_password is not None:
        options |= {"user": settings.nats_user, "password": settings.nats_password.get_secret_value()}
    if settings.nats_creds_file is not None:
        options["user_credentials"] = str(settings.nats_creds_file)
    if prefix := os.environ.get("DUBAN_NATS_INBOX_PREFIX"):
        options["inbox_prefix"] = prefix
    return options


async def run(settings: RuntimeSettings) -> None:
    if not settings.nats_url:
        raise SystemExit("DUBAN_NATS_URL is not set")
    nc = await nats.connect([url.strip() for url in settings.nats_url.split(",")], **connect_options(settings))
    interval = settings.clock_interval_seconds
    try:
        while True:
            at = datetime.now(UTC).replace(microsecond=0)
            try:
                await publish_tick(nc, settings.subjects, at)
            except Exception as error:  # NATS away for a moment: the next tick catches up
                log.warning("tick %s not published: %r", at.isoformat(), error)
            else:
                TICKS.inc()
                LAST_TICK.set(at.timestamp())
            await asyncio.sleep(interval - (time.time() % interval))
    finally:
        await nc.drain()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = RuntimeSettings()
    start_http_server(settings.runtime_port, addr="0.0.0.0")  # all interfaces: Prometheus scrapes it from outside
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
