"""The consumer unit of work: how a batch of events becomes one committed transaction.

A service declares one table, *event type → apply(uow, events)*, and kit does the rest in one
place and one order, for every service:

1. open the transaction (a service's `UnitHooks.opened` runs first: take a lock, load state);
2. check the inbox: events already applied, or twice in the batch, are dropped;
3. call the service's `apply` once with the new events, typed (decoded contracts);
4. mark their ids in the inbox;
5. `UnitHooks.closing` (save state, advance a clock), then stage the events `apply` published in the
   outbox, and commit;
6. after the commit: tell the relay and wait (boundedly) until the staged events are in JetStream,
   record the newest event time, run what `apply` asked to run after the commit.

Acknowledging the messages is the consumer's job (`consumer.BatchConsumer`), after all this.

Batches that arrive while a transaction is under way (a service's consumers of different event types
fetch at once) wait, and go together into the next one: one commit for all of them (a group commit),
each type's `apply` called in turn in the order the batches arrived. If that transaction fails, each
batch is applied again on its own, so a poison message fails only its own batch. A service may name
*urgent* event types (alerts: incidents): while a batch of them waits, the next transaction takes the
urgent batches alone, so a pupil's drowning is not judged behind a large batch of progress figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from duban_contracts.events import Event
from duban_contracts.subjects import Subjects
from duban_contracts.topology import consumer_name

from .db import Database
from .messaging import Inbox, Outbox
from .metrics import ServiceMetrics


class UnitOfWork:
    """One transaction: its connection, the new events it applies, what it publishes."""

    def __init__(self, conn: AsyncConnection, *, is_sqlite: bool) -> None:
        self.conn = conn
        self.is_sqlite = is_sqlite
        #: The batch as delivered, repeats included (empty for a command): what `UnitHooks.opened` can see.
        self.offered: Sequence[Any] = ()
        #: The batch's events not applied before (empty for a command); of every batch a group commit holds.
        self.events: list[Any] = []
        self.staged: list[Event] = []
        self._after_commit: list[Callable[[], None]] = []
        self._seen: datetime | None = None

    def publish(self, events: Iterable[Event]) -> None:
        """Stage events in the outbox: committed with this transaction, published after it."""
        self.staged.extend(events)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def saw(self, event_time: datetime) -> None:
        """Count an event time the new events do not carry (e.g. of an inbound submission's event)."""
        self._seen = event_time if self._seen is None else max(self._seen, event_time)

    @property
    def latest(self) -> datetime | None:
        """The newest event time among the new events (and those `saw`)."""
        latest = max((e.occurred_at for e in self.events), default=None)
        if self._seen is not None and (latest is None or self._seen > latest):
            return self._seen
        return latest


class Apply(Protocol):
    def __call__(self, uow: UnitOfWork, events: Sequence[Any], /) -> Awaitable[None]: ...


class UnitHooks:
    """What a service adds around kit's transaction. Every method is optional (does nothing here)."""

    def serialised(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held around the whole transaction, commit included (e.g. a lock on in-memory state)."""
        return contextlib.nullcontext()

    async def opened(self, uow: UnitOfWork) -> None:
        """First in the transaction, before the inbox check (e.g. lock a row every writer shares)."""

    async def closing(self, uow: UnitOfWork) -> None:
        """Last before the outbox and the commit (e.g. save in-memory state, advance a clock)."""

    def rolled_back(self) -> None:
        """The transaction failed: forget in-memory state it may have changed."""

    def committed(self, uow: UnitOfWork) -> None:
        """The transaction committed (before the outbox is awaited)."""


@dataclass(eq=False)
class _Batch:
    """A batch of one event type waiting for a transaction, and the outcome its consumer awaits."""

    event_type: str
    events: Sequence[Any]
    outcome: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Units:
    """A service's units of work: its table of appliers, the database, the inbox and the outbox."""

    def __init__(
        self,
        service: str,
        table: Mapping[str, Apply],
        *,
        db: Database,
        inbox: Inbox | None,
        outbox: Outbox | None,
        subjects: Subjects | None,
        metrics: ServiceMetrics,
        hooks: UnitHooks | None = None,
        settled: Mapping[str, Callable[[Sequence[Any]], Awaitable[None]]] | None = None,
        urgent: Iterable[str] = (),
    ) -> None:
        """`inbox` may be None where the items are not events and `apply` recognises repeats itself (ingest's
        submissions, by submission id); `outbox` and `subjects` may be None for a service whose consumers
        publish nothing; `settled` names, per event type, idempotent work to do after every batch commits
        (duplicates included); `urgent` event types go into a transaction of their own ahead of the others."""
        self.service = service
        self.table = dict(table)
        self.db = db
        self.inbox = inbox
        self.outbox = outbox
        self.subjects = subjects
        self.metrics = metrics
        self.hooks = hooks or UnitHooks()
        self.settled = dict(settled or {})
        self.urgent = frozenset(urgent)
        if unknown := self.urgent - self.table.keys():
            raise ValueError(f"{service}: urgent event types it does not consume: {sorted(unknown)}")
        self._consumers = {event_type: consumer_name(service, event_type) for event_type in self.table}
        self._waiting: list[_Batch] = []
        self._turn = asyncio.Lock()  # one batch transaction at a time; who holds it takes every waiting batch

    @contextlib.asynccontextmanager
    async def transaction(self, offered: Sequence[Any] = ()) -> AsyncIterator[UnitOfWork]:
        """One unit of work; a command (no inbox) uses it directly, `run` for a batch of events."""
        hooks = self.hooks
        async with hooks.serialised():
            try:
                async with self.db.begin() as conn:
                    uow = UnitOfWork(conn, is_sqlite=self.db.is_sqlite)
                    uow.offered = offered
                    await hooks.opened(uow)
                    yield uow
                    await hooks.closing(uow)
                    if uow.staged:
                        if self.outbox is None or self.subjects is None:
                            raise RuntimeError(f"{self.service} publishes from a unit of work without an outbox")
                        subject = self.subjects.event
                        await self.outbox.add(conn, ((subject(e.event_type), e) for e in uow.staged))
            except BaseException:
                hooks.rolled_back()
                raise
            hooks.committed(uow)
        if uow.staged and self.outbox is not None:
            await self.outbox.published()
        latest = uow.latest
        if latest is not None:
            self.metrics.saw_event_time(latest.timestamp())
        for callback in uow._after_commit:
            callback()

    async def run(self, event_type: str, events: Sequence[Any]) -> None:
        """Apply a batch of decoded events of `event_type` exactly once (with whatever batches wait beside it)."""
        batch = _Batch(event_type, events)
        self._waiting.append(batch)
        try:
            async with self._turn:
                while not batch.outcome.done():  # else an earlier holder took it along
                    await self._commit_together(self._next_group())
        except asyncio.CancelledError:
            if batch in self._waiting:  # stopping before its turn: no one applies it; it is redelivered
                self._waiting.remove(batch)
            elif batch.outcome.done() and not batch.outcome.cancelled():
                batch.outcome.exception()  # interrupted with the others: seen here, not logged as lost
            raise
        await batch.outcome
        follow_up = self.settled.get(event_type)
        if follow_up is not None:
            await follow_up(events)

    def _next_group(self) -> list[_Batch]:
        """Every waiting batch, or only the urgent ones while some wait (the others go next)."""
        urgent = [batch for batch in self._waiting if batch.event_type in self.urgent]
        if not urgent:
            taken, self._waiting = self._waiting, []
            return taken
        self._waiting = [batch for batch in self._waiting if batch.event_type not in self.urgent]
        return urgent

    async def _commit_together(self, batches: list[_Batch]) -> None:
        """One transaction for `batches`; if it fails, one each, so every batch gets its own outcome."""
        try:
            try:
                await self._apply(batches)
                outcomes: list[Exception | None] = [None] * len(batches)
            except Exception as error:
                outcomes = [error] if len(batches) == 1 else [await self._alone(batch) for batch in batches]
        except asyncio.CancelledError:  # stopping: the batches' messages are not acked, so they come again
            for batch in batches:
                _settle(batch, TransactionInterrupted("the service stopped during the batch's transaction"))
            raise
        for batch, outcome in zip(batches, outcomes, strict=True):
            _settle(batch, outcome)

    async def _alone(self, batch: _Batch) -> Exception | None:
        try:
            await self._apply([batch])
        except Exception as error:
            return error
        return None

    async def _apply(self, batches: list[_Batch]) -> None:
        offered = [event for batch in batches for event in batch.events]
        async with self.transaction(offered) as uow:
            for batch in batches:
                apply = self.table[batch.event_type]
                if self.inbox is None:  # the service recognises repeats itself
                    await apply(uow, batch.events)
                    continue
                ids = [e.event_id for e in batch.events]
                if fresh_ids := await self.inbox.claim(uow.conn, self._consumers[batch.event_type], ids):
                    fresh = list({e.event_id: e for e in batch.events if e.event_id in fresh_ids}.values())
                    uow.events.extend(fresh)
                    await apply(uow, fresh)
        self.metrics.batch_size.observe(len(offered))

    def batch(self, event_type: str) -> Callable[[Sequence[Any]], Awaitable[list[None]]]:
        """`run` for one event type, as a function of the batch (in-process callers: tests, benchmarks)."""

        async def run(events: Sequence[Any]) -> list[None]:
            await self.run(event_type, events)
            return [None] * len(events)

        return run


class TransactionInterrupted(Exception):
    """The transaction a batch was in was cancelled (the service is stopping): it comes again."""


def _settle(batch: _Batch, error: BaseException | None) -> None:
    if batch.outcome.done():
        return
    if error is None:
        batch.outcome.set_result(None)
    else:
        batch.outcome.set_exception(error)
