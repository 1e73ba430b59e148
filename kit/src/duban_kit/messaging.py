"""Exactly-once effects on an at-least-once bus: the inbox and the outbox.

- The **inbox** records every event id a service has applied, in the same transaction as the
  effect, so a redelivered or duplicated event is recognised and skipped.
- The **outbox** holds the events a transaction produces, committed with it; a relay publishes them
  to JetStream with `Nats-Msg-Id` = event id (so a re-publish after a crash is dropped by the
  stream's duplicate window, and by consumers' inboxes after it) and only then deletes them.
A crash between the database commit and the publish therefore delays events; it never loses or
splits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import Event

from .db import Database, insert_all, inserted, one_of
from .faults import faults
from .metrics import ServiceMetrics
from .types import UtcDateTime

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
#: After a failed attempt the relay waits at least this long, even when a commit wakes it.
RESUME_AFTER_SECONDS = 0.25


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(100), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("processed_at", UtcDateTime(), nullable=False),
    )


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(100), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
    )


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, conn: AsyncConnection, consumer: str, event_ids: Sequence[str]) -> set[str]:
        """The ids among `event_ids` not yet applied, marked applied in the caller's transaction — one
        statement. A replica claiming the same id at once waits for this transaction: it commits (the id is
        theirs no more) or rolls back (the id is free again)."""
        if not event_ids:
            return set()
        now = datetime.now(UTC)
        # sorted: replicas claiming overlapping batches lock the ids in one order, so they wait, never deadlock
        values = [{"event_id": e, "consumer": consumer, "processed_at": now} for e in sorted(set(event_ids))]
        return set(await inserted(conn, self.table, values, keys=["event_id"], returning="event_id"))


class Outbox:
    def __init__(
        self,
        table: Table,
        on_commit: Callable[[], asyncio.Future[None] | None] | None = None,
        *,
        publish_wait_seconds: float = 5.0,
    ) -> None:
        self.table = table
        self._on_commit = on_commit
        self.publish_wait_seconds = publish_wait_seconds

    async def add(self, conn: AsyncConnection, items: Iterable[tuple[str, Event]]) -> int:
        """Stage events (subject, event) in the caller's transaction; returns how many."""
        now = datetime.now(UTC)
        values = [
            {
                "event_id": event.event_id,
                "subject": subject,
                "payload": event.model_dump_json().encode(),
                "created_at": now,
            }
            for subject, event in items
        ]
        await insert_all(conn, self.table, values)
        return len(values)

    def committed(self) -> None:
        """Tell the relay there is something to publish (call after the transaction commits)."""
        if self._on_commit is not None:
            self._on_commit()

    async def published(self) -> None:
        """Tell the relay, then wait (boundedly) until what was committed is in JetStream.

        Consumers call this before acknowledging: an acknowledged message's events are then already
        in their streams, so "every consumer caught up" means the cascade has run its course — what
        makes a replay deterministic and a drain exact. If the relay cannot publish (NATS down), the
        events stay safely in the outbox and the wait gives up after `publish_wait_seconds`.
        """
        waiter = self._on_commit() if self._on_commit is not None else None
        if waiter is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), timeout=self.publish_wait_seconds)


