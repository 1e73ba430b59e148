"""Faults 4 and 5: the database away for ten seconds; a poison message dead-lettered, the rest flowing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from nats.aio.client import Client

from duban.bus import wait_quiet
from duban.dlq import dead_letters, replay
from duban.isolated import isolated_stack
from duban_contracts.events import ProgressMode, ProgressRecorded, UnitRef, derived_event_id
from duban_contracts.subjects import Subjects
from tests.reliability.support import actuals, assert_exactly_once, publish, workload
from tests.support.bus import publish_event

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]


class TcpCut:
    """A TCP proxy in front of the database that can drop every connection and refuse new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port or self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
        self._writers.discard(sink)


@contextlib.asynccontextmanager
async def proxied(url: str) -> AsyncIterator[tuple[TcpCut, str]]:
    parts = urlsplit(url)
    proxy = TcpCut(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    netloc = f"{parts.username + '@' if parts.username else ''}127.0.0.1:{proxy.port}"
    try:
        yield proxy, urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    finally:
        await proxy.cut()


async def test_ten_seconds_without_the_database_loses_nothing_and_recovers_unattended(
    nc: Client, nats_url: str, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    subjects = Subjects(namespace)
    load = workload(namespace, 300, drownings=10)
    # Consumers retry at most a second apart, so they are back long before the outbox relays end their
    # back-off: quiet must then mean "the outboxes are empty too", and the relays must not sleep it out.
    fast_retries = {"DUBAN_RETRY_MAX_SECONDS": "1"}
    async with (
        proxied(postgres_url) as (proxy, via_proxy),
        isolated_stack(
            nats_url=nats_url, namespace=namespace, home=tmp_path, database_url=via_proxy, extra_env=fast_retries
        ) as stack,
    ):
        await publish(nc, subjects, load.items[:100])
        await proxy.cut()
        await publish(nc, subjects, load.items[100:])  # JetStream keeps accepting
        await asyncio.sleep(10)
        await proxy.start()
        await wait_quiet(nc, stack.settings.topology, timeout=180)
        await assert_exactly_once(nc, subjects, load)
        assert stack.supervisor is not None
        restarts = {name: service.restarts for name, service in stack.supervisor.services.items()}
        logs = "".join((tmp_path / "var" / "log" / f"{s}.log").read_text(encoding="utf-8") for s in ("ingest", "tasks"))
    assert set(restarts.values()) == {0}
    assert "transient" in logs  # the consumers backed off (nak with delay) rather than giving up


def poisoned_progress(n: int, target_id: str, day: str) -> ProgressRecorded:
    at = datetime.fromisoformat(f"{day}T02:00:00+00:00")
    unit = UnitRef(id="bz-ez", name="巴中市第二中学")
    return ProgressRecorded(
        event_id=derived_event_id("poison", n),
        occurred_at=at,
        recorded_at=at,
        source=unit.id,
        unit=unit,
        target_id=target_id,
        value=100,
        measure_unit="平方米",
        mode=ProgressMode.INCREMENT,
    )


async def test_a_poison_message_is_retried_then_dead_lettered_and_the_stream_behind_it_flows(
    nc: Client, nats_url: str, postgres_url: str, namespace: str, tmp_path: Path
) -> None:
    """Valid JSON that makes a handler raise: a target id longer than the column that stores it."""
    subjects = Subjects(namespace)
    poison = poisoned_progress(1, "t07_" + "x" * 200, "2023-03-01")
    good = [poisoned_progress(n, "t07_school_building_new", "2023-04-01") for n in range(2, 12)]
    env = {"DUBAN_RETRY_BASE_SECONDS": "0.05", "DUBAN_MAX_ATTEMPTS": "4"}
    async with isolated_stack(
        nats_url=nats_url, namespace=namespace, home=tmp_path, database_url=postgres_url, extra_env=env
    ) as stack:
        await publish_event(nc, subjects, poison)
        for event in good:
            await publish_event(nc, subjects, event)
        await wait_quiet(nc, stack.settings.topology, timeout=120)
        flowed = await actuals(nc, subjects)
        letters = await dead_letters(nc, subjects)
        replayed = await replay(nc, subjects, letters[0]["sequence"])
        await wait_quiet(nc, stack.settings.topology, timeout=120)
        after_replay = await dead_letters(nc, subjects)

    assert flowed["t07_school_building_new"] == 1000
    by_service = {letter["service"]: letter for letter in letters}
    assert set(by_service) == {"tasks", "reports"}  # the two services that store target ids
    for letter in by_service.values():
        assert letter["attempts"] == 4
        assert letter["subject"] == subjects.event("progress.recorded")
        assert "StringDataRightTruncation" in letter["error"] or "too long" in letter["error"]
    assert replayed["to"] == subjects.event("progress.recorded")
    # The replay goes to the subject, so every consumer of it sees the poison again: those that had
    # applied it would skip it (inbox); both that failed fail again and dead-letter it anew.
    assert len(after_replay) == len(letters) - 1 + 2
    assert letters[0]["sequence"] not in {letter["sequence"] for letter in after_replay}
