"""The sender delivers a round of pending notifications, then records every outcome in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import insert, select

from duban_alerts.adapters import tables as t
from duban_alerts.adapters.notify import DeliveryResult
from duban_alerts.adapters.sender import NotificationSender
from duban_alerts.app import MIGRATIONS
from duban_alerts.config import AlertsSettings
from duban_alerts.domain import Notification, notification_to_json
from duban_kit.db import Database
from tests.alerts.test_notify import a_notification


class ScriptedNotifier:
    """Delivers the keys in `failing` with an error (their `.eml` would not be written), the rest fine."""

    def __init__(self, failing: set[str], raising: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.raising = raising
        self.delivered: list[str] = []

    async def deliver(self, notification: Notification) -> list[DeliveryResult]:
        if notification.key in self.raising:
            raise ValueError("header value contains a newline")
        self.delivered.append(notification.key)
        if notification.key in self.failing:
            return [DeliveryResult(notification.receiver, "smtp", False, 1, 451, "try later")]
        return [DeliveryResult(notification.receiver, "file", True, 1)]


def pending_rows(keys_and_attempts: list[tuple[str, int]]) -> list[dict[str, object]]:
    base = a_notification()
    created = datetime(2023, 6, 1, tzinfo=UTC)
    rows = []
    for minute, (key, attempts) in enumerate(keys_and_attempts):
        data = {**notification_to_json(base), "key": key}
        rows.append(
            {
                "key": key,
                "receiver": base.receiver,
                "data": json.dumps(data, ensure_ascii=False),
                "created_at": created + timedelta(minutes=minute),
                "status": "pending",
                "attempts": attempts,
            }
        )
    return rows


async def test_a_round_marks_delivered_sent_retries_failures_and_gives_up_after_the_last_attempt(
    database_url: str, namespace: str
) -> None:
    db = Database(database_url.replace("{service}", "alerts"), schema=namespace, service="alerts")
    await db.migrate(MIGRATIONS)
    settings = AlertsSettings(nats_url="nats://127.0.0.1:1", notify_max_attempts=3)
    rows = pending_rows([("ok", 0), ("again", 0), ("last", 2)])
    try:
        async with db.begin() as conn:
            await conn.execute(insert(t.notifications), rows)
        counter = Counter("sent", "", ["receiver", "outcome"], registry=CollectorRegistry())
        sender = NotificationSender(db, settings, {}, counter)
        notifier = ScriptedNotifier(failing={"again", "last"})
        assert await sender.send_pending(notifier) == 3  # type: ignore[arg-type]
        assert notifier.delivered == ["ok", "again", "last"]
        n = t.notifications
        async with db.read() as conn:
            stored = {
                r.key: r
                for r in await conn.execute(select(n.c.key, n.c.status, n.c.attempts, n.c.last_error, n.c.delivered_at))
            }
        assert (stored["ok"].status, stored["ok"].attempts, stored["ok"].last_error) == ("sent", 1, None)
        assert stored["ok"].delivered_at is not None
        assert (stored["again"].status, stored["again"].attempts) == ("pending", 1)
        assert stored["again"].last_error == "smtp: try later"
        assert stored["again"].delivered_at is None
        assert (stored["last"].status, stored["last"].attempts) == ("failed", 3)
        # The next round retries only what is still pending.
        notifier.delivered.clear()
        notifier.failing.clear()
        assert await sender.send_pending(notifier) == 1  # type: ignore[arg-type]
        assert notifier.delivered == ["again"]
    finally:
        await db.drop_schema()
        await db.dispose()


async def test_a_notification_that_cannot_be_sent_at_all_does_not_make_the_round_send_the_others_again(
    database_url: str, namespace: str
) -> None:
    db = Database(database_url.replace("{service}", "alerts"), schema=namespace, service="alerts")
    await db.migrate(MIGRATIONS)
    settings = AlertsSettings(nats_url="nats://127.0.0.1:1", notify_max_attempts=2)
    try:
        async with db.begin() as conn:
            await conn.execute(insert(t.notifications), pending_rows([("first", 0), ("broken", 0), ("third", 0)]))
        counter = Counter("sent", "", ["receiver", "outcome"], registry=CollectorRegistry())
        sender = NotificationSender(db, settings, {}, counter)
        notifier = ScriptedNotifier(failing=set(), raising=frozenset({"broken"}))
        for _ in range(3):
            await sender.send_pending(notifier)  # type: ignore[arg-type]
        assert notifier.delivered == ["first", "third"]  # each once, however often the round runs
        async with db.read() as conn:
            n = t.notifications
            stored = {r.key: r for r in await conn.execute(select(n.c.key, n.c.status, n.c.attempts, n.c.last_error))}
        assert (stored["broken"].status, stored["broken"].attempts) == ("failed", 2)
        assert "newline" in stored["broken"].last_error
    finally:
        await db.drop_schema()
        await db.dispose()
