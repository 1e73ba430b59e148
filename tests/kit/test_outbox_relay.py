"""The outbox relay over real NATS: consumers wait for their events, but not for a row NATS refuses."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nats.aio.client import Client
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.topology import Topology
from duban_kit.db import Database
from duban_kit.messaging import Outbox, OutboxRelay
from duban_kit.metrics import ServiceMetrics
from duban_tasks.adapters import tables
from duban_tasks.app import MIGRATIONS
from tests.tasks.test_tasks_service import SCHOOL_A, progress

#: Far longer than the test may take: if a consumer waited for a refused row, the test would fail.
NEVER = 3600.0
BOUND = 60.0


async def test_a_row_nats_refuses_stays_in_the_outbox_and_does_not_hold_up_the_consumers(
    nc: Client, database_url: str, namespace: str
) -> None:
    db = Database(database_url.replace("{service}", "tasks"), schema=namespace, service="tasks")
    await db.migrate(MIGRATIONS)
    relay = OutboxRelay(db, tables.outbox, nc.jetstream, ServiceMetrics("relay-test"), publish_timeout=5.0)
    outbox = Outbox(tables.outbox, on_commit=relay.notify, publish_wait_seconds=NEVER)
    running = asyncio.create_task(relay.run())
    try:
        async with db.begin() as conn:  # no stream takes this subject: JetStream refuses it every time
            await outbox.add(conn, [(f"{namespace}.nowhere", progress(1, SCHOOL_A, 10, "2023-03-01"))])
        await asyncio.wait_for(outbox.published(), BOUND)  # released by the failed attempt
        await asyncio.wait_for(outbox.published(), BOUND)  # and the next batch does not wait at all
        async with db.read() as conn:
            assert await conn.scalar(select(func.count()).select_from(tables.outbox)) == 1  # kept, not lost
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await db.drop_schema()
        await db.dispose()


async def test_after_an_outage_a_commit_wakes_the_relay_instead_of_letting_it_sleep_out_its_back_off(
    nc: Client, database_url: str, topology: Topology
) -> None:
    """NATS refused a row (an outage); once it is fixed, the next commit is published at once."""
    db = Database(database_url.replace("{service}", "tasks"), schema=topology.subjects.namespace, service="tasks")
    await db.migrate(MIGRATIONS)
    relay = OutboxRelay(
        db, tables.outbox, nc.jetstream, ServiceMetrics("relay-test"), publish_timeout=5.0, backoff_start_seconds=NEVER
    )
    outbox = Outbox(tables.outbox, on_commit=relay.notify, publish_wait_seconds=NEVER)
    running = asyncio.create_task(relay.run())
    subject = topology.subjects.event("progress.recorded")
    try:
        async with db.begin() as conn:
            await outbox.add(
                conn, [(f"{topology.subjects.namespace}.nowhere", progress(1, SCHOOL_A, 10, "2023-03-01"))]
            )
        await asyncio.wait_for(outbox.published(), BOUND)  # the attempt failed: the relay now backs off for NEVER
        assert relay.failing
        async with db.begin() as conn:  # the outage ends: the refused row goes, a consumer commits again
            await conn.execute(delete(tables.outbox))
            await outbox.add(conn, [(subject, progress(2, SCHOOL_A, 10, "2023-03-02"))])
        outbox.committed()
        async with asyncio.timeout(BOUND):
            while await relay.pending():  # noqa: ASYNC110 - the table is the truth
                await asyncio.sleep(0.05)
        info = await nc.jetstream().stream_info(topology.streams["events"].name)
        assert info.state.messages == 1
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await db.drop_schema()
        await db.dispose()


class _HeldBookkeeping(OutboxRelay):
    """The real relay, its delete of published rows held until the test lets it go."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()

    async def _remove(self, conn: AsyncConnection, done: list[int], *, read: int) -> None:
        if done:
            await self.gate.wait()
        await super()._remove(conn, done, read=read)


async def test_a_consumer_waits_for_its_events_to_be_in_the_stream_not_for_the_relays_bookkeeping(
    nc: Client, database_url: str, topology: Topology
) -> None:
    db = Database(database_url.replace("{service}", "tasks"), schema=topology.subjects.namespace, service="tasks")
    await db.migrate(MIGRATIONS)
    relay = _HeldBookkeeping(db, tables.outbox, nc.jetstream, ServiceMetrics("relay-test"), publish_timeout=5.0)
    outbox = Outbox(tables.outbox, on_commit=relay.notify, publish_wait_seconds=NEVER)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.wait_idle(), BOUND)  # the commit below wakes it, as a consumer's would
        async with db.begin() as conn:
            await outbox.add(
                conn, [(topology.subjects.event("progress.recorded"), progress(1, SCHOOL_A, 10, "2023-03-01"))]
            )
        await asyncio.wait_for(outbox.published(), BOUND)  # released while the delete is held
        info = await nc.jetstream().stream_info(topology.streams["events"].name)
        assert info.state.messages == 1
        if db.is_sqlite:  # PostgreSQL's relay deletes in the transaction that read the rows: not visible yet
            assert await relay.pending() == 1
        relay.gate.set()
        async with asyncio.timeout(BOUND):
            while await relay.pending():  # noqa: ASYNC110 - the table is the truth
                await asyncio.sleep(0.05)
    finally:
        relay.gate.set()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await db.drop_schema()
        await db.dispose()
