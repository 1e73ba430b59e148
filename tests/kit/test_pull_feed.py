"""kit's pull feed on a real JetStream: a batch as soon as the server has sent it, whatever late statuses say."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig

from duban_kit.consumer import PullFeed

#: Far longer than anything here takes: a fetch that runs into it has waited out its whole timeout.
PATIENCE = 15.0


@pytest.fixture
async def feed(nats_url: str) -> AsyncIterator[tuple[Client, PullFeed, str]]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream, subject = f"FEED_{uuid.uuid4().hex[:8].upper()}", f"feed.{uuid.uuid4().hex[:8]}"
    await js.add_stream(name=stream, subjects=[subject])
    await js.add_consumer(stream, ConsumerConfig(durable_name="d", ack_policy=AckPolicy.EXPLICIT))
    pull = await PullFeed.open(js, stream, "d", b"_INBOX.")
    try:
        yield nc, pull, subject
    finally:
        await pull.close()
        await js.delete_stream(stream)
        await nc.close()


async def test_a_fetch_returns_what_is_there_and_times_out_on_nothing(feed: tuple[Client, PullFeed, str]) -> None:
    nc, pull, subject = feed
    js = nc.jetstream()
    for n in range(5):
        await js.publish(subject, f"{n}".encode())
    batch = await asyncio.wait_for(pull.fetch(3, timeout=60), PATIENCE)
    rest = await asyncio.wait_for(pull.fetch(10, timeout=60), PATIENCE)
    assert [m.data for m in batch + rest] == [b"0", b"1", b"2", b"3", b"4"]
    for msg in batch + rest:
        await msg.ack()
    with pytest.raises(TimeoutError):
        await pull.fetch(10, timeout=0.2)


async def test_a_message_arriving_while_waiting_returns_at_once(feed: tuple[Client, PullFeed, str]) -> None:
    nc, pull, subject = feed
    fetching = asyncio.create_task(pull.fetch(256, timeout=60))
    await asyncio.sleep(0.2)  # the request is waiting on the server
    await nc.jetstream().publish(subject, b"late")
    batch = await asyncio.wait_for(fetching, PATIENCE)
    assert [m.data for m in batch] == [b"late"]
    assert batch[0].metadata.num_delivered == 1


async def test_a_late_status_of_an_earlier_request_does_not_end_the_current_one(
    feed: tuple[Client, PullFeed, str],
) -> None:
    """nats-py's fetch took such a status for its own and then sat out its whole timeout."""
    nc, pull, subject = feed
    with pytest.raises(TimeoutError):
        await pull.fetch(256, timeout=0.2)  # request 1, ended by the server
    fetching = asyncio.create_task(pull.fetch(256, timeout=60))  # request 2
    await asyncio.sleep(0.2)
    await nc.publish(f"{pull._deliver}.1", b"", headers={"Status": "408", "Description": "Request Timeout"})
    await asyncio.sleep(0.2)
    assert not fetching.done()  # request 2 still waits for messages
    await nc.jetstream().publish(subject, b"after")
    batch = await asyncio.wait_for(fetching, PATIENCE)
    assert [m.data for m in batch] == [b"after"]


async def test_messages_an_earlier_request_brought_late_are_handed_out_next(
    feed: tuple[Client, PullFeed, str],
) -> None:
    nc, pull, subject = feed
    await nc.jetstream().publish(subject, b"one")
    first = await asyncio.wait_for(pull.fetch(256, timeout=60), PATIENCE)
    await nc.publish(f"{pull._deliver}.1", b"stray")  # delivered for request 1 after its fetch returned
    await asyncio.sleep(0.2)
    second = await asyncio.wait_for(pull.fetch(256, timeout=60), PATIENCE)
    assert [m.data for m in first] == [b"one"]
    assert [m.data for m in second] == [b"stray"]
