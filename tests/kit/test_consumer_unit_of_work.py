"""kit's consumer seam without NATS: the unit of work on SQLite, and a batch's fate with stand-in messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from duban_contracts.events import ClockTicked, derived_event_id
from duban_contracts.subjects import Subjects
from duban_kit.consumer import BatchConsumer, DeliveryPolicy, PermanentError
from duban_kit.db import Database
from duban_kit.messaging import Inbox, Outbox
from duban_kit.metrics import ServiceMetrics
from duban_kit.units import UnitHooks, UnitOfWork, Units
from duban_tasks.adapters import tables
from duban_tasks.app import MIGRATIONS

START = datetime(2023, 3, 1, tzinfo=UTC)


def tick(n: int) -> ClockTicked:
    at = START + timedelta(minutes=n)
    return ClockTicked(event_id=derived_event_id("uow-test", n), occurred_at=at, recorded_at=at, source="test")


@dataclass
class Recorder(UnitHooks):
    """A service's table and hooks that remember what kit did, and fail on request."""

    batches: list[list[str]] = field(default_factory=list)
    poison: set[str] = field(default_factory=set)
    hooks: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    gate: asyncio.Event | None = None  # set: the first batch is held in its transaction until the gate opens

    async def apply(self, uow: UnitOfWork, events: Sequence[ClockTicked]) -> None:
        self.batches.append([e.event_id for e in events])
        if self.gate is not None and len(self.batches) == 1:
            await self.gate.wait()
        uow.publish(events)  # echoed, to see the outbox filled in the same transaction
        uow.after_commit(lambda: self.after.append("committed"))
        if self.poison & {e.event_id for e in events}:
            raise ValueError("poison")

    async def opened(self, uow: UnitOfWork) -> None:
        self.hooks.append("opened")

    async def closing(self, uow: UnitOfWork) -> None:
        self.hooks.append("closing")

    def rolled_back(self) -> None:
        self.hooks.append("rolled back")

    def committed(self, uow: UnitOfWork) -> None:
        self.hooks.append("committed")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/tasks.db", schema="unused", service="tasks")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


def units_of(
    db: Database, recorder: Recorder, metrics: ServiceMetrics | None = None, urgent: tuple[str, ...] = ()
) -> Units:
    return Units(
        "tasks",
        {"clock.ticked": recorder.apply, "clock.ticked.again": recorder.apply},  # two consumers' types
        db=db,
        inbox=Inbox(tables.inbox),
        outbox=Outbox(tables.outbox),
        subjects=Subjects("uowtest"),
        metrics=metrics or ServiceMetrics("tasks", registry=CollectorRegistry()),
        hooks=recorder,
        urgent=urgent,
    )


async def stored(db: Database, table: Any) -> list[str]:
    async with db.read() as conn:
        return sorted(row[0] for row in await conn.execute(select(table.c.event_id)))


async def test_a_batch_is_applied_once_with_its_new_events_and_its_effects_commit_together(db: Database) -> None:
    recorder = Recorder()
    metrics = ServiceMetrics("tasks", registry=CollectorRegistry())
    units = units_of(db, recorder, metrics)
    first, second, third = tick(1), tick(2), tick(3)

    await units.run("clock.ticked", [first, second, first])  # a duplicate inside the batch
    await units.run("clock.ticked", [second, third])  # one seen before

    assert recorder.batches == [[first.event_id, second.event_id], [third.event_id]]
    assert await stored(db, tables.inbox) == sorted(e.event_id for e in (first, second, third))
    assert await stored(db, tables.outbox) == sorted(e.event_id for e in (first, second, third))
    assert recorder.hooks == ["opened", "closing", "committed"] * 2
    assert recorder.after == ["committed", "committed"]
    assert next(iter(metrics.event_time_lag.collect())).samples[0].value > 0  # the newest event time was recorded


async def test_a_batch_with_nothing_new_does_not_call_the_service(db: Database) -> None:
    recorder = Recorder()
    units = units_of(db, recorder)
    await units.run("clock.ticked", [tick(1)])
    await units.run("clock.ticked", [tick(1)])
    assert len(recorder.batches) == 1


async def test_a_failing_batch_leaves_no_trace_and_tells_the_service(db: Database) -> None:
    recorder = Recorder(poison={tick(2).event_id})
    units = units_of(db, recorder)
    with pytest.raises(ValueError, match="poison"):
        await units.run("clock.ticked", [tick(1), tick(2)])
    assert await stored(db, tables.inbox) == []
    assert await stored(db, tables.outbox) == []
    assert recorder.hooks == ["opened", "rolled back"]
    assert recorder.after == []