class OutboxRelay:
    """Publishes committed outbox rows to JetStream, in order, and deletes them once acknowledged."""

    def __init__(
        self,
        db: Database,
        table: Table,
        jetstream: Callable[[], JetStreamContext],
        metrics: ServiceMetrics,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        publish_timeout: float = 10.0,
        backoff_start_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
    ) -> None:
        self.db = db
        self.backoff_start_seconds = backoff_start_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.table = table
        self._jetstream = jetstream
        self.metrics = metrics
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self._idle = asyncio.Event()
        self._waiters: list[asyncio.Future[None]] = []
        self._failing = False
        self._notified = 0  # commits told so far (a waiter is not kept for each: see notify)

    def notify(self) -> asyncio.Future[None]:
        """Wake the relay; the future resolves once everything committed before this call is published."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._notified += 1
        self._wake.set()
        if self._stopping or self._failing:
            # Stopped, or NATS down or a row it keeps refusing: the events wait in the outbox, and
            # consumers must not be held up by up to `publish_wait_seconds` a batch meanwhile.
            waiter.set_result(None)
        else:
            self._waiters.append(waiter)
        return waiter

    async def run(self) -> None:
        backoff = self.backoff_start_seconds
        while not self._stopping:
            # A drain that starts after a waiter registered and reads less than a full batch has seen,
            # and published, every row committed before the waiter registered.
            waiting, self._waiters = self._waiters, []
            notified = self._notified
            try:
                published = await self.drain(waiting)
                backoff = self.backoff_start_seconds
                self._failing = False
            except asyncio.CancelledError:
                self._waiters = waiting + self._waiters
                raise
            except Exception as error:  # NATS or database down: wait and try again
                self._failing = True
                _release(waiting + self._waiters)
                self._waiters = []
                log.warning("outbox relay failed, retrying in %.1fs: %r", backoff, error)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.backoff_max_seconds)
                continue
            if published >= self.batch_size:
                self._waiters = waiting + self._waiters
                continue
            _release(waiting)
            if self._notified != notified:  # a commit since this drain began: its rows may be missing from it
                continue
            # Not a full batch and no commit since: nothing is left to publish (another replica's rows
            # are found by the next poll), so no second, empty read before sleeping.
            self._idle.set()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._idle.clear()

    async def _pause(self, backoff: float) -> None:
        """Wait `backoff` seconds before retrying, or less once a consumer commits again.

        A commit means the database is back, and whatever committed is waiting to be published; so
        the relay does not sleep out a long back-off after an outage. It still waits a moment, so that
        a stream of commits while NATS is away does not turn into a stream of failing attempts.
        """
        self._wake.clear()
        await asyncio.sleep(min(backoff, RESUME_AFTER_SECONDS))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, backoff - RESUME_AFTER_SECONDS))

    async def wait_idle(self) -> None:
        """Until the relay has published everything it found and sleeps until the next commit."""
        await self._idle.wait()

    @property
    def failing(self) -> bool:
        """Whether the last attempt to publish failed (NATS or the database away, or a row refused)."""
        return self._failing

    async def pending(self) -> int:
        """How many committed events are not yet published."""
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(self.table)) or 0)

    async def stop(self, timeout: float = 10.0) -> None:
        """Publish what is committed, then stop."""
        try:
            await asyncio.wait_for(self.drain_until_empty(), timeout=timeout)
        except Exception as error:
            log.warning("outbox not empty at shutdown (will be published on restart): %r", error)
        self._stopping = True
        self._wake.set()
        _release(self._waiters)
        self._waiters = []

    async def drain_until_empty(self) -> None:
        while await self.drain():
            pass

    async def drain(self, waiting: Sequence[asyncio.Future[None]] = ()) -> int:
        """Publish one batch; returns how many rows were published and removed.

        `waiting` are released as soon as JetStream has taken a batch that was not full (every row
        committed before they registered is then in a stream), before the rows are deleted: the
        delete is bookkeeping, and a crash before it only publishes them again (deduplicated).
        """
        if self.db.is_sqlite:
            # One relay per SQLite file: read without holding the single writer lock while publishing.
            async with self.db.read() as conn:
                rows = (await conn.execute(self._batch_query())).all()
            done = await self._publish(rows) if rows else []
            self._published(waiting, rows, done)
            async with self.db.begin() as conn:
                await self._remove(conn, done, read=len(rows))
        else:
            # Replicas share the table: lock the batch so that two relays never publish the same rows.
            async with self.db.begin() as conn:
                rows = (await conn.execute(self._batch_query().with_for_update(skip_locked=True))).all()
                done = await self._publish(rows) if rows else []
                self._published(waiting, rows, done)
                await self._remove(conn, done, read=len(rows))
        if len(done) < len(rows):
            raise RuntimeError(f"{len(rows) - len(done)} of {len(rows)} events not acknowledged by JetStream")
        return len(done)

    def _published(self, waiting: Sequence[asyncio.Future[None]], rows: Sequence[Any], done: list[int]) -> None:
        if waiting and len(rows) < self.batch_size and len(done) == len(rows):
            _release(waiting)

    def _batch_query(self) -> Select[Any]:
        t = self.table
        return select(t.c.id, t.c.event_id, t.c.subject, t.c.payload).order_by(t.c.id).limit(self.batch_size)

    async def _remove(self, conn: AsyncConnection, done: list[int], *, read: int) -> None:
        if done:
            await conn.execute(delete(self.table).where(one_of(conn, self.table.c.id, done)))
        if read < self.batch_size:
            # The outbox held no more than was read (rows committed since wait for the next drain):
            # what is left is what JetStream did not take. Only a full batch leaves a rest to count.
            self.metrics.outbox_pending.set(read - len(done))
        else:
            remaining = await conn.scalar(select(func.count()).select_from(self.table))
            self.metrics.outbox_pending.set(int(remaining or 0))

    async def _publish(self, rows: Sequence[Any]) -> list[int]:
        faults().crash_at("before_publish")
        js = self._jetstream()
        futures = []
        for row in rows:
            future = await js.publish_async(row.subject, row.payload, headers={MSG_ID_HEADER: row.event_id})
            futures.append(future)
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), timeout=self.publish_timeout
            )
        except TimeoutError:
            for future in futures:
                future.cancel()
            results = [f.result() if f.done() and not f.cancelled() else TimeoutError() for f in futures]
        done: list[int] = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                self.metrics.published.labels(subject=row.subject, outcome="error").inc()
                log.warning("publish of %s to %s failed: %r", row.event_id, row.subject, result)
                continue
            outcome = "duplicate" if getattr(result, "duplicate", False) else "ok"
            self.metrics.published.labels(subject=row.subject, outcome=outcome).inc()
            done.append(row.id)
        return done


def _release(waiters: Iterable[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
