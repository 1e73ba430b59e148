"""The sender: one delivery per notification and channel, each with its own outcome and retries, none holding
another up — against a real database, a real HTTP server and a real SMTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import insert, select, text

from duban_alerts.adapters import tables as t
from duban_alerts.adapters.notify import Channel, EmailReceiver, WebhookReceiver
from duban_alerts.adapters.sender import NotificationSender, delivery_counts
from duban_alerts.app import MIGRATIONS
from duban_alerts.config import AlertsSettings
from duban_alerts.domain import Notification, notification_to_json
from duban_kit.db import Database
from duban_kit.mail import SmtpServer, TlsMode
from tests.alerts.test_notify import a_notification
from tests.support.receivers import Mailbox, Script, http_server, smtp_server

LEADERS, SAFETY = "局领导", "安全稳定股"


@dataclass
class Rig:
    sender: NotificationSender
    db: Database
    registry: CollectorRegistry

    def counted(self, receiver: str, outcome: str) -> float:
        labels = {"receiver": receiver, "outcome": outcome}
        return self.registry.get_sample_value("duban_notifications_total", labels) or 0.0


@contextlib.asynccontextmanager
async def rig(
    database_url: str, namespace: str, channels: Mapping[str, Sequence[Channel]], **settings: Any
) -> AsyncIterator[Rig]:
    db = Database(database_url.replace("{service}", "alerts"), schema=namespace, service="alerts")
    await db.migrate(MIGRATIONS)
    fast = {"notify_interval_seconds": 0.05, "notify_retry_base_seconds": 0.05, "notify_retry_max_seconds": 0.2}
    config = AlertsSettings(nats_url="nats://127.0.0.1:1", **{**fast, **settings})
    registry = CollectorRegistry()
    counter = Counter("duban_notifications", "", ["receiver", "outcome"], registry=registry)
    try:
        yield Rig(NotificationSender(db, config, channels, counter), db, registry)
    finally:
        await db.drop_schema()
        await db.dispose()


def notification(receiver: str, key: str, minutes: int = 0) -> Notification:
    base = a_notification()
    return replace(base, key=key, receiver=receiver, created_at=base.created_at + timedelta(minutes=minutes))


async def stage(db: Database, *notifications: Notification, data: Callable[[Notification], str] | None = None) -> None:
    """As the desk does: the notifications committed, pending."""
    rows = [
        {
            "key": n.key,
            "receiver": n.receiver,
            "data": data(n) if data else json.dumps(notification_to_json(n), ensure_ascii=False),
            "created_at": n.created_at,
            "status": "pending",
        }
        for n in notifications
    ]
    async with db.begin() as conn:
        await conn.execute(insert(t.notifications), rows)


async def deliveries(db: Database) -> dict[tuple[str, str, str], Any]:
    """(notification key, receiver, kind) → its delivery row."""
    d = t.notification_deliveries
    async with db.read() as conn:
        rows = (await conn.execute(select(d))).all()
    return {(r.notification_key, r.receiver, r.kind): r for r in rows}


async def settled(rig: Rig, client: httpx.AsyncClient, expected: int, timeout: float = 30.0) -> dict[Any, Any]:
    """Run passes by hand until `expected` deliveries exist and every one is over (retries included)."""
    async with asyncio.timeout(timeout):
        while True:
            await rig.sender.dispatch(client)
            await rig.sender.drain()
            rows = await deliveries(rig.db)
            if len(rows) >= expected and all(r.status not in ("pending", "sending") for r in rows.values()):
                return rows
            await asyncio.sleep(0.02)


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


# --- retries ---------------------------------------------------------------------------------


async def test_a_failing_webhook_is_retried_alone_while_the_email_of_the_same_notification_goes_out_once(
    database_url: str, namespace: str
) -> None:
    mailbox = Mailbox()
    with http_server(Script([500])) as hook, smtp_server(mailbox) as port:
        email = EmailReceiver(("leader@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port))
        channels: dict[str, list[Channel]] = {LEADERS: [WebhookReceiver(hook.url), email]}
        async with rig(database_url, namespace, channels, notify_max_attempts=4) as r, httpx.AsyncClient() as client:
            await stage(r.db, notification(LEADERS, "n1"))
            rows = await settled(r, client, expected=2)
            claimed_afterwards = await r.sender.dispatch(client)

            assert len(hook.received) == 4
            assert len(mailbox.accepted) == 1
            webhook, mail = rows["n1", LEADERS, "webhook"], rows["n1", LEADERS, "email"]
            assert (webhook.status, webhook.attempts, webhook.last_error) == ("failed", 4, "HTTP 500")
            assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, None)
            assert claimed_afterwards == 0  # what is over is never taken up again
            assert (r.counted(LEADERS, "failed"), r.counted(LEADERS, "sent")) == (4.0, 1.0)


async def test_a_webhook_that_recovers_is_delivered_on_a_later_attempt_and_then_left_alone(
    database_url: str, namespace: str
) -> None:
    with http_server(Script([503, 503, 200])) as hook:
        async with rig(database_url, namespace, {SAFETY: [WebhookReceiver(hook.url)]}) as r, httpx.AsyncClient() as c:
            await stage(r.db, notification(SAFETY, "n1"))
            rows = await settled(r, c, expected=1)

    assert len(hook.received) == 3
    assert [h.headers["Idempotency-Key"] for h in hook.received] == ["n1"] * 3
    assert (rows["n1", SAFETY, "webhook"].status, rows["n1", SAFETY, "webhook"].attempts) == ("sent", 3)


async def test_a_refusal_that_retrying_cannot_change_fails_at_once(database_url: str, namespace: str) -> None:
    with http_server(Script([404])) as hook:
        async with rig(database_url, namespace, {SAFETY: [WebhookReceiver(hook.url)]}) as r, httpx.AsyncClient() as c:
            await stage(r.db, notification(SAFETY, "n1"))
            rows = await settled(r, c, expected=1)

    assert len(hook.received) == 1
    assert (rows["n1", SAFETY, "webhook"].status, rows["n1", SAFETY, "webhook"].attempts) == ("failed", 1)


# --- nobody waits for a slow endpoint --------------------------------------------------------


async def test_a_slow_webhook_holds_up_neither_an_email_nor_another_webhook(database_url: str, namespace: str) -> None:
    """The slow endpoint answers after a minute and the attempt may take 30 s; the others are delivered in a few
    seconds, while its attempt is still under way."""
    mailbox = Mailbox()
    with (
        http_server(Script([200], delays=[60.0])) as slow,
        http_server(Script([200])) as fast,
        smtp_server(mailbox) as port,
    ):
        email = EmailReceiver(("safety@bz.edu.cn",), smtp=SmtpServer("127.0.0.1", port))
        channels: dict[str, list[Channel]] = {
            LEADERS: [WebhookReceiver(slow.url)],
            SAFETY: [email, WebhookReceiver(fast.url)],
        }
        async with rig(database_url, namespace, channels, notify_timeout_seconds=30) as r:
            # The slow one first: a sender that went in order would wait for it.
            await stage(r.db, notification(LEADERS, "first", minutes=0), notification(SAFETY, "second", minutes=1))
            running = asyncio.create_task(r.sender.run())
            try:
                await until(lambda: len(slow.received) == 1, timeout=10)  # its attempt has begun
                rows = await _when(
                    r.db,
                    lambda rows: {rows["second", SAFETY, kind].status for kind in ("email", "webhook")} == {"sent"},
                    timeout=10,
                )
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)

    assert len(mailbox.accepted) == 1 and len(fast.received) == 1
    assert rows["first", LEADERS, "webhook"].status == "sending"  # still waiting for the slow endpoint


async def _when(db: Database, predicate: Callable[[dict[Any, Any]], bool], timeout: float) -> dict[Any, Any]:
    async with asyncio.timeout(timeout):
        while True:
            rows = await deliveries(db)
            with contextlib.suppress(KeyError):
                if predicate(rows):
                    return rows
            await asyncio.sleep(0.02)


async def test_an_attempt_longer_than_the_timeout_is_cut_off_and_tried_again(database_url: str, namespace: str) -> None:
    with http_server(Script([200], delays=[5.0, 5.0])) as slow:
        channels = {SAFETY: [WebhookReceiver(slow.url)]}
        async with (
            rig(database_url, namespace, channels, notify_timeout_seconds=0.3, notify_max_attempts=2) as r,
            httpx.AsyncClient() as client,
        ):
            await stage(r.db, notification(SAFETY, "n1"))
            rows = await settled(r, client, expected=1)

    delivery = rows["n1", SAFETY, "webhook"]
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.last_error == "no answer within 0.3 s"
    assert len(slow.received) == 2


# --- telling the truth about the outcome ----------------------------------------------------


async def test_without_smtp_an_email_is_recorded_and_counted_as_written_never_as_sent(
    database_url: str, namespace: str, tmp_path: Path
) -> None:
    channels = {LEADERS: [EmailReceiver(("leader@bz.edu.cn",), outbox=tmp_path / "mail")]}
    async with rig(database_url, namespace, channels) as r, httpx.AsyncClient() as client:
        await stage(r.db, notification(LEADERS, "n1"))
        rows = await settled(r, client, expected=1)

        assert rows["n1", LEADERS, "email"].status == "written"
        assert (r.counted(LEADERS, "written"), r.counted(LEADERS, "sent")) == (1.0, 0.0)
    assert (tmp_path / "mail" / "n1.eml").is_file()


async def test_starttls_required_without_starttls_is_recorded_as_failed_at_once_and_no_credentials_are_sent(
    database_url: str, namespace: str
) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none", login=True) as port:
        smtp = SmtpServer("127.0.0.1", port, tls=TlsMode.STARTTLS_REQUIRED, username="duban", password="secret")
        channels = {LEADERS: [EmailReceiver(("leader@bz.edu.cn",), smtp=smtp)]}
        async with rig(database_url, namespace, channels) as r, httpx.AsyncClient() as client:
            await stage(r.db, notification(LEADERS, "n1"))
            rows = await settled(r, client, expected=1)

    delivery = rows["n1", LEADERS, "email"]
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "does not offer STARTTLS" in delivery.last_error
    assert mailbox.logins == [] and mailbox.accepted == []


async def test_a_notification_that_cannot_be_built_fails_alone_and_a_receiver_without_channels_is_told_so(
    database_url: str, namespace: str
) -> None:
    with http_server(Script([200])) as hook:
        async with rig(database_url, namespace, {SAFETY: [WebhookReceiver(hook.url)]}) as r, httpx.AsyncClient() as c:
            await stage(r.db, notification(SAFETY, "good", minutes=1), notification("无此接收人", "nobody"))
            await stage(r.db, notification(SAFETY, "broken"), data=lambda n: '{"key": "broken"}')
            rows = await settled(r, c, expected=3)

    assert [h.headers["Idempotency-Key"] for h in hook.received] == ["good"]
    assert rows["good", SAFETY, "webhook"].status == "sent"
    assert (rows["broken", SAFETY, "webhook"].status, rows["broken", SAFETY, "webhook"].attempts) == ("failed", 1)
    nobody = rows["nobody", "无此接收人", "none"]
    assert (nobody.status, nobody.attempts) == ("failed", 0)
    assert "no channel is configured" in nobody.last_error


async def test_every_notification_gets_its_deliveries_once_and_is_marked_dispatched(
    database_url: str, namespace: str, tmp_path: Path
) -> None:
    email = EmailReceiver(("a@bz.edu.cn",), outbox=tmp_path)
    channels: dict[str, list[Channel]] = {LEADERS: [WebhookReceiver("http://127.0.0.1:9/a"), email]}
    async with rig(database_url, namespace, channels) as r:
        await stage(r.db, *(notification(LEADERS, f"n{i}", minutes=i) for i in range(5)))
        before = await delivery_counts(r.db)
        passes = [await r.sender.fan_out(limit=3) for _ in range(3)]
        after = await delivery_counts(r.db)
        rows = await deliveries(r.db)
        async with r.db.read() as conn:
            statuses = set((await conn.execute(select(t.notifications.c.status))).scalars())

    assert passes == [3, 2, 0]
    assert (before["queued"], before["pending"]) == (5, 0)  # under way before any delivery exists
    assert (after["queued"], after["pending"]) == (0, 10)
    assert len(rows) == 10
    assert {(kind, row.status) for (_, _, kind), row in rows.items()} == {("webhook", "pending"), ("email", "pending")}
    assert statuses == {"dispatched"}


# --- records from before per-channel deliveries ----------------------------------------------


async def test_notifications_recorded_before_per_channel_deliveries_keep_their_outcome_and_pending_ones_go_out(
    database_url: str, namespace: str, tmp_path: Path
) -> None:
    db = Database(database_url.replace("{service}", "alerts"), schema=namespace, service="alerts")

    def to_0001(connection: Any) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    try:
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            await conn.run_sync(to_0001)
        old = [
            ("told", "sent", 1, None, datetime(2023, 6, 1, 8, 1, tzinfo=UTC)),
            ("refused", "failed", 10, "smtp: 554 rejected", None),
            ("waiting", "pending", 2, "webhook: HTTP 503", None),
        ]
        async with db.begin() as conn:
            for key, status, attempts, error, delivered in old:
                data = json.dumps(notification_to_json(notification(LEADERS, key)), ensure_ascii=False)
                await conn.execute(
                    text(
                        "INSERT INTO notifications (key, receiver, data, created_at, status, attempts, last_error, "
                        "delivered_at) VALUES (:key, :receiver, :data, :created, :status, :attempts, :error, :at)"
                    ),
                    {
                        "key": key,
                        "receiver": LEADERS,
                        "data": data,
                        "created": datetime(2023, 6, 1, 8, tzinfo=UTC),
                        "status": status,
                        "attempts": attempts,
                        "error": error,
                        "at": delivered,
                    },
                )
        await db.migrate(MIGRATIONS)
        counter = Counter("duban_notifications", "", ["receiver", "outcome"], registry=CollectorRegistry())
        channels: dict[str, list[Channel]] = {LEADERS: [EmailReceiver(("a@bz.edu.cn",), outbox=tmp_path)]}
        sender = NotificationSender(db, AlertsSettings(nats_url="nats://127.0.0.1:1"), channels, counter)
        async with httpx.AsyncClient() as client:
            await sender.dispatch(client)
            await sender.drain()
        rows = await deliveries(db)
    finally:
        await db.drop_schema()
        await db.dispose()

    told, refused = rows["told", LEADERS, "legacy"], rows["refused", LEADERS, "legacy"]
    assert (told.status, told.attempts, told.finished_at) == ("sent", 1, datetime(2023, 6, 1, 8, 1, tzinfo=UTC))
    assert (refused.status, refused.attempts, refused.last_error) == ("failed", 10, "smtp: 554 rejected")
    assert rows["waiting", LEADERS, "email"].status == "written"
    assert len(rows) == 3
    assert [path.name for path in tmp_path.glob("*.eml")] == ["waiting.eml"]