async def test_batches_that_wait_for_a_transaction_commit_together_in_the_order_they_came(db: Database) -> None:
    recorder = Recorder(gate=asyncio.Event())
    metrics = ServiceMetrics("tasks", registry=CollectorRegistry())
    units = units_of(db, recorder, metrics)
    held = asyncio.create_task(units.run("clock.ticked", [tick(1)]))
    await asyncio.sleep(0.05)  # the first batch is in its transaction
    waiting = [
        asyncio.create_task(units.run("clock.ticked.again", [tick(2)])),
        asyncio.create_task(units.run("clock.ticked", [tick(3), tick(4)])),
    ]
    await asyncio.sleep(0.05)
    assert recorder.batches == [[tick(1).event_id]]  # the others wait their turn

    recorder.gate.set()  # type: ignore[union-attr]
    await asyncio.gather(held, *waiting)

    assert recorder.batches == [[tick(1).event_id], [tick(2).event_id], [tick(3).event_id, tick(4).event_id]]
    assert recorder.hooks == ["opened", "closing", "committed"] * 2  # two transactions for three batches
    committed = {s.name: s.value for s in next(iter(metrics.batch_size.collect())).samples}
    assert (committed["duban_commit_batch_size_count"], committed["duban_commit_batch_size_sum"]) == (2, 4)
    assert await stored(db, tables.inbox) == sorted(tick(n).event_id for n in (1, 2, 3, 4))
    assert await stored(db, tables.outbox) == sorted(tick(n).event_id for n in (1, 2, 3, 4))


async def test_an_urgent_batch_that_waits_goes_first_and_alone(db: Database) -> None:
    recorder = Recorder(gate=asyncio.Event())
    units = units_of(db, recorder, urgent=("clock.ticked.again",))
    held = asyncio.create_task(units.run("clock.ticked", [tick(1)]))
    await asyncio.sleep(0.05)
    waiting = [
        asyncio.create_task(units.run("clock.ticked", [tick(2)])),
        asyncio.create_task(units.run("clock.ticked.again", [tick(3)])),  # came later, goes first
        asyncio.create_task(units.run("clock.ticked", [tick(4)])),
    ]
    await asyncio.sleep(0.05)
    recorder.gate.set()  # type: ignore[union-attr]
    await asyncio.gather(held, *waiting)

    assert recorder.batches == [[tick(n).event_id] for n in (1, 3, 2, 4)]
    assert recorder.hooks == ["opened", "closing", "committed"] * 3  # the urgent one alone, then the others
    assert await stored(db, tables.inbox) == sorted(tick(n).event_id for n in (1, 2, 3, 4))


def test_an_urgent_type_must_be_one_the_service_consumes(db: Database) -> None:
    with pytest.raises(ValueError, match="urgent event types it does not consume"):
        units_of(db, Recorder(), urgent=("incident.reported",))


async def test_a_poison_batch_in_a_group_commit_fails_alone(db: Database) -> None:
    recorder = Recorder(gate=asyncio.Event(), poison={tick(3).event_id})
    units = units_of(db, recorder)
    held = asyncio.create_task(units.run("clock.ticked", [tick(1)]))
    await asyncio.sleep(0.05)
    good = asyncio.create_task(units.run("clock.ticked.again", [tick(2)]))
    bad = asyncio.create_task(units.run("clock.ticked", [tick(3)]))
    await asyncio.sleep(0.05)
    recorder.gate.set()  # type: ignore[union-attr]

    await asyncio.gather(held, good)
    with pytest.raises(ValueError, match="poison"):
        await bad

    assert await stored(db, tables.inbox) == sorted(tick(n).event_id for n in (1, 2))
    assert await stored(db, tables.outbox) == sorted(tick(n).event_id for n in (1, 2))
    # together (rolled back), then each alone: the good one commits, the poison one rolls back
    assert recorder.hooks[3:] == ["opened", "rolled back", "opened", "closing", "committed", "opened", "rolled back"]


async def test_a_batch_whose_consumer_stops_before_its_turn_is_left_for_redelivery(db: Database) -> None:
    recorder = Recorder(gate=asyncio.Event())
    units = units_of(db, recorder)
    held = asyncio.create_task(units.run("clock.ticked", [tick(1)]))
    await asyncio.sleep(0.05)
    stopped = asyncio.create_task(units.run("clock.ticked.again", [tick(2)]))
    await asyncio.sleep(0.05)
    stopped.cancel()
    recorder.gate.set()  # type: ignore[union-attr]
    await held
    with pytest.raises(asyncio.CancelledError):
        await stopped

    assert await stored(db, tables.inbox) == [tick(1).event_id]  # tick 2 was never applied: it comes again


# --- a batch's fate: BatchConsumer.handle with stand-in JetStream messages -------------------


@dataclass
class Metadata:
    num_delivered: int


@dataclass
class StandInMessage:
    """What BatchConsumer reads of a nats-py Msg, and the replies it sends."""

    data: bytes
    attempt: int
    subject: str = "uowtest.v1.clock.ticked"
    headers: dict[str, str] | None = None
    replies: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Metadata:
        return Metadata(self.attempt)

    async def ack(self) -> None:
        self.replies.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.replies.append("nak")

    async def in_progress(self) -> None:
        self.replies.append("in progress")


def consumer(units: Units, dead: list[tuple[str, int]], max_attempts: int = 3) -> BatchConsumer:
    async def dead_letter(raw: Msg, error: BaseException, attempt: int) -> None:
        dead.append((raw.data.decode(errors="replace")[:20], attempt))

    policy = DeliveryPolicy(
        service="tasks",
        max_attempts=max_attempts,
        retry_base_seconds=0.5,
        retry_max_seconds=30.0,
        ack_wait_seconds=30.0,
        dead_letter=dead_letter,
        metrics=units.metrics,
    )

    async def apply(events: Sequence[Any]) -> None:
        await units.run("clock.ticked", events)

    def decode(msg: Msg) -> ClockTicked:
        if msg.data == b"undecodable":
            raise PermanentError("not a contract")
        return ClockTicked.model_validate_json(msg.data)

    def no_jetstream() -> Any:
        raise AssertionError("handle() needs no JetStream")

    return BatchConsumer(
        stream="S",
        durable="tasks-clock-ticked",
        decode=decode,
        apply=apply,
        policy=policy,
        jetstream=no_jetstream,
        batch_size=10,
        fetch_timeout=1.0,
        inbox_prefix=b"_INBOX.",
    )


def messages(*items: tuple[bytes, int]) -> list[StandInMessage]:
    return [StandInMessage(data, attempt) for data, attempt in items]


async def test_a_good_batch_is_one_call_and_every_message_is_acked_after_the_commit(db: Database) -> None:
    recorder = Recorder()
    batch = messages(*((tick(n).model_dump_json().encode(), 1) for n in range(5)))
    await consumer(units_of(db, recorder), []).handle(cast(list[Msg], batch))
    assert len(recorder.batches) == 1 and len(recorder.batches[0]) == 5
    assert [m.replies for m in batch] == [["ack"]] * 5
    assert len(await stored(db, tables.inbox)) == 5


async def test_a_poison_message_fails_alone_and_is_dead_lettered_on_its_last_attempt(db: Database) -> None:
    poison = tick(2)
    recorder = Recorder(poison={poison.event_id})
    dead: list[tuple[str, int]] = []
    batch = messages(
        (tick(1).model_dump_json().encode(), 1),
        (poison.model_dump_json().encode(), 3),  # the last allowed attempt
        (b"undecodable", 1),
        (tick(3).model_dump_json().encode(), 1),
    )
    await consumer(units_of(db, recorder), dead, max_attempts=3).handle(cast(list[Msg], batch))

    good, poisoned, undecodable, other = batch
    assert good.replies == ["ack"] and other.replies == ["ack"]  # applied one by one after the batch failed
    assert poisoned.replies == ["ack"]  # dead-lettered, then acked so the stream behind it flows
    assert undecodable.replies == ["ack"]  # a contract violation is dead-lettered at once
    assert [attempt for _, attempt in dead] == [1, 3]
    assert await stored(db, tables.inbox) == sorted([tick(1).event_id, tick(3).event_id])


async def test_a_poison_message_before_its_last_attempt_is_retried_later(db: Database) -> None:
    poison = tick(2)
    dead: list[tuple[str, int]] = []
    batch = messages((tick(1).model_dump_json().encode(), 1), (poison.model_dump_json().encode(), 1))
    await consumer(units_of(db, Recorder(poison={poison.event_id})), dead).handle(cast(list[Msg], batch))
    assert [m.replies for m in batch] == [["ack"], ["nak"]]
    assert dead == []
